"""The embedded search engine keeps the index; a lost index comes back; outages reject nothing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.acks import REJECTED
from pipeline.core.coerce import to_json
from pipeline.core.enrich import enrich
from pipeline.core.matching import FUZZY, STRONG
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.acks import read_acks
from pipeline.kafka.dlq import read_dead_letters, read_to_end
from pipeline.kafka.publisher import Publisher
from pipeline.search.client import sync_client
from pipeline.search.index import ensure_index, ensure_links_index, ensure_search
from pipeline.search.mappings import LINK_MAPPINGS, links_template
from pipeline.search.query import NO_STAMP, fuzzy_links_by_model
from pipeline.search.rebuild import rebuild
from pipeline.settings import Settings
from pipeline.stack import Stack
from pipeline.stack.servers import free_ports, java_major_version
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    count,
    expected_outcome,
    isolated,
    publish_all,
    search_all,
    settled,
    wait_for,
)

pytestmark = pytest.mark.integration


def _docs(cfg: Settings, alias: str) -> dict[str, dict[str, Any]]:
    return {d.get("message_id") or d["link_id"]: d for d in search_all(cfg, alias)}


def test_the_index_survives_stack_down_up_and_a_kill_9_of_the_engine(tmp_path: Path) -> None:
    if (java_major_version() or 0) < 17:
        pytest.skip("no JDK 17+: the embedded engine is OpenSearch")
    kafka, controller, http, transport = free_ports(4)
    cfg = Settings(
        data_dir=tmp_path / "hst",
        kafka_port=kafka,
        kafka_controller_port=controller,
        search_port=http,
        search_transport_port=transport,
        search_compat_headers=True,
    )
    stack = Stack(cfg)
    try:
        info = stack.up()
        assert info["search"] == "opensearch" and info["search_version"]
        es = sync_client(cfg)
        ensure_search(es, cfg)
        data = generate(
            GeneratorConfig(
                count=400,
                seed=5,
                resend_share=0,
                update_share=0,
                withdraw_share=0,
                content_duplicate_share=0,
            )
        )
        validator = Publisher(cfg)
        docs = {m["message_id"]: enrich(to_json(validator.validate(m))) for m in data.messages}
        ids = sorted(docs)
        half = len(ids) // 2
        for mid in ids[:half]:
            es.index(index=cfg.index_alias, id=mid, document=docs[mid])
        es.indices.refresh(index=cfg.index_alias)

        stack.down()  # a clean stop
        assert not stack.status()["up"]
        stack.up()
        assert _docs(cfg, cfg.index_alias) == {mid: docs[mid] for mid in ids[:half]}

        # Acknowledged writes, never refreshed nor flushed, then the engine is killed.
        for mid in ids[half:]:
            es.index(index=cfg.index_alias, id=mid, document=docs[mid])
        pid = stack.status()["opensearch"]["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not stack.status()["opensearch"]["running"], 30, "the engine to die")
        started = time.monotonic()
        stack.up()
        print(f"restart after kill -9: {time.monotonic() - started:.1f}s")
        assert _docs(cfg, cfg.index_alias) == docs, "documents lost or changed by the kill -9"
        mapping = es.indices.get_mapping(index=cfg.index_alias)
        props = next(iter(mapping.values()))["mappings"]["properties"]
        assert props["persons"]["type"] == "nested", "the template's mapping did not survive"
    finally:
        stack.down()


def _start(stack: Settings, tmp: Path, seed: int):  # type: ignore[no-untyped-def]
    """An isolated pipeline, one worker, 500 generated messages with every kind of re-send."""
    cfg = isolated(stack, tmp)
    data = generate(
        GeneratorConfig(
            count=500,
            seed=seed,
            resend_share=0.04,
            content_duplicate_share=0.04,
            update_share=0.04,
            withdraw_share=0.04,
        )
    )
    expected = expected_outcome(data.messages, dt.datetime.now(tz=dt.UTC))
    workers = Workers(cfg, tmp)
    workers.start("w1")
    return cfg, data, expected, workers


def test_a_worker_whose_engine_lost_its_indices_sets_them_up_again_and_rejects_nothing(
    stack: Settings, tmp_path: Path
) -> None:
    cfg, data, expected, workers = _start(stack, tmp_path, seed=23)
    try:
        _lose_the_indices_mid_run(cfg, data, expected, workers)
    finally:
        workers.stop_all()


def _lose_the_indices_mid_run(cfg: Settings, data: Any, expected: Any, workers: Workers) -> None:
    publish_all(cfg, data.messages[:300])
    wait_for(lambda: count(cfg) >= 100, 300, "indexing to start")
    es = sync_client(cfg)
    # The engine loses everything of this pipeline: indices, aliases, templates.
    for alias in (cfg.index_alias, cfg.links_alias, cfg.synthesis_alias):
        es.indices.delete(index=",".join(es.indices.get_alias(name=alias)))
        es.indices.delete_index_template(name=f"{alias}-template")
    publish_all(cfg, data.messages[300:])
    # Messages whose whole content group came after the loss must all be indexed again.
    earlier_ids = {m["message_id"] for m in data.messages[:300]}  # re-sends of those are dropped
    later_ids = {m["message_id"] for m in data.messages[300:]} - earlier_ids
    later = [g for g in expected.live_groups if g <= later_ids]
    assert len(later) > 100

    def all_later_indexed() -> bool:
        indexed = set(_docs(cfg, cfg.index_alias))
        return all(g & indexed for g in later)

    wait_for(all_later_indexed, 300, "the messages sent after the loss indexed")
    settled(cfg)
    for alias in (cfg.index_alias, cfg.links_alias, cfg.synthesis_alias):
        indices = es.indices.get_alias(name=alias)
        assert list(indices) == [f"{alias}-v1"], f"{alias} is not behind its versioned index"
    mapping = es.indices.get_mapping(index=cfg.index_alias)
    props = next(iter(mapping.values()))["mappings"]["properties"]
    assert props["persons"]["type"] == "nested", "an index was created without the template"
    # Nothing was created by a write: every index of this pipeline is one `setup` made.
    mine = [i for i in es.indices.get(index=f"{cfg.index_alias}*,{cfg.links_alias}*")]
    assert sorted(mine) == sorted([f"{cfg.index_alias}-v1", f"{cfg.links_alias}-v1"])
    letters = [d for d in read_dead_letters(cfg, timeout=10) if d["stage"] in ("index", "network")]
    assert letters == [], f"dead letters during the loss: {letters[:2]}"
    rejected = [a for a in read_acks(cfg, None) if a["state"] == REJECTED]
    assert rejected == [], f"NCBs were told REJECTED: {rejected[:2]}"
    assert "installing the templates and aliases again" in workers.started[0].log.read_text(
        errors="replace"
    )


def test_reindex_brings_back_the_same_documents_and_links_after_the_indices_are_deleted(
    stack: Settings, tmp_path: Path
) -> None:
    cfg, data, expected, workers = _start(stack, tmp_path, seed=29)
    try:
        publish_all(cfg, data.messages)
        _delete_and_reindex(cfg, expected, tmp_path)
    finally:
        workers.stop_all()


def _delete_and_reindex(cfg: Settings, expected: Any, tmp: Path) -> None:
    wait_for(lambda: count(cfg) >= expected.live_count, 300, "every message indexed")
    settled(cfg)
    before = _docs(cfg, cfg.index_alias)
    links_before = _docs(cfg, cfg.links_alias)
    assert len(before) == expected.live_count and len(links_before) > 10
    # Deleted documents left tombstones in the log, and nothing failed on them.
    tombstones = [m for m in read_to_end(cfg, cfg.topic_enriched) if m.value() is None]
    assert len(tombstones) >= 10, "withdrawals and updates leave no tombstone in the log"
    assert list(read_dead_letters(cfg, timeout=10)) == []
    es = sync_client(cfg)
    for alias in (cfg.index_alias, cfg.links_alias):
        es.indices.delete(index=",".join(es.indices.get_alias(name=alias)))
    assert not es.indices.exists_alias(name=cfg.index_alias)

    result = rebuild(cfg, tmp / "reindex.json", sync_es=es)  # the worker keeps running

    assert result.documents == len(before)
    expected.check(all_ids(cfg))
    after = _docs(cfg, cfg.index_alias)
    assert after.keys() == before.keys()
    differing = [mid for mid in before if after[mid] != before[mid]]
    assert not differing, f"{len(differing)} documents differ, e.g. {differing[:1]}"
    links_after = _docs(cfg, cfg.links_alias)
    assert links_after.keys() == links_before.keys()
    for link_id, link in links_before.items():
        rebuilt = links_after[link_id]
        assert {k: v for k, v in rebuilt.items() if k not in ("created_at", "network_id")} == {
            k: v for k, v in link.items() if k not in ("created_at", "network_id")
        }
    assert not (tmp / "reindex.json").exists(), "the checkpoint of a finished rebuild is kept"
    # Run twice: the same documents again (idempotent), behind a newer index.
    time.sleep(1.1)  # a new index name (second resolution)
    again = rebuild(cfg, tmp / "reindex.json", sync_es=es)
    assert _docs(cfg, cfg.index_alias) == before
    assert again.previous[cfg.index_alias] == [result.targets[cfg.index_alias]]


def test_a_tests_templates_coexist_with_the_projects_on_one_engine(
    stack: Settings, tmp_path: Path
) -> None:
    """The suite (or the bench) beside a production set-up: `hst-links-*` also matches the
    indices of `hst-links-e2e-…`; the more specific template must win, not be refused."""
    es = sync_client(stack)
    ensure_search(es, stack)  # the project's own aliases: hst-messages, hst-links, hst-synthesis
    cfg = isolated(stack, tmp_path)  # hst-e2e-…, hst-links-e2e-…, hst-synthesis-e2e-…
    for alias in (cfg.links_alias, cfg.synthesis_alias):
        index = next(iter(es.indices.get_alias(name=alias)))
        settings = es.indices.get_settings(index=index)[index]["settings"]["index"]
        assert settings["provided_name"] == f"{alias}-v1"
    template = es.indices.simulate_index_template(name=f"{cfg.links_alias}-v1")
    assert "message_ids" in template["template"]["mappings"]["properties"]


def test_a_message_indexed_again_keeps_the_network_id_written_meanwhile(
    stack: Settings, tmp_path: Path
) -> None:
    """The index stage's write merges: a batch replayed after a crash re-indexes documents
    whose network_id the network stage already wrote, and nothing would write it again."""
    import asyncio

    from pipeline.search.bulk import BulkAction, bulk_write
    from pipeline.search.client import async_client

    cfg = isolated(stack, tmp_path)
    doc = enrich(
        to_json(Publisher(cfg).validate(generate(GeneratorConfig(count=1, seed=3)).messages[0]))
    )
    mid = doc["message_id"]

    async def write(action: BulkAction) -> None:
        es = async_client(cfg)
        try:
            assert await bulk_write(es, [action]) == []
        finally:
            await es.close()

    asyncio.run(write(BulkAction("upsert", cfg.index_alias, mid, doc)))
    asyncio.run(write(BulkAction("update", cfg.index_alias, mid, {"network_id": "NET-1"})))
    asyncio.run(write(BulkAction("upsert", cfg.index_alias, mid, doc)))  # the replay
    stored = sync_client(cfg).get(index=cfg.index_alias, id=mid)["_source"]
    assert stored["network_id"] == "NET-1" and stored["persons"] == doc["persons"]


def test_a_links_index_of_an_earlier_release_gets_the_new_field_and_counts_by_model(
    stack: Settings, tmp_path: Path
) -> None:
    cfg = stack.private("mapping", data_dir=tmp_path / "hst")
    es = sync_client(cfg)
    earlier = links_template(cfg.links_alias)  # before links recorded their model
    properties = {k: v for k, v in LINK_MAPPINGS["properties"].items() if k != "model"}
    earlier["template"]["mappings"] = {**LINK_MAPPINGS, "properties": properties}
    index = ensure_index(es, cfg.links_alias, template=earlier)
    es.index(index=cfg.links_alias, id="a", document={"link_id": "a", "kind": FUZZY})
    # This release starts on it: the index is kept, and its new field is searchable.
    assert ensure_links_index(es, cfg.links_alias) == index
    assert "model" in es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    for link_id, kind, model in (("b", FUZZY, "person-hst-v1/0a1b2c3d"),
                                 ("c", FUZZY, "person-hst-v1/0a1b2c3d"), ("d", STRONG, None)):  # fmt: skip
        es.index(index=cfg.links_alias, id=link_id,
                 document={"link_id": link_id, "kind": kind, "model": model})  # fmt: skip
    es.indices.refresh(index=index)
    assert fuzzy_links_by_model(es, cfg.links_alias) == {"person-hst-v1/0a1b2c3d": 2, NO_STAMP: 1}
    es.indices.delete(index=index)
