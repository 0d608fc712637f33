"""Each stage of the worker on its own, in memory (``harness``): what it sends, what it keeps."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from typing import Any

import orjson
import pytest

from pipeline.core.acks import DUPLICATE, PROCESSED, RECEIVED, REJECTED
from pipeline.core.enrich import content_hash, enrich
from pipeline.core.linkage import load_model
from pipeline.core.matching import FUZZY, STRONG, person_refs
from pipeline.stream.diffusion import Notify
from pipeline.stream.indexing import Index
from pipeline.stream.ingest import Dedupe, Validate
from pipeline.stream.matching import Fanout, Match
from pipeline.stream.networks import Network
from pipeline.stream.outputs import key_partition
from pipeline.stream.records import (
    Absorb,
    Alias,
    CellChange,
    FactsAdded,
    FactsWithdrawn,
    IndexRequest,
    LinkFound,
    LinksWithdrawn,
    NotifyLink,
    NotifyMessage,
    NotifyWithdrawn,
    ObjectSeen,
    PersonSeen,
    Received,
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
from pipeline.stream.refile import refile_requests
from pipeline.stream.runner import StageRunner
from pipeline.stream.synthesis import Aggregate, Facts
from pipeline.stream.watchlists import WatchLists
from tests.unit.stream.harness import Harness, Sink, Stream, event


def received(h: Harness, record: dict[str, Any], offset: int = 0) -> Received:
    return Received(
        record,
        content_hash(record),
        (h.settings.topic_inbound, 0, offset),
        0,
        "2026-11-01T00:00:00.000Z",
    )


async def test_validate_acknowledges_receipt_and_forwards_by_content_hash() -> None:
    h = Harness()
    datum = h.messages(1)[0]
    stage = Validate(h.settings, h.codec, h.validator, h.outputs)
    await stage(event(h.settings.topic_inbound, h.codec.encode(datum), offset=7))
    [(key, value)] = h.sent(h.settings.topic_content)
    forwarded = read_content(value)
    assert key.decode() == forwarded.hash == content_hash(forwarded.record)
    assert forwarded.message_id == datum["message_id"]
    assert forwarded.src == (h.settings.topic_inbound, 0, 7)
    assert [(a["state"], a["message_id"]) for a in h.acks()] == [(RECEIVED, datum["message_id"])]


async def test_validate_refuses_a_message_published_as_another_ncb_on_an_ncbs_own_topic() -> None:
    h = Harness()
    datum = h.messages(1)[0]
    assert datum["source_ncb"] != "FRA"
    stage = Validate(h.settings, h.codec, h.validator, h.outputs)
    await stage(event(h.settings.inbound_topic_of("FRA"), h.codec.encode(datum)))
    assert h.sent(h.settings.topic_content) == []
    assert len(h.sent(h.settings.topic_dlq)) == 1
    states = [(a["state"], a["ncb"]) for a in h.acks()]
    assert states == [(RECEIVED, "FRA"), (REJECTED, "FRA")]
    assert "source_ncb" in str(h.acks()[1]["errors"])


async def test_validate_dead_letters_undecodable_bytes_with_the_reason() -> None:
    h = Harness()
    await Validate(h.settings, h.codec, h.validator, h.outputs)(
        event(h.settings.topic_inbound, b"\x00junk")
    )
    assert h.sent(h.settings.topic_content) == []
    [(_, letter)] = h.sent(h.settings.topic_dlq)
    assert letter is not None and b"\x00junk" in letter
    assert [a["state"] for a in h.acks()] == [RECEIVED, REJECTED]


async def test_dedupe_forwards_new_messages_and_acknowledges_resends_as_duplicates() -> None:
    h = Harness()
    table: dict[str, Any] = {}
    stage = Dedupe(h.settings, h.outputs, table)
    first = received(h, h.records(1)[0])
    await stage(event(h.settings.topic_content, encode(first)))
    resent = Received(
        first.record, first.hash, (h.settings.topic_inbound, 0, 1), 0, first.received_at
    )
    await stage(event(h.settings.topic_content, encode(resent)))  # a re-send of the same id
    lineage = [read_lineage(v) for _, v in h.sent(h.settings.topic_lineage)]
    assert lineage == [IndexRequest(first)]
    assert [(a["state"], a["duplicate_of"]) for a in h.acks()] == [(DUPLICATE, first.message_id)]


async def test_dedupe_absorbs_the_same_content_under_another_id_into_the_first() -> None:
    h = Harness()
    stage = Dedupe(h.settings, h.outputs, {})
    record = h.records(1)[0]
    first = received(h, record)
    second = received(h, {**record, "message_id": str(uuid.uuid4())}, offset=1)
    assert second.hash == first.hash  # the id is not content
    for r in (first, second):
        await stage(event(h.settings.topic_content, encode(r)))
    lineage = [read_lineage(v) for _, v in h.sent(h.settings.topic_lineage)]
    assert lineage[1:] == [
        Absorb(first.message_id, (second.message_id,)),
        Alias(second.message_id, first.message_id),
    ]


def index_stage(h: Harness, sink: Sink, tmp_path: Any) -> Index:
    runner = StageRunner(h.outputs, None)
    return Index(
        h.settings,
        h.outputs,
        sink,
        {},
        WatchLists(tmp_path),
        runner,
        worker="w",
        batch_size=10,
        batch_within=0.1,
    )


async def test_index_writes_the_enriched_document_then_its_log_and_its_facts(tmp_path: Any) -> None:
    h, sink = Harness(), Sink()
    stage = index_stage(h, sink, tmp_path)
    r = received(h, h.records(1)[0], offset=3)
    actions = await stage.prepare(event(h.settings.topic_lineage, encode(IndexRequest(r))))
    await stage.write_batch(actions)
    doc = sink.docs[h.settings.index_alias][r.message_id]
    assert doc["kafka"]["offset"] == 3 and doc["processing"]["worker"] == "w"
    [(key, logged)] = h.sent(h.settings.topic_enriched)
    assert key.decode() == r.message_id and orjson.loads(logged or b"") == doc
    [(_, facts)] = h.sent(h.settings.topic_facts)
    assert read_facts(facts) == FactsAdded.of(doc, ["week"])  # the default windows
    assert len(facts or b"") < len(logged or b"") / 4  # the synthesis gets its facts, not a copy


async def test_index_deletes_a_withdrawn_message_and_tells_every_derived_stage(
    tmp_path: Any,
) -> None:
    h, sink = Harness(), Sink()
    stage = index_stage(h, sink, tmp_path)
    r = received(h, h.records(1)[0])
    await stage.write_batch(await stage.prepare(event("l", encode(IndexRequest(r)))))
    gone = Supersede(r.message_id, "later", "WITHDRAW")
    await stage.write_batch(await stage.prepare(event("l", encode(gone))))
    assert r.message_id not in sink.docs[h.settings.index_alias]
    assert h.sent(h.settings.topic_enriched)[-1] == (r.message_id.encode(), None)  # tombstone
    assert [read_notify(v) for _, v in h.sent(h.settings.topic_notify)] == [
        NotifyWithdrawn(r.message_id)
    ]
    assert [read_links(v) for _, v in h.sent(h.settings.topic_links)] == [
        LinksWithdrawn(r.message_id)
    ]
    assert read_facts(h.sent(h.settings.topic_facts)[-1][1]) == FactsWithdrawn(r.message_id)
    # A re-send of the withdrawn message is never indexed again.
    assert await stage.prepare(event("l", encode(IndexRequest(r)))) == []


def linked_pair(h: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two documents of two NCBs reporting the same person (same phone number)."""
    a = h.records(1)[0]
    b = copy.deepcopy(a)
    b.update(message_id=str(uuid.uuid4()), source_ncb="FRA" if a["source_ncb"] != "FRA" else "ITA")
    b["persons"] = b["persons"][:1]
    return enrich(a), enrich(b)


