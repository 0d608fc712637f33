"""Schema evolution: every version BACKWARD compatible with the previous one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline.codec.compat import check_store
from pipeline.codec.schemas import SchemaStore, schemas_dir


def test_project_schemas_parse_and_evolve_backward_compatibly() -> None:
    results = check_store(SchemaStore())
    assert results, "no schemas found"
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert any(r.subject == "hst_message" and r.version == 2 and r.previous == 1 for r in results)


def test_a_new_required_field_is_caught(tmp_path: Path) -> None:
    shutil.copytree(schemas_dir() / "hst_message", tmp_path / "hst_message")
    v2 = json.loads((tmp_path / "hst_message" / "v2.avsc").read_text())
    v2["fields"].append({"name": "mandatory_new", "type": "string"})  # no default: breaks readers
    (tmp_path / "hst_message" / "v3.avsc").write_text(json.dumps(v2))
    results = {(r.subject, r.version): r for r in check_store(SchemaStore(tmp_path))}
    assert results[("hst_message", 2)].ok
    bad = results[("hst_message", 3)]
    assert not bad.ok
    assert "mandatory_new" in bad.detail
