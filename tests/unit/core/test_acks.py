"""Acknowledgement ids, attribution and records (pure)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from pipeline.codec import ACK, AvroCodec
from pipeline.core.acks import (
    DUPLICATE,
    PROCESSED,
    RECEIVED,
    REJECTED,
    TERMINAL,
    UNATTRIBUTED,
    WITHDRAWN,
    ack_id,
    attribute_ncb,
    make_ack,
)

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
coords = st.tuples(
    st.sampled_from(["hst.inbound", "hst.inbound.ITA"]), st.integers(0, 11), st.integers(0, 10**9)
)


@given(coords, st.sampled_from([RECEIVED, *TERMINAL]))
def test_ack_id_is_the_same_for_a_replay_and_differs_per_state(record, state) -> None:  # type: ignore[no-untyped-def]
    assert ack_id(record, state) == ack_id(tuple(record), state)
    others = {ack_id(record, s) for s in {RECEIVED, *TERMINAL} - {state}}
    assert ack_id(record, state) not in others


@given(coords, coords)
def test_different_records_have_different_ids(a, b) -> None:  # type: ignore[no-untyped-def]
    if a != b:
        assert ack_id(a, PROCESSED) != ack_id(b, PROCESSED)


def test_per_ncb_topic_wins_over_what_the_body_claims() -> None:
    assert attribute_ncb("hst.inbound.ITA", "hst.inbound", {}, "FRA") == "ITA"


def test_body_then_header_then_unattributed() -> None:
    header = {"hst-source-ncb": b"esp"}
    assert attribute_ncb("hst.inbound", "hst.inbound", header, "FRA") == "FRA"
    assert attribute_ncb("hst.inbound", "hst.inbound", header, None) == "ESP"
    assert attribute_ncb("hst.inbound", "hst.inbound", header, "France") == "ESP"
    assert attribute_ncb("hst.inbound", "hst.inbound", {"hst-source-ncb": b"../x"}) == UNATTRIBUTED
    assert attribute_ncb("hst.inbound.content", "hst.inbound", {}) == UNATTRIBUTED
    # A made-up code is nobody's: its acknowledgement must not reach whoever owns that key.
    assert attribute_ncb("hst.inbound", "hst.inbound", {}, "XYZ") == UNATTRIBUTED


def test_every_state_encodes_with_the_avro_schema() -> None:
    codec = AvroCodec(ACK)
    cases = [
        make_ack(RECEIVED, "ITA", ("hst.inbound", 0, 1), NOW, message_id="m1"),
        make_ack(
            REJECTED,
            UNATTRIBUTED,
            ("hst.inbound", 0, 2),
            NOW,
            stage="validate",
            reason="invalid_field",
            errors=[("persons[0].birth_date", "not a date")],
        ),
        make_ack(DUPLICATE, "ITA", ("hst.inbound", 1, 3), NOW, message_id="m2", duplicate_of="m1"),
        make_ack(WITHDRAWN, "ITA", ("hst.inbound", 1, 4), NOW, message_id="m3", document_id="m1"),
        make_ack(
            PROCESSED,
            "ITA",
            ("hst.inbound", 1, 5),
            NOW,
            message_id="m4",
            document_id="m4",
            notices=[{"notice_id": "n", "recipient": "GS", "level": "FULL", "kind": "MESSAGE"}],
        ),
    ]
    for ack in cases:
        back = codec.decode(codec.encode(ack))
        assert back == ack
        assert back["terminal"] is (ack["state"] != RECEIVED)
    assert cases[1]["errors"] == [{"path": "persons[0].birth_date", "message": "not a date"}]
