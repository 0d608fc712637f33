"""The IOM Missing Migrants replay: every incident searchable and placed on the map."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.kafka.publisher import Publisher
from pipeline.replay.missing_migrants import read_incidents
from pipeline.search.client import sync_client
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    count,
    isolated,
    search_all,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration

CSV = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "missing-migrants"
    / "MissingMigrants-Global-2020-01-08.csv"
)


@pytest.mark.skipif(not CSV.exists(), reason=f"IOM Missing Migrants data not found at {CSV}")
def test_whole_file_is_searchable_and_on_the_map(stack: Settings, tmp_path: Path) -> None:
    cfg = isolated(stack, tmp_path)
    incidents = list(read_incidents(CSV))
    assert len(incidents) == 6249
    workers = Workers(cfg, tmp_path)
    try:
        workers.start("w1")
        with Publisher(cfg) as pub:
            for m in incidents:
                pub.publish_json(m)
        wait_for(lambda: count(cfg) >= len(incidents), 600, "every incident to be indexed")
        time.sleep(2)
        ids = all_ids(cfg)
        assert len(ids) == len(set(ids)) == len(incidents)
        assert set(ids) == {m["message_id"] for m in incidents}
        es = sync_client(cfg)
        placed = es.count(index=cfg.index_alias, query={"bool": {"filter": [
            {"exists": {"field": "location"}}, {"term": {"location_source": "message"}}]}})["count"]  # fmt: skip
        assert placed == len(incidents)
        # Lampedusa: incidents within 100 km, found by a map query.
        near = es.count(index=cfg.index_alias, query={"geo_distance": {
            "distance": "100km", "location": {"lat": 35.5, "lon": 12.6}}})["count"]  # fmt: skip
        assert near > 10
        # A known incident by its IOM reference, with its counts.
        hit = es.search(index=cfg.index_alias, query={"term": {"case_refs": "IOM-MMP-52682"}})[
            "hits"
        ]["hits"]
        assert len(hit) == 1
        doc = hit[0]["_source"]
        assert doc["incident"]["dead_count"] == 4 and doc["incident"]["missing_count"] == 1
        assert doc["source_ncb"] == "TUR" and doc["route"]["sub_regions"] == ["Western Asia"]
        _bulletin_for_northern_africa(cfg, tmp_path)
    finally:
        workers.stop_all()


def _bulletin_for_northern_africa(cfg: Settings, tmp_path: Path) -> None:
    """``hst report`` on the public data: figures equal the index; the page is written."""
    out = tmp_path / "bulletin.html"
    cli = [sys.executable, "-m", "pipeline.cli.main", "report", "--region", "northern africa",
           "--since", "2019-01-01", "--for", "ITA"]  # fmt: skip
    run = subprocess.run([*cli, "--json"], env=worker_env(cfg), capture_output=True, text=True,
                         check=True, timeout=300)  # fmt: skip
    figures = json.loads(run.stdout)
    # Public data (H0): ITA may see every incident; minors' incidents count too.
    docs = [d for d in search_all(cfg, cfg.index_alias, {"term": {"incident_sub_region": "Northern Africa"}})
            if (d.get("event_time") or d["created_at"]) >= "2019-01-01"]  # fmt: skip
    assert len(docs) > 100 and figures["headline"]["messages"] == len(docs)
    for key in ("dead", "missing", "minors"):
        assert figures["headline"][key] == sum(d["counts"][key] for d in docs), key
    assert figures["map_cells"] and sum(c["messages"] for c in figures["map_cells"]) <= len(docs)
    assert (
        figures["scope"]["region"] == "Northern Africa"
        and figures["weeks"][0]["week"] >= "2018-12-31"
    )
    subprocess.run([*cli, "--out", str(out)], env=worker_env(cfg), check=True, timeout=300)
    page = out.read_text(encoding="utf-8")
    assert "Northern Africa" in page and f"Built from {len(docs):,} messages" in page