async def test_fanout_and_match_link_two_reports_of_one_person() -> None:
    h = Harness()
    doc_a, doc_b = linked_pair(h)
    fanout, match = Fanout(h.settings, h.outputs), Match(h.settings, h.outputs, {})
    for doc in (doc_a, doc_b):
        await fanout(event(h.settings.topic_enriched, orjson.dumps(doc)))
    assert [read_notify(v) for _, v in h.sent(h.settings.topic_notify)] == [
        NotifyMessage(doc_a),
        NotifyMessage(doc_b),
    ]
    # One record per partition, sent to the partition where each of its keys lives.
    sent = h.outputs.topic(h.settings.topic_match)
    n = h.settings.partitions
    for (_, value), partition in zip(sent.sent, sent.partitions, strict=True):
        assert {key_partition(r.key, n) for r in read_match(value)} == {partition}
    assert len(sent.sent) <= 2 * n < len([r for _, v in sent.sent for r in read_match(v)])
    await match(
        Stream(), [event(h.settings.topic_match, v) for _, v in h.sent(h.settings.topic_match)]
    )
    links = [read_links(v) for _, v in h.sent(h.settings.topic_links)]
    strong = [x for x in links if isinstance(x, LinkFound) and x.link["kind"] == STRONG]
    assert strong, "the shared phone number links the two reports"
    ids = {doc_a["message_id"], doc_b["message_id"]}
    assert all(set(x.link["message_ids"]) == ids for x in strong)
    created = {doc_a["message_id"]: doc_a["created_at"], doc_b["message_id"]: doc_b["created_at"]}
    assert all(x.created == created for x in strong)
    # The same request matched again finds the same links (idempotent re-processing).
    strong_requests = [
        v
        for _, v in sent.sent
        if any(isinstance(r, PersonSeen) and r.strong for r in read_match(v))
    ]
    before = len(h.sent(h.settings.topic_links))
    await match(Stream(), [event(h.settings.topic_match, strong_requests[-1])])
    again = [read_links(v) for _, v in h.sent(h.settings.topic_links)[before:]]
    assert again and all(x in links for x in again)


