"""Records between stages: every kind reads back as written; records of the untyped era still read."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.core.dedupe import expiry
from pipeline.stream.records import (
    Absorb,
    Alias,
    CellChange,
    FactsAdded,
    FactsWithdrawn,
    IndexRequest,
    LinkFound,
    LinksWithdrawn,
    NetworkChanged,
    NotifyLink,
    NotifyMessage,
    NotifyWithdrawn,
    ObjectSeen,
    PersonSeen,
    Received,
    RecordError,
    SeenUnderKeys,
    Supersede,
    encode,
    read_cells,
    read_content,
    read_facts,
    read_lineage,
    read_links,
    read_match,
    read_notify,
)

RECEIVED = Received({"message_id": "m1", "action": "CREATE"}, "h", ("hst.inbound", 2, 5), 17, "t")
DOC = {"message_id": "m1", "source_ncb": "ITA"}
LINK = {"link_id": "L", "message_ids": ["m1", "m2"], "ncbs": ["ITA", "FRA"]}
PERSON = PersonSeen("phone:+1", True, {"message_id": "m1", "person_id": "P1"})


def read_seen(value: bytes) -> SeenUnderKeys:
    return SeenUnderKeys(tuple(read_match(value)))


CASES: list[tuple[Any, Any]] = [
    (RECEIVED, read_content),
    (IndexRequest(RECEIVED), read_lineage),
    (Supersede("m1", "m2", "UPDATE"), read_lineage),
    (Absorb("m1", ("m2", "m3")), read_lineage),
    (Alias("m2", "m1"), read_lineage),
    (SeenUnderKeys((PERSON, ObjectSeen("vehicle:X", "m1", "ITA", "2025-01-01"))), read_seen),
    (
        SeenUnderKeys((PersonSeen("ky:md:1990", False, {"message_id": "m1"}, refile=True),)),
        read_seen,
    ),
    (LinkFound(LINK, {"m1": "a", "m2": "b"}), read_links),
    (LinksWithdrawn("m1"), read_links),
    (NotifyMessage(DOC), read_notify),
    (NotifyLink(DOC, "FRA", "m2", LINK), read_notify),
    (NotifyWithdrawn("m1"), read_notify),
    (FactsAdded("m1", (("week|all", "2025-01-06"),), {"messages": 1}), read_facts),
    (FactsWithdrawn("m1"), read_facts),
    (NetworkChanged("m1", "founded", "NET-1"), read_facts),
    (CellChange("all", (("week|all", "2025-01-06"),), "m1", {"messages": 1}), read_cells),
    (CellChange("all", (("week|all", "2025-01-06"),), "m1", None), read_cells),
]


@pytest.mark.parametrize(("record", "read"), CASES, ids=[type(r).__name__ for r, _ in CASES])
def test_every_record_reads_back_as_it_was_written(record: Any, read: Any) -> None:
    assert read(encode(record)) == record


def test_a_person_seen_is_refiled_only_when_it_says_so() -> None:
    """Workers of a release before ``hst matching refile`` read and write the same records."""
    assert "refile" not in PERSON.to_dict()
    old = orjson.dumps({"type": "person", "key": "k", "strong": False, "person": {}})
    assert read_match(old) == [PersonSeen("k", False, {})]


def test_retentions_expiry_is_a_supersede_of_the_lineage_topic() -> None:
    assert read_lineage(orjson.dumps(expiry("m1", "2026-01-01"))) == Supersede(
        "m1", "retention:2026-01-01", "WITHDRAW"
    )


def test_records_written_before_the_type_tags_are_still_read() -> None:
    assert read_links(orjson.dumps({"withdrawn": "m1"})) == LinksWithdrawn("m1")
    assert read_links(orjson.dumps({"link": LINK, "created": {}})) == LinkFound(LINK, {})
    assert read_match(
        orjson.dumps(
            {"key": "k", "object": {"message_id": "m1", "source_ncb": "ITA", "created_at": "c"}}
        )
    ) == [ObjectSeen("k", "m1", "ITA", "c")]
    assert read_match(encode(PERSON)) == [PERSON]  # one request per record, as fanout sent them
    assert read_facts(
        orjson.dumps({"network": {"mid": "m1", "event": "absorbed", "network_id": "N"}})
    ) == (NetworkChanged("m1", "absorbed", "N"))
    cell = {"dim": "all", "series": "week|all", "window": "2025-01-06", "mid": "m1", "remove": True}
    assert read_cells(orjson.dumps(cell)) == CellChange(
        "all", (("week|all", "2025-01-06"),), "m1", None
    )


def test_a_copy_of_the_document_on_the_facts_topic_reads_as_its_facts() -> None:
    doc = {
        "message_id": "m1",
        "source_ncb": "ITA",
        "created_at": "2025-03-04T00:00:00Z",
        "persons": [],
    }
    assert read_facts(orjson.dumps(doc)) == FactsAdded.of(doc)


@pytest.mark.parametrize("value", [b"[]", b'{"role": "nope", "target": "m"}', b'{"type": "nope"}'])
def test_a_record_of_no_known_kind_is_an_error_naming_what_was_found(value: bytes) -> None:
    with pytest.raises((RecordError, KeyError)):
        read_lineage(value) if b"role" in value else read_notify(value)


def test_key_partition_is_where_faust_sends_a_record_keyed_by_that_key() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    from pipeline.stream.outputs import key_partition

    partitions = list(range(6))
    for key in ("phone:+22793132245", "name:as:1974", "doc:NGA:BZ3035325", "vehicle:ÉTÉ-1"):
        assert key_partition(key, 6) == DefaultPartitioner()(key.encode(), partitions, partitions)
