"""``hst matching refile`` on a real broker: live persons' name keys go where workers look."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from pipeline.core.enrich import enrich
from pipeline.core.linkage import DEFAULT_MODEL, load_model
from pipeline.core.matching import FUZZY, person_refs
from pipeline.kafka.admin import TopicSpec, ensure_topics
from pipeline.kafka.logread import end_offsets
from pipeline.search.client import sync_client
from pipeline.search.query import fuzzy_links_by_model
from pipeline.settings import Settings
from pipeline.stream.outputs import key_partition
from pipeline.stream.records import PersonSeen, read_match
from pipeline.stream.refile import RefileError, refile
from tests.integration.kafka_helpers import consume_all
from tests.integration.pipeline_helpers import (
    Workers,
    count,
    isolated,
    plain_messages,
    publish_all,
    search_all,
    settled,
    wait_for,
)
from tests.unit.stream.harness import Harness

pytestmark = pytest.mark.integration


@pytest.fixture
def topics(stack: Settings) -> Settings:
    """Settings with an enriched and a match topic of their own."""
    uid = uuid.uuid4().hex[:8]
    s = stack.model_copy(
        update={"topic_enriched": f"test.{uid}.enriched", "topic_inbound": f"test.{uid}.inbound"}
    )
    assert s.topic_match == f"test.{uid}.inbound.match"
    ensure_topics(s, [TopicSpec(s.topic_enriched, 2, 1), TopicSpec(s.topic_match, s.partitions, 1)])
    # A new topic answers NOT_LEADER_FOR_PARTITION until its partitions have a leader.
    wait_for(lambda: bool(end_offsets(s, [s.topic_enriched, s.topic_match])), 30, "leaders")
    return s


def _produce(settings: Settings, records: list[tuple[str, dict[str, Any] | None]]) -> None:
    producer = Producer(settings.producer_config())
    for key, doc in records:
        value = None if doc is None else orjson.dumps(doc)
        producer.produce(settings.topic_enriched, key=key.encode(), value=value)
    assert producer.flush(30) == 0


def test_refile_sends_each_live_persons_name_keys_to_their_partition(topics: Settings) -> None:
    docs = [enrich(r) for r in Harness().records(4)]
    a, b_first, c = docs[0], docs[1], docs[2]
    b = {**docs[3], "message_id": b_first["message_id"]}  # a later version of b
    # a; b, then its later version; c, then withdrawn (a tombstone).
    _produce(topics, [(a["message_id"], a), (b["message_id"], b_first), (c["message_id"], c)])
    _produce(topics, [(b["message_id"], b), (c["message_id"], None)])
    model = load_model(topics.person_model)

    counted = refile(topics, model, dry_run=True)
    result = refile(topics, model)

    assert counted == result
    assert result.documents == 2
    assert result.persons == len(a["persons"]) + len(b["persons"])
    records = consume_all(topics, topics.topic_match, result.records)
    assert len(records) == result.records
    items: list[PersonSeen] = []
    for record in records:
        seen = [s for s in read_match(record.value()) if isinstance(s, PersonSeen)]
        partitions = {key_partition(s.key, topics.partitions) for s in seen}
        assert partitions == {record.partition()}, "each key where its entry lives"
        items += seen
    assert len(items) == result.requests
    assert all(s.refile and not s.strong for s in items)
    expected = {
        (p.message_id, p.person_id, key)
        for doc in (a, b)
        for p in person_refs(doc)
        for key in model.keys(p)
    }
    sent = {(s.person["message_id"], s.person["person_id"], s.key) for s in items}
    assert sent == expected  # b as last reported, c not at all
    named = {p.name for p in person_refs(b) if model.keys(p)}  # no birth date: no name key
    assert {s.person["name"] for s in items if s.person["message_id"] == b["message_id"]} == named


def test_refile_refuses_a_match_topic_the_workers_do_not_partition_alike(
    topics: Settings,
) -> None:
    wrong = topics.model_copy(update={"partitions": topics.partitions + 1})
    with pytest.raises(RefileError, match="partitions"):
        refile(wrong, load_model(topics.person_model))


def _one_person_twice(seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two messages of two NCBs reporting one person (full name and birth date), nothing
    else in common: only fuzzy matching can link them."""
    for m in plain_messages(30, seed):
        person = next(
            (
                p
                for p in m.get("persons") or []
                if p["name"].get("given_name") and (p.get("birth_date") or {}).get("day")
            ),
            None,
        )
        if person is not None:
            break
    else:
        pytest.fail("no generated person with a full name and birth date")
    bare = {**person, "phones": [], "emails": [], "documents": [], "online_accounts": []}
    a = {
        **m,
        "persons": [bare],
        "vehicles": [],
        "vessels": [],
        "payments": [],
        "communications": [],
    }
    b = {**copy.deepcopy(a), "message_id": str(uuid.uuid4())}
    b["source_ncb"] = "FRA" if a["source_ncb"] != "FRA" else "ITA"
    b["reporting_unit"] = None
    return a, b


def test_after_a_model_change_refiling_makes_the_links_the_new_model_makes(
    stack: Settings, tmp_path: Path
) -> None:
    # Before: a model that files persons under no name key (as if under keys since changed).
    before = {**load_model(DEFAULT_MODEL).to_dict(), "version": "no-keys", "blocking": []}
    (tmp_path / "no-keys.json").write_text(json.dumps(before))
    cfg = isolated(stack, tmp_path, partitions=2)
    old = cfg.model_copy(update={"person_model": str(tmp_path / "no-keys.json")})
    a, b = _one_person_twice(seed=71)
    ids = {a["message_id"], b["message_id"]}

    def fuzzy_links() -> list[dict[str, Any]]:
        return [x for x in search_all(cfg, cfg.links_alias) if x["kind"] == FUZZY]

    workers = Workers(old, tmp_path)
    try:
        workers.start("w1")
        publish_all(old, [a, b])
        wait_for(lambda: count(cfg) >= 2, 180, "both messages indexed")
        settled(old)
        assert fuzzy_links() == []
        workers.stop_all()
        # After: the default model; the persons filed before are refiled, and linked.
        new = cfg.model_copy(update={"person_model": DEFAULT_MODEL})
        workers = Workers(new, tmp_path)
        workers.start("w2")
        result = refile(new, load_model(DEFAULT_MODEL))
        assert (result.documents, result.persons) == (2, 2)
        wait_for(lambda: bool(fuzzy_links()), 180, "the refiled persons linked")
        settled(new)
        links = fuzzy_links()
        assert len(links) == 1 and set(links[0]["message_ids"]) == ids
        stamp = load_model(DEFAULT_MODEL).stamp  # the link says which model made it
        assert links[0]["model"] == stamp
        assert fuzzy_links_by_model(sync_client(cfg), cfg.links_alias) == {stamp: 1}
        shown = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "matching", "links"],
                               env={**os.environ, **new.to_env(), "COLUMNS": "200"},
                               capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip
        assert stamp in shown and f"0 of 1 fuzzy links were not made by {stamp}" in shown
    finally:
        workers.stop_all()