async def test_network_joins_both_messages_writes_their_documents_and_asks_for_hit_notices() -> (
    None
):
    h, sink = Harness(), Sink()
    doc_a, doc_b = linked_pair(h)
    for doc in (doc_a, doc_b):
        sink.docs.setdefault(h.settings.index_alias, {})[doc["message_id"]] = doc
    match = Match(h.settings, h.outputs, {})
    fanout = Fanout(h.settings, h.outputs)
    for doc in (doc_a, doc_b):
        await fanout(event("e", orjson.dumps(doc)))
    for _, value in h.sent(h.settings.topic_match):  # one by one: as in batches
        await match(Stream(), [event("m", value)])
    stage = Network(h.settings, h.outputs, sink, {}, {})
    await stage(Stream(), [event("links", v) for _, v in h.sent(h.settings.topic_links)])
    docs = sink.docs[h.settings.index_alias]
    network = docs[doc_a["message_id"]]["network_id"]
    assert network and docs[doc_b["message_id"]]["network_id"] == network
    assert not [d for d in docs.values() if "links" in d]  # the links are in hst-links
    assert {d["network_id"] for d in sink.docs[h.settings.links_alias].values()} == {network}
    hits = [read_notify(v) for _, v in h.sent(h.settings.topic_notify)]
    hits = [x for x in hits if isinstance(x, NotifyLink)]
    assert {(x.doc["message_id"], x.owner_message_id) for x in hits} == {
        (doc_a["message_id"], doc_b["message_id"]),
        (doc_b["message_id"], doc_a["message_id"]),
    }
    assert all(x.doc["network_id"] == network for x in hits)
    facts = [read_facts(v) for _, v in h.sent(h.settings.topic_facts)]
    assert [(f.event, f.network_id) for f in facts] == [("founded", network)]  # type: ignore[union-attr]


