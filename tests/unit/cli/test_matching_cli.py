"""``hst matching fit`` and ``evaluate`` on labelled reports written as an NCB would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.linkage import load_model
from pipeline.generate import GeneratorConfig, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Persons of 400 generated messages, labelled with their true identity."""
    data = generate(GeneratorConfig(count=400, seed=71))
    path = tmp_path_factory.mktemp("labelled") / "pairs.ndjson"
    with path.open("w") as out:
        for m in data.messages:
            for p in m.get("persons") or []:
                entity = data.truth.get(m["message_id"], {}).get(p["person_id"])
                if entity:
                    line = {"entity": entity, "person": p, "source_ncb": m["source_ncb"]}
                    out.write(json.dumps(line) + "\n")
    return path


def test_a_model_fitted_on_labelled_reports_is_written_and_judged(
    labelled: Path, tmp_path: Path
) -> None:
    model_file = tmp_path / "person-test-v1.json"
    fitted = runner.invoke(
        app,
        ["matching", "fit", str(labelled), "--name", "person-test-v1", "-o", str(model_file),
         "--samples", "20000"],
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    assert "20000/20000" in fitted.output  # progress, to the last pair of the sample
    model = load_model(str(model_file))
    assert model.version == "person-test-v1" and 0.5 <= model.threshold < 1
    assert model.blocking == ["ky", "kmd", "kk", "dob"]
    judged = runner.invoke(app, ["matching", "evaluate", str(labelled), "--model", str(model_file)])
    assert judged.exit_code == 0, judged.output
    assert "strong identifiers: precision 1.000, recall 1.000" in judged.output
    assert "person-test-v1 on pairs.ndjson" in judged.output
    assert "reachable at P≥0.99" in judged.output
    looser = runner.invoke(
        app,
        ["matching", "evaluate", str(labelled), "--model", str(model_file), "--precision", "0.9"],
    )
    assert looser.exit_code == 0 and "reachable at P≥0.9" in looser.output


def test_a_model_fitted_on_reports_without_labels_is_written(tmp_path: Path) -> None:
    data = generate(GeneratorConfig(count=1500, seed=73))
    path = tmp_path / "reports.ndjson"  # what an NCB has: persons, nobody's identity
    lines = [{"person": p, "source_ncb": m["source_ncb"]}
             for m in data.messages for p in m.get("persons") or []]  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    model_file = tmp_path / "person-em-v1.json"
    fitted = runner.invoke(
        app,
        ["matching", "fit", str(path), "--unlabelled", "--name", "person-em-v1",
         "-o", str(model_file), "--samples", "20000", "--blocking", "ky,kmd,dob"],
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    assert "20000/20000" in fitted.output
    model = load_model(str(model_file))
    assert model.version == "person-em-v1" and 0.5 <= model.threshold < 1
    assert model.notes[0].startswith("unlabelled: EM over")
    assert model.weight_of("birth", "exact") > 5 > model.weight_of("birth", "else")
    without = runner.invoke(app, ["matching", "fit", str(path), "--name", "x", "-o", "m.json"])
    assert without.exit_code == 1 and "reports.ndjson:1: entity" in without.output


def test_a_bad_line_is_named_with_its_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    good = {"entity": "a", "person": {"name": {"given_name": "Omar", "family_name": "Said"}}}
    path.write_text(json.dumps(good) + "\n" + json.dumps({"person": good["person"]}) + "\n")
    result = runner.invoke(app, ["matching", "evaluate", str(path)])
    assert result.exit_code == 1
    assert "bad.ndjson:2: entity" in result.output
    path.write_text(json.dumps({**good, "person": {**good["person"], "birth_date": "1990"}}))
    result = runner.invoke(app, ["matching", "fit", str(path), "--name", "x", "-o", "m.json"])
    assert result.exit_code == 1 and "bad.ndjson:1: person.birth_date" in result.output


def test_an_unknown_model_is_refused_with_the_shipped_ones_named(labelled: Path) -> None:
    result = runner.invoke(app, ["matching", "evaluate", str(labelled), "--model", "nope"])
    assert result.exit_code == 1
    assert "person-hst-v1" in result.output and "person-febrl-v1" in result.output


def test_refile_refuses_an_unknown_model_before_reading_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HST_PERSON_MODEL", "person-nope-v9")
    result = runner.invoke(app, ["matching", "refile", "--dry-run"])
    assert result.exit_code == 1
    assert "person-nope-v9" in result.output and "person-hst-v1" in result.output
