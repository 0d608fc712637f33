"""The IOM Missing Migrants replay: every incident searchable and placed on the map."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.kafka.publisher import Publisher
from pipeline.replay.missing_migrants import read_incidents
from pipeline.search.client import sync_client
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import Workers, all_ids, count, isolated, wait_for

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
    finally:
        workers.stop_all()