async def test_a_withdrawn_message_takes_its_links_away_and_gets_no_new_ones() -> None:
    h, sink = Harness(), Sink()
    link = {
        "link_id": "L1",
        "kind": "STRONG",
        "score": 1.0,
        "message_ids": ["a", "b"],
        "ncbs": ["ITA", "ITA"],
    }
    found = LinkFound(link, {"a": "2025-01-01T00:00:00Z", "b": "2025-01-02T00:00:00Z"})
    stage = Network(h.settings, h.outputs, sink, {}, {})
    await stage(Stream(), [event("links", encode(found))])
    assert "L1" in sink.docs[h.settings.links_alias]
    await stage(
        Stream(), [event("links", encode(LinksWithdrawn("a"))), event("links", encode(found))]
    )
    assert "L1" not in sink.docs[h.settings.links_alias]


async def test_notify_sends_a_messages_notices_then_the_processed_acknowledgement() -> None:
    h = Harness()
    doc = enrich(h.records(1)[0])
    doc["kafka"] = {"topic": h.settings.topic_inbound, "partition": 1, "offset": 9, "timestamp": 0}
    table: dict[str, Any] = {}
    stage = Notify(h.settings, h.outputs, table)
    await stage(event("n", encode(NotifyMessage(doc))))
    notices = [
        v
        for t in h.outputs.topics
        if t.startswith(h.settings.topic_diffusion)
        for _, v in h.sent(t)
    ]
    [ack] = h.acks()
    assert ack["state"] == PROCESSED and ack["record"]["offset"] == 9
    assert len(ack["notices"]) == len(notices) == len(table[doc["message_id"]]) > 0
    # Withdrawn: every recipient hears so, once.
    await stage(event("n", encode(NotifyWithdrawn(doc["message_id"]))))
    after = [
        v
        for t in h.outputs.topics
        if t.startswith(h.settings.topic_diffusion)
        for _, v in h.sent(t)
    ]
    assert len(after) == 2 * len(notices)
    assert table[doc["message_id"]] == {}


async def test_facts_send_each_cell_its_contribution_and_take_it_back_on_withdrawal() -> None:
    h = Harness()
    doc = enrich(h.records(1)[0])
    table: dict[str, Any] = {}
    stage = Facts(h.settings, h.outputs, table)
    await stage(event("f", encode(FactsAdded.of(doc))))  # day and week cells
    added = [read_cells(v) for _, v in h.sent(h.settings.topic_cells)]
    cells = {c for change in added for c in change.cells}
    assert cells == set(FactsAdded.of(doc).cells)
    assert all(
        key.decode() == c.dimension
        for (key, _), c in zip(h.sent(h.settings.topic_cells), added, strict=True)
    )
    await stage(event("f", encode(FactsWithdrawn(doc["message_id"]))))
    removed = [read_cells(v) for _, v in h.sent(h.settings.topic_cells)][len(added) :]
    assert {c for change in removed for c in change.cells} == cells
    assert all(change.measures is None for change in removed)
    await stage(event("f", encode(FactsAdded.of(doc))))  # a replay after the withdrawal
    assert len(h.sent(h.settings.topic_cells)) == len(added) + len(removed)


