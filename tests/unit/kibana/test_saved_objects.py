"""Kibana saved objects: committed as exported, references resolve, fields exist with usable types."""

from __future__ import annotations

import http.server
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from pipeline.kibana.client import KibanaError, import_objects
from pipeline.kibana.objects import MESSAGES, SYNTHESIS, saved_objects, to_ndjson
from pipeline.search.mappings import MAPPINGS, SYNTHESIS_MAPPINGS
from pipeline.settings import Settings
from pipeline.stack.servers import free_port

ROOT = Path(__file__).resolve().parents[3]
NUMERIC = {"integer", "long", "float", "double"}
AGG_TYPES = {"date_histogram": {"date"}, "terms": {"keyword", "boolean"} | NUMERIC,
             "sum": NUMERIC, "avg": NUMERIC, "max": NUMERIC}  # fmt: skip


def _fields(mappings: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in mappings["properties"].items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            out.update(_fields(spec, f"{path}."))
        else:
            out[path] = spec["type"]
    return out


FIELDS = {MESSAGES: _fields(MAPPINGS), SYNTHESIS: _fields(SYNTHESIS_MAPPINGS)}


def _view(obj: dict[str, Any]) -> str:
    return next(r["id"] for r in obj["references"] if r["type"] == "index-pattern")


def _kql_fields(query: str) -> list[str]:
    """Field names of a KQL query, nested ``persons:{ a : x }`` resolved to ``persons.a``."""
    out = []
    for nested, inner in re.findall(r"(\w+):\{([^}]*)\}", query):
        out += [f"{nested}.{f}" for f in re.findall(r"([\w.]+)\s*:", inner)]
    rest = re.sub(r"\w+:\{[^}]*\}", "", query)
    out += re.findall(r"([\w.]+)\s*(?::|>=|<=|>|<)", rest)
    return out


def test_committed_ndjson_is_the_export() -> None:
    committed = (ROOT / "deploy" / "kibana" / "hst.ndjson").read_text(encoding="utf-8")
    assert committed == to_ndjson(saved_objects()), "run `hst kibana export` and commit the file"


def test_every_reference_resolves_and_every_view_the_issue_names_exists() -> None:
    objects = saved_objects()
    ids = {(o["type"], o["id"]) for o in objects}
    for o in objects:
        for r in o["references"]:
            assert (r["type"], r["id"]) in ids, (o["id"], r)
    titles = " | ".join(o["attributes"]["title"] for o in objects)
    for wanted in ("person", "document", "phone", "network", "high priority", "minors", "map", "routes",
                   "week", "exploitation", "largest networks", "pipeline health"):  # fmt: skip
        assert wanted in titles.lower(), wanted


def test_every_field_exists_with_a_type_its_use_needs() -> None:
    checked = 0
    for o in saved_objects():
        attrs = o["attributes"]
        if o["type"] == "index-pattern":
            assert FIELDS[o["id"]][attrs["timeFieldName"]] == "date"
            continue
        if o["type"] == "dashboard":
            continue
        if o["type"] == "map":
            for layer in json.loads(attrs["layerListJSON"]):
                source = layer["sourceDescriptor"]
                if source["type"] != "ES_SEARCH":
                    continue
                assert FIELDS[MESSAGES][source["geoField"]] == "geo_point"
                for f in [*source["tooltipProperties"], source["sortField"]]:
                    assert f in FIELDS[MESSAGES], f
                size = layer["style"]["properties"]["iconSize"]["options"]["field"]["name"]
                assert FIELDS[MESSAGES][size] in NUMERIC
                checked += 1
            continue
        fields = FIELDS[_view(o)]
        query = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
        for f in _kql_fields(query):
            assert f in fields, (o["id"], f)
            checked += 1
        if o["type"] == "search":
            for f in attrs["columns"] + [s[0] for s in attrs["sort"]]:
                assert f in fields, (o["id"], f)
                checked += 1
        if o["type"] == "visualization":
            for agg in json.loads(attrs["visState"])["aggs"]:
                if agg["type"] == "count":
                    continue
                field = agg["params"]["field"]
                assert fields.get(field) in AGG_TYPES[agg["type"]], (
                    o["id"],
                    agg["type"],
                    field,
                    fields.get(field),
                )
                checked += 1
    assert checked > 40


def test_import_posts_every_object_with_overwrite_and_the_xsrf_header() -> None:
    seen: dict[str, Any] = {}

    class Kibana(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["path"] = self.path
            seen["headers"] = {k.lower(): v for k, v in self.headers.items()}
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"])).decode()
            body = json.dumps({"success": True, "successCount": len(saved_objects())}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), Kibana)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        cfg = Settings(kibana_url=f"http://127.0.0.1:{port}", search_username="analyst",
                       search_password="s3cret")  # type: ignore[arg-type]  # fmt: skip
        assert import_objects(cfg, timeout=10) == len(saved_objects())
    finally:
        thread.join(10)
        server.server_close()
    assert seen["path"] == "/api/saved_objects/_import?overwrite=true"
    assert seen["headers"]["kbn-xsrf"] and seen["headers"]["authorization"].startswith("Basic ")
    assert to_ndjson(saved_objects()) in seen["body"]


def test_import_without_kibana_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(
        KibanaError, match=rf"not reachable at http://127.0.0.1:{port}.*HST_KIBANA_URL"
    ):
        import_objects(Settings(kibana_url=f"http://127.0.0.1:{port}"), timeout=5)
