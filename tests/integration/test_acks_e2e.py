"""Acknowledgements to the sending gateways, through a real worker on the embedded stack."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from confluent_kafka import Producer

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.core.acks import RECEIVED, UNATTRIBUTED
from pipeline.core.coerce import to_json
from pipeline.core.enrich import content_hash
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.acks import coordinates, read_acks
from pipeline.kafka.publisher import Publisher
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    expected_outcome,
    invalid_records,
    isolated,
    settled,
)

pytestmark = pytest.mark.integration

Coords = tuple[str, int, int]


@pytest.fixture(scope="module")
def run(stack: Settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """400 messages from many NCBs with re-sends, content duplicates, updates, withdrawals
    and invalid records; one worker; every acknowledgement read back."""
    tmp = tmp_path_factory.mktemp("acks")
    cfg = isolated(stack, tmp)
    data = generate(GeneratorConfig(count=400, seed=71, resend_share=0.06, content_duplicate_share=0.05,
                                    update_share=0.04, withdraw_share=0.04))  # fmt: skip
    workers = Workers(cfg, tmp)
    try:
        workers.start("w1")
        publisher = Publisher(cfg)
        for m in data.messages:
            publisher.publish_json(m)
        # Invalid records: one from a gateway that says who it is (header), the rest anonymous.
        codec = AvroCodec(HST_MESSAGE)
        bad = invalid_records(codec, publisher.validate(data.messages[0]))
        raw: dict[Coords, str] = {}

        def report(err: Any, msg: Any) -> None:
            assert err is None, err
            raw[(msg.topic(), msg.partition(), msg.offset())] = msg.key().decode()

        producer = Producer(cfg.producer_config())
        for i, (value, _) in enumerate(bad):
            headers: list[tuple[str, str | bytes | None]] = (
                [("hst-source-ncb", b"FRA")] if i == 0 else []
            )
            producer.produce(cfg.topic_inbound, value=value, key=f"raw-{i}".encode(),
                             headers=headers, on_delivery=report)  # fmt: skip
        assert producer.flush(30) == 0
        waited = publisher.wait_for_acks(timeout=300)
        settled(cfg)
        acks = list(read_acks(cfg, None))
        return cfg, data, publisher, waited, acks, raw, bad
    finally:
        workers.stop_all()


def test_every_record_has_received_then_exactly_one_terminal_state(run) -> None:  # type: ignore[no-untyped-def]
    _, _, publisher, _, acks, raw, _ = run
    by_record: dict[Coords, list[dict[str, Any]]] = defaultdict(list)
    for ack in acks:
        by_record[coordinates(ack)].append(ack)
    sent = set(publisher.delivered) | set(raw)
    assert set(by_record) == sent
    for coords, mine in by_record.items():
        states = [a["state"] for a in mine]
        assert states.count(RECEIVED) == 1, (coords, states)
        assert len([s for s in states if s != RECEIVED]) == 1, (coords, states)


def test_states_follow_what_happened_to_each_message(run, stack: Settings) -> None:  # type: ignore[no-untyped-def]
    cfg, data, publisher, _, acks, _, _ = run
    now = dt.datetime.now(tz=dt.UTC)
    expected = expected_outcome(data.messages, now)
    validator = Publisher(stack)
    terminal = {coordinates(a): a for a in acks if a["terminal"]}
    by_id = {m["message_id"]: m for m in data.messages}
    group_of = {
        m["message_id"]: content_hash(to_json(validator.validate(m))) for m in data.messages
    }
    live = set(all_ids(cfg))
    # An UPDATE or WITHDRAW of any id of a content group replaces the group's document.
    superseded = {
        group_of[m["supersedes_message_id"]]
        for m in data.messages
        if m.get("supersedes_message_id") in group_of
    }
    seen: set[str] = set()
    processed_per_group: dict[str, set[str]] = defaultdict(set)
    states: dict[str, int] = defaultdict(int)
    for coords, mid in publisher.delivered.items():
        ack = terminal[coords]
        states[ack["state"]] += 1
        assert ack["message_id"] == mid and ack["ncb"] == by_id[mid]["source_ncb"]
        if ack["state"] == "PROCESSED":
            processed_per_group[group_of[mid]].add(mid)
            assert ack["document_id"] == mid
            assert any(n["recipient"] == "GS" for n in ack["notices"])
            assert mid in live or group_of[mid] in superseded
        elif ack["state"] == "DUPLICATE":
            assert group_of[ack["duplicate_of"]] == group_of[mid]
        elif ack["state"] == "WITHDRAWN":
            assert by_id[mid]["action"] == "WITHDRAW" or group_of[mid] in superseded
        else:
            pytest.fail(f"valid message {mid} got {ack['state']}: {ack['reason']}")
        seen.add(mid)
    # Every live document was acknowledged PROCESSED; each content group at most once.
    assert live <= {m for ids in processed_per_group.values() for m in ids}
    assert all(len(ids) == 1 for ids in processed_per_group.values())
    assert states["PROCESSED"] >= expected.live_count
    assert states["DUPLICATE"] >= data.kinds["resend"] + data.kinds["content_duplicate"]
    assert states["WITHDRAWN"] >= data.kinds["withdraw"]


def test_rejections_name_the_stage_and_field(run) -> None:  # type: ignore[no-untyped-def]
    _, data, _, _, acks, raw, bad = run
    terminal = {coordinates(a): a for a in acks if a["terminal"]}
    rejected = [terminal[c] for c in sorted(raw, key=lambda c: raw[c])]
    assert [a["state"] for a in rejected] == ["REJECTED"] * len(bad)
    # Undecodable: the gateway's header tells who sent it, else nobody can be trusted (kept
    # apart, never under an NCB's key); decodable: the body's NCB when it is a real one.
    claimed = data.messages[0]["source_ncb"]
    assert [a["ncb"] for a in rejected] == [
        "FRA",
        UNATTRIBUTED,
        UNATTRIBUTED,
        UNATTRIBUTED,
        claimed,
    ]
    for ack, (_, error_type) in zip(rejected, bad, strict=True):
        assert ack["stage"] in ("decode", "validate") and error_type in ack["reason"]
    country = next(a for a in rejected if any(e["path"] == "source_ncb" for e in a["errors"]))
    assert "alpha-3" in country["errors"][0]["message"] and country["ncb"] == UNATTRIBUTED


def test_an_ncb_reads_only_its_own_acknowledgements(run) -> None:  # type: ignore[no-untyped-def]
    cfg, data, publisher, _, acks, _, _ = run
    ncb = max({m["source_ncb"] for m in data.messages},
              key=lambda n: sum(m["source_ncb"] == n for m in data.messages))  # fmt: skip
    mine = list(read_acks(cfg, ncb))
    assert mine and all(a["ncb"] == ncb for a in mine)
    theirs = {coordinates(a) for a in acks if a["ncb"] == ncb}
    assert {coordinates(a) for a in mine} == theirs
    sent_by_ncb = {c for c, mid in publisher.delivered.items()
                   if next(m for m in data.messages if m["message_id"] == mid)["source_ncb"] == ncb}  # fmt: skip
    assert {coordinates(a) for a in mine} >= sent_by_ncb


def test_the_gateway_api_waits_for_every_terminal_state(run) -> None:  # type: ignore[no-untyped-def]
    _, data, publisher, waited, acks, _, _ = run
    assert set(waited) == {m["message_id"] for m in data.messages}
    terminal = {coordinates(a): a for a in acks if a["terminal"]}
    latest: dict[str, Coords] = {}
    for coords, mid in sorted(publisher.delivered.items()):
        latest[mid] = coords
    for mid, ack in waited.items():
        assert ack["terminal"] and ack == terminal[latest[mid]]