async def test_aggregate_indexes_the_totals_of_the_touched_cells() -> None:
    h, sink = Harness(), Sink()
    series = "week|route:NGA>ITA"
    change = [
        CellChange("route:NGA>ITA", ((series, "2025-08-25"),), m, {"messages": 1, "persons": 2})
        for m in ("m1", "m2")
    ]
    stage = Aggregate(h.settings, h.outputs, sink, {}, {})
    await stage(Stream(), [event("c", encode(c)) for c in change])
    [cell] = sink.docs[h.settings.synthesis_alias].values()
    assert cell["measures"]["messages"] == 2 and cell["measures"]["persons"] == 4
    removal = CellChange("route:NGA>ITA", ((series, "2025-08-25"),), "m1", None)
    await stage(Stream(), [event("c", encode(removal))])
    [cell] = sink.docs[h.settings.synthesis_alias].values()
    assert cell["measures"]["messages"] == 1
    assert len(h.sent(h.settings.topic_synthesis)) == 2


async def test_a_batch_stage_gives_faust_back_the_event_it_had_made_current() -> None:
    # A take() buffer may hold that event for the next batch: it crashed on finding None.
    h, sink = Harness(), Sink()
    held = event("links", b"{}")
    stream = Stream(current=held)
    link = {"link_id": "L1", "message_ids": ["a", "b"], "ncbs": ["ITA", "FRA"]}
    found = LinkFound(link, {"a": "2025-01-01T00:00:00Z", "b": "2025-01-02T00:00:00Z"})
    await Network(h.settings, h.outputs, sink, {}, {})(stream, [event("links", encode(found))])
    assert stream.current_event is held
    seen = ObjectSeen("vehicle:X", "m1", "ITA", "2025-01-01T00:00:00Z")
    await Match(h.settings, h.outputs, {})(stream, [event("m", encode(seen))])
    assert stream.current_event is held
    change = CellChange("all", (("week|all", "2025-08-25"),), "m1", {"messages": 1})
    await Aggregate(h.settings, h.outputs, sink, {}, {})(stream, [event("c", encode(change))])
    assert stream.current_event is held


async def test_a_network_batch_replayed_after_a_crash_writes_what_the_crash_left_unwritten() -> (
    None
):
    # The tables change first: replayed, the batch's links are already joined, yet the
    # documents it renamed and the network it founded are written.
    h = Harness()
    link = {"link_id": "L1", "message_ids": ["a", "b"], "ncbs": ["ITA", "FRA"]}
    found = LinkFound(link, {"a": "2025-01-01T00:00:00Z", "b": "2025-01-02T00:00:00Z"})
    networks: dict[str, Any] = {}
    message_links: dict[str, Any] = {}

    class Crash(Sink):
        async def write(self, actions: list[Any]) -> list[Any]:
            raise ConnectionError("killed")

    crashed = Network(h.settings, h.outputs, Crash(), networks, message_links)
    with pytest.raises(ConnectionError):
        await crashed(Stream(), [event("links", encode(found))])
    sink = Sink()
    for doc_id in ("a", "b"):
        sink.docs.setdefault(h.settings.index_alias, {})[doc_id] = {"message_id": doc_id}
    await Network(h.settings, h.outputs, sink, networks, message_links)(
        Stream(), [event("links", encode(found))]
    )
    docs = sink.docs[h.settings.index_alias]
    assert docs["a"].get("network_id") and docs["a"]["network_id"] == docs["b"].get("network_id")
    facts = [read_facts(v) for _, v in h.sent(h.settings.topic_facts)]
    assert [(f.message_id, f.event) for f in facts] == [("a", "founded")]  # type: ignore[union-attr]
    # Written: nothing is pending any more, a third pass writes no document.
    await Network(h.settings, h.outputs, sink, networks, message_links)(
        Stream(), [event("links", encode(found))]
    )
    assert all(a.op != "update" for a in sink.requests[-1])


async def test_a_message_indexed_again_keeps_its_network_id(tmp_path: Any) -> None:
    h, sink = Harness(), Sink()
    stage = index_stage(h, sink, tmp_path)
    r = received(h, h.records(1)[0], offset=3)
    request = event(h.settings.topic_lineage, encode(IndexRequest(r)))
    await stage.write_batch(await stage.prepare(request))
    sink.docs[h.settings.index_alias][r.message_id]["network_id"] = "NET-1"  # the network stage
    await stage.write_batch(await stage.prepare(request))  # replayed after a crash
    assert sink.docs[h.settings.index_alias][r.message_id]["network_id"] == "NET-1"


