"""End to end on the embedded stack: real broker, real search server, real worker process."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.publisher import Publisher
from pipeline.search.client import sync_client
from pipeline.search.query import SearchFilters, build_query
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    count,
    dead_letters,
    expected_outcome,
    invalid_records,
    isolated,
    publish_raw,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(stack: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = isolated(stack, tmp_path)
    workers = Workers(cfg, tmp_path)
    yield cfg, workers
    workers.stop_all()


def test_each_message_indexed_once_and_bad_ones_dead_lettered(pipeline) -> None:  # type: ignore[no-untyped-def]
    cfg, workers = pipeline
    now = dt.datetime.now(tz=dt.UTC)
    data = generate(GeneratorConfig(count=1500, seed=31, resend_share=0.06, content_duplicate_share=0.04,
                                    update_share=0, withdraw_share=0))  # fmt: skip
    expected = expected_outcome(data.messages, now)
    k = data.kinds["resend"]
    c = data.kinds["content_duplicate"]
    assert k > 0 and c > 0
    codec = AvroCodec(HST_MESSAGE)
    bad = invalid_records(codec, Publisher(cfg).validate(data.messages[0]))
    m = len(bad)

    workers.start("w1")
    with Publisher(cfg) as pub:
        for obj in data.messages:
            pub.publish_json(obj)
    publish_raw(cfg, [v for v, _ in bad])

    n = len(data.messages) + m
    wait_for(lambda: count(cfg) >= expected.live_count, 240, "the index to hold every message")
    letters = dead_letters(cfg, m)
    time.sleep(3)  # nothing more may arrive
    ids = all_ids(cfg)
    assert len(ids) == n - k - c - m == expected.live_count
    es = sync_client(cfg)

    def absorbed_of(doc_id: str) -> set[str]:
        return set(es.get(index=cfg.index_alias, id=doc_id)["_source"]["absorbed_message_ids"])

    expected.check(ids, absorbed_of)

    assert len(letters) == m
    assert Counter(dl["error_type"] for dl in letters) == Counter(t for _, t in bad)
    assert {dl["original_value"] for dl in letters} == {v for v, _ in bad}
    for dl in letters:
        assert (
            dl["reason"]
            and dl["topic"] == cfg.topic_inbound
            and dl["stage"] in ("decode", "validate")
        )
    bad_country = next(
        dl for dl in letters if any(e["path"] == "source_ncb" for e in dl["field_errors"])
    )
    assert "not an ISO 3166-1 alpha-3" in bad_country["field_errors"][0]["reason"]

    doc = es.get(index=cfg.index_alias, id=ids[0])["_source"]
    assert doc["kafka"]["topic"] == cfg.topic_inbound and doc["processing"]["indexed_at"]

    def hits(**filters: object) -> set[str]:
        q = build_query(SearchFilters(**filters))  # type: ignore[arg-type]
        resp = es.search(index=cfg.index_alias, query=q, size=1000, source=False)
        return {h["_id"] for h in resp["hits"]["hits"]}

    # Transliterated name: a person reported in Arabic or Cyrillic script is found by a Latin spelling.
    live_ids = set(ids)
    for mid in sorted(live_ids):
        rec = expected.valid_records[mid]
        person = next((p for p in rec["persons"] if p["name"].get("original_script_name")), None)
        if person:
            break
    assert person is not None
    assert mid in hits(person=person["name"]["original_script_name"])
    assert mid in hits(person=f"{person['name']['given_name']} {person['name']['family_name']}")
    # Phone written in national format; document number written differently.
    rec = next(expected.valid_records[i] for i in sorted(live_ids)
               if any(ph.get("country") for p in expected.valid_records[i]["persons"] for ph in p.get("phones", [])))  # fmt: skip
    phone = next(ph for p in rec["persons"] for ph in p.get("phones", []) if ph.get("country"))
    assert rec["message_id"] in hits(phone=phone["number"], phone_country=phone["country"])
    rec = next(expected.valid_records[i] for i in sorted(live_ids)
               if any(p.get("documents") for p in expected.valid_records[i]["persons"]))  # fmt: skip
    number = next(d["number"] for p in rec["persons"] for d in p.get("documents", []))
    messy = " ".join(number.lower())
    assert rec["message_id"] in hits(document=messy)


def test_updates_replace_and_withdrawals_remove(pipeline) -> None:  # type: ignore[no-untyped-def]
    cfg, workers = pipeline
    now = dt.datetime.now(tz=dt.UTC)
    data = generate(GeneratorConfig(count=600, seed=32, update_share=0.08, withdraw_share=0.06))
    expected = expected_outcome(data.messages, now)
    assert data.kinds["update"] > 0 and data.kinds["withdraw"] > 0
    workers.start("w1")
    with Publisher(cfg) as pub:
        for obj in data.messages:
            pub.publish_json(obj)
    wait_for(lambda: count(cfg) == expected.live_count, 180, "updates and withdrawals to settle")
    time.sleep(3)
    ids = all_ids(cfg)
    expected.check(ids)
    es = sync_client(cfg)
    update = next(
        expected.valid_records[i] for i in ids if expected.valid_records[i]["action"] == "UPDATE"
    )
    doc = es.get(index=cfg.index_alias, id=update["message_id"])["_source"]
    assert doc["supersedes_message_id"] == update["supersedes_message_id"]
    assert not es.exists(index=cfg.index_alias, id=update["supersedes_message_id"])
