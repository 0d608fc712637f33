"""Stage 3: enrich and index (table ``lineage``, keyed by the message_id concerned).

Each lineage input is decided as it arrives (``core.dedupe.decide_lineage``): index,
delete, update or nothing. The bulk actions go to an ``IndexWriter`` that keeps one bulk
request in flight while the next batch fills and retries while the engine is unavailable
(holding the batch: backpressure). Per-item permanent failures become dead letters. Once a
batch is written, its documents go to the enriched topic (compacted: what ``hst reindex``
rebuilds from), each message's facts to the synthesis, deletions to everyone downstream;
only then are the events acknowledged (manual acks on a ``noack`` stream).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from pipeline.core.acks import WITHDRAWN
from pipeline.core.dedupe import decide_lineage
from pipeline.core.enrich import enrich, with_provenance
from pipeline.core.screening import apply_screening
from pipeline.search.bulk import BulkAction
from pipeline.settings import Settings
from pipeline.stream import faustfix, metrics
from pipeline.stream.ingest import iso_ms
from pipeline.stream.outputs import Outputs, utc_now
from pipeline.stream.priority import IndexFirst
from pipeline.stream.records import (
    FactsAdded,
    FactsWithdrawn,
    IndexRequest,
    LinksWithdrawn,
    NotifyWithdrawn,
    lineage_from_dict,
    read_lineage,
)
from pipeline.stream.runner import StageRunner
from pipeline.stream.sink import SearchSink
from pipeline.stream.watchlists import WatchLists
from pipeline.stream.writer import IndexWriter

log = logging.getLogger(__name__)


class Index:
    """Stage 3: lineage decisions, enrichment, bulk writes, then the derived stages' inputs."""

    def __init__(
        self,
        settings: Settings,
        outputs: Outputs,
        sink: SearchSink,
        lineage: Any,
        watchlists: WatchLists,
        runner: StageRunner,
        *,
        worker: str,
        batch_size: int,
        batch_within: float,
    ) -> None:
        self.settings = settings
        self.out = outputs
        self.sink = sink
        self.lineage = lineage  # table: message_id -> status, hash, absorbed ids
        self.watchlists = watchlists
        self.runner = runner
        self.worker = worker
        self.batch_size = batch_size
        self.batch_within = batch_within
        self.writer: IndexWriter | None = None

    @property
    def pending(self) -> int:
        """Events read and not yet written (0 before the agent started)."""
        return self.writer.pending_events if self.writer is not None else 0

    async def agent(self, stream: Any, index_first: IndexFirst | None = None) -> None:
        """The agent: decide each event, hand its actions to the writer."""
        manual = stream.noack()  # events are acked by the writer once their effects are durable

        async def done(event: Any) -> None:
            faustfix.mark_done(event)
            await manual.ack(event)

        async def poison(event: Any, exc: Exception) -> None:
            await self.runner.internal_error("index", event, exc)

        writer = IndexWriter(
            self.write_batch,
            done,
            poison,
            max_batch=self.batch_size,
            linger=self.batch_within,
            max_pending=4 * self.batch_size,
        )
        self.writer = writer
        try:
            async for event in manual.events():
                if index_first is not None:
                    index_first.seen(event.message)
                try:
                    actions = await self.prepare(event)
                except Exception as exc:  # never a dead agent: the event becomes a dead letter
                    await poison(event, exc)
                    actions = []
                await writer.put(event, actions)
        finally:
            await writer.stop()

    async def prepare(self, event: Any) -> list[BulkAction]:
        """Decide one lineage input (table write, forwards); return its bulk actions."""
        alias = self.settings.index_alias
        item = read_lineage(event.message.value)
        target, wire = item.target, item.to_dict()
        decision = decide_lineage(self.lineage.get(target), wire["role"], wire)
        if decision.conflict and isinstance(item, IndexRequest):
            await self.out.dead_letter_message(
                item.received, "dedupe", "message_id_conflict", decision.conflict
            )
            return []
        self.lineage[target] = decision.state
        if isinstance(item, IndexRequest) and decision.action is None:
            by = decision.state.get("by")  # superseded or withdrawn before it reached the index
            await self.out.acknowledge_received(
                item.received,
                WITHDRAWN,
                document_id=target,
                reason=f"{decision.state.get('status')} by {by} before it was indexed",
            )
        for follow in map(lineage_from_dict, decision.forward):
            await self.out.send(self.settings.topic_lineage, follow.target, follow)
        metrics.EVENTS.labels("index", f"{wire['role']}:{decision.action}").inc()
        if decision.action == "delete":
            return [BulkAction("delete", alias, target)]
        if decision.action == "update":
            return [
                BulkAction("update", alias, target, {"absorbed_message_ids": decision.absorbed})
            ]
        if decision.action != "index" or not isinstance(item, IndexRequest):
            return []
        received = item.received
        try:
            doc = enrich(received.record)
        except Exception as exc:
            log.exception("index: cannot enrich %s", target)
            await self.out.dead_letter_message(received, "enrich", "enrich_error", repr(exc))
            return []
        apply_screening(doc, self.watchlists.index().screen(doc))
        with_provenance(
            doc,
            absorbed=decision.absorbed,
            source=received.src,
            timestamp_ms=received.ts,
            received_at=received.received_at,
            worker=self.worker,
        )
        # Merged, not replaced: a message indexed again (a batch replayed after a crash) keeps
        # the network_id the network stage wrote meanwhile, which nothing would write again.
        return [BulkAction("upsert", alias, target, doc, ref=received)]

    async def write_batch(self, actions: list[BulkAction]) -> None:
        """One bulk request (held while the engine is unavailable), then what follows from it."""
        indexed_at = iso_ms(utc_now())
        for action in actions:
            if action.op == "upsert" and action.doc is not None:
                action.doc["processing"]["indexed_at"] = indexed_at
        with metrics.BULK_SECONDS.time():
            failures = await self.sink.write(actions)
        failed = set()
        for failure in failures:
            failed.add(failure.action.doc_id)
            reason = f"{failure.status} {failure.error_type}: {failure.reason}"
            if failure.action.ref is not None:
                await self.out.dead_letter_message(
                    failure.action.ref, "index", failure.error_type, reason
                )
            else:
                log.error(
                    "index: %s %s failed permanently: %s",
                    failure.action.op,
                    failure.action.doc_id,
                    reason,
                )
        s = self.settings
        for action in actions:  # withdrawn or superseded: tell whoever received it
            if action.op == "delete" and action.doc_id not in failed:
                mid = action.doc_id
                # A tombstone: the compacted enriched topic forgets it (`hst reindex` too).
                await self.out.send_bytes(s.topic_enriched, mid, None)
                await self.out.send(s.topic_notify, mid, NotifyWithdrawn(mid))
                await self.out.send(s.topic_links, "links", LinksWithdrawn(mid))
                if s.synthesis_enabled:
                    await self.out.send(s.topic_facts, mid, FactsWithdrawn(mid))
        acked_at = iso_ms(utc_now())  # searchable from here (the latency measurement)
        for action in actions:
            doc = action.doc
            if action.op == "upsert" and action.doc_id not in failed and doc is not None:
                doc["processing"]["acked_at"] = acked_at
                await self.out.send_bytes(s.topic_enriched, action.doc_id, orjson.dumps(doc))
                if s.synthesis_enabled:
                    await self.out.send(
                        s.topic_facts,
                        action.doc_id,
                        FactsAdded.of(doc, s.synthesis_granularities.split(",")),
                    )