class CountingTable(dict[str, Any]):
    """A table that counts its writes (each one a changelog record in the worker)."""

    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def _two_reports_of_one_person(h: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two enriched reports of one person from two NCBs, sharing no identifier."""
    a = next(
        r for r in h.records(40) if None not in _birth(r["persons"][0]) and r["persons"][0]["name"]
    )
    b = copy.deepcopy(a)
    b.update(message_id=str(uuid.uuid4()), source_ncb="FRA" if a["source_ncb"] != "FRA" else "ITA")
    b["persons"] = [
        {**b["persons"][0], "phones": [], "emails": [], "documents": [], "online_accounts": []}
    ]
    return enrich(a), enrich(b)


class Refiler:
    """``hst matching refile``'s requests for a document, through the match stage."""

    def __init__(self, h: Harness) -> None:
        self.h, self.table = h, CountingTable()
        self.model = load_model(h.settings.person_model)
        self.match = Match(h.settings, h.outputs, self.table)

    async def __call__(self, doc: dict[str, Any]) -> list[Any]:
        """The links the stage sent for the document's refiled persons."""
        h, n = self.h, self.h.settings.partitions
        before = len(h.sent(h.settings.topic_links))
        requests = refile_requests(doc, self.model, n)
        assert all(r.refile and not r.strong for _, seen in requests for r in seen.items)
        assert all({key_partition(r.key, n) for r in s.items} == {p} for p, s in requests)
        await self.match(Stream(), [event(h.settings.topic_match, encode(s)) for _, s in requests])
        return [read_links(v) for _, v in h.sent(h.settings.topic_links)[before:]]


async def test_refiling_links_persons_filed_before_and_again_adds_nothing() -> None:
    """After a key or model change, two earlier reports of one person meet under new keys."""
    h = Harness()
    doc_a, doc_b = _two_reports_of_one_person(h)
    refile = Refiler(h)
    assert await refile(doc_a) == []  # filed under its keys, nobody there yet
    filed = refile.table.writes
    assert filed == len({k for p in person_refs(doc_a) for k in refile.model.keys(p)})
    links = await refile(doc_b)
    assert links and {x.link["kind"] for x in links} == {FUZZY}
    messages = {doc_a["message_id"], doc_b["message_id"]}
    assert {m for x in links for m in x.link["message_ids"]} == messages
    # Refiled again: already under every key, so no write; the same links come again (the
    # same ids: recorded once downstream), so one lost to a crash would be made.
    writes = refile.table.writes
    again = await refile(doc_a) + await refile(doc_b)
    assert refile.table.writes == writes
    assert {x.link["link_id"] for x in again} == {x.link["link_id"] for x in links}


async def test_refiling_after_a_model_change_links_persons_filed_under_one_key() -> None:
    """Two reports filed under the keys they share, left apart by the old model, are linked."""
    h = Harness()
    doc_a, doc_b = _two_reports_of_one_person(h)
    refile = Refiler(h)
    new_model = refile.model
    refile.match.model = replace(new_model, threshold=1.1)  # the old model: links nothing
    assert await refile(doc_a) == [] and await refile(doc_b) == []
    writes = refile.table.writes
    refile.match.model = new_model  # the workers restarted on the new model
    links = await refile(doc_a)
    assert links and {x.link["kind"] for x in links} == {FUZZY}
    assert refile.table.writes == writes  # both were under every key already


def _birth(person: dict[str, Any]) -> tuple[Any, ...]:
    birth = person.get("birth_date") or {}
    return (birth.get("year"), birth.get("month"), birth.get("day"))
