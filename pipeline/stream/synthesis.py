"""Stages 8 and 9: synthesis, exact windowed aggregates and trend alerts.

8. ``facts`` on the facts topic, keyed by message_id (table ``synth_facts``: the cells each
   message counts in): sends the message's measures to every cell it counts in (one
   ``CellChange`` per dimension, keyed by it), or their removal when it is withdrawn; a
   network founded or absorbed counts in its founder's cells.
9. ``aggregate`` on the cells topic (tables ``synth_members``: the contributions of each cell
   by message id, ``synth_series``: messages per window and the alerts raised), in batches:
   totals of the touched cells, trend alerts (``core.synthesis.update_series``), one bulk
   request to ``hst-synthesis``, Avro records on the synthesis topic.

Contributions are kept per message, so a re-processed message replaces its own and a
withdrawal removes it: totals equal a recomputation from the message index. On the topic,
the latest record of a ``record_id`` is the current one.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pipeline.codec import SYNTHESIS, AvroCodec
from pipeline.core.synthesis import total, update_series
from pipeline.search.bulk import BulkAction
from pipeline.settings import Settings
from pipeline.stream import metrics
from pipeline.stream.outputs import Outputs, utc_now
from pipeline.stream.records import CellChange, FactsAdded, FactsWithdrawn, read_cells, read_facts
from pipeline.stream.runner import event_partitions
from pipeline.stream.sink import SearchSink

log = logging.getLogger(__name__)

WITHDRAWN = "WITHDRAWN"  # ``synth_facts`` value of a withdrawn message: later facts are ignored


def cell_changes(message_id: str, entry: dict[str, Any], remove: bool = False) -> list[CellChange]:
    """A message's measures (with its network event) for its cells, one record per dimension."""
    by_dimension: dict[str, list[tuple[str, str]]] = {}
    for series, window in entry.get("cells") or []:
        by_dimension.setdefault(series.partition("|")[2], []).append((series, window))
    measures = None
    if not remove:
        event = (entry.get("networks") or {}).get("event")
        measures = {
            **entry["measures"],
            "networks_new": int(event == "founded"),
            "networks_merged": int(event == "absorbed"),
        }
    return [
        CellChange(dim, tuple(cells), message_id, measures) for dim, cells in by_dimension.items()
    ]


class Facts:
    """Stage 8: a message's contributions to its cells (or their removal)."""

    def __init__(self, settings: Settings, outputs: Outputs, facts: Any) -> None:
        self.settings = settings
        self.out = outputs
        self.facts = facts  # table: message_id -> cells, measures, network event (or WITHDRAWN)

    async def __call__(self, event: Any) -> None:
        """Apply one ``FactsAdded``, ``FactsWithdrawn`` or ``NetworkChanged``."""
        item = read_facts(event.message.value)
        mid = item.message_id
        old = self.facts.get(mid)
        if old == WITHDRAWN:
            return  # a replay of a message withdrawn since
        if isinstance(item, FactsWithdrawn):
            if isinstance(old, dict):
                await self._send(cell_changes(mid, old, remove=True))
            self.facts[mid] = WITHDRAWN
            metrics.EVENTS.labels("facts", "removed").inc()
            return
        entry = dict(old or {})
        if isinstance(item, FactsAdded):
            # A network event may have come first: it is kept.
            entry.update(cells=[list(c) for c in item.cells], measures=item.measures)
            outcome = "added"
        else:
            if (entry.get("networks") or {}).get("event") == "absorbed":
                return  # absorbed is final: the founder's id no longer names a network
            entry["networks"] = {"event": item.event, "network_id": item.network_id}
            outcome = f"network_{item.event}"
        if entry.get("cells"):
            await self._send(cell_changes(mid, entry))
        self.facts[mid] = entry
        metrics.EVENTS.labels("facts", outcome).inc()

    async def _send(self, changes: list[CellChange]) -> None:
        for change in changes:
            await self.out.send(self.settings.topic_cells, change.dimension, change)


class Aggregate:
    """Stage 9: totals of the touched cells, alerts, one bulk request per batch."""

    def __init__(
        self, settings: Settings, outputs: Outputs, sink: SearchSink, members: Any, series: Any
    ) -> None:
        self.settings = settings
        self.out = outputs
        self.sink = sink
        self.members = members  # table: "series|window" -> {message_id: measures}
        self.series = series  # table: series -> windows, first window, alerted windows
        self.codec = AvroCodec(SYNTHESIS)

    def apply(
        self, stream: Any, events: list[Any], now: dt.datetime
    ) -> tuple[list[dict[str, Any]], list[BulkAction]]:
        """New totals of the touched cells in the tables; the records and bulk actions they make.

        Each cell's members are read and written once per batch: a busy cell (the week of
        "all") holds hundreds of messages, and every write goes to the changelog.
        """
        s = self.settings
        members_of: dict[str, dict[str, Any]] = {}
        event_of: dict[str, Any] = {}  # cell or series -> the event whose partition it lives in
        touched: dict[str, set[str]] = {}
        for event in events:
            change = read_cells(event.message.value)
            for series, window in change.cells:
                key = f"{series}|{window}"
                if key not in members_of:
                    stream._set_current_event(event)
                    members_of[key] = dict(self.members.get(key) or {})
                if change.measures is None:
                    members_of[key].pop(change.message_id, None)
                else:
                    members_of[key][change.message_id] = change.measures
                event_of[key] = event_of[series] = event
                touched.setdefault(series, set()).add(window)
        for key, members in members_of.items():
            stream._set_current_event(event_of[key])  # tables write to the event's partition
            self.members[key] = members
        records: list[dict[str, Any]] = []
        actions: list[BulkAction] = []
        for series, windows in touched.items():
            stream._set_current_event(event_of[series])
            cells = {w: total(members_of[f"{series}|{w}"].values()) for w in windows}
            update = update_series(
                series, self.series.get(series), cells, s.synthesis_retention_days, now
            )
            for window in update.expired:
                self.members.pop(f"{series}|{window}", None)
            self.series[series] = update.state
            records += update.records
            created = now.isoformat()
            actions += [
                BulkAction("index", s.synthesis_alias, r["record_id"], {**r, "created_at": created})
                for r in update.records
            ]
            actions += [BulkAction("delete", s.synthesis_alias, rid) for rid in update.deleted]
            metrics.EVENTS.labels("aggregate", "alert").inc(update.raised)
            metrics.EVENTS.labels("aggregate", "alert_retracted").inc(update.retracted)
        return records, actions

    async def __call__(self, stream: Any, events: list[Any]) -> None:
        """Apply a batch of contributions; write the touched cells and alerts."""
        now = utc_now()
        with event_partitions(stream):
            records, actions = self.apply(stream, events, now)
        for failure in await self.sink.write(actions):
            if failure.status != 404:  # a cell already gone
                log.error(
                    "aggregate: %s %s failed: %s",
                    failure.action.op,
                    failure.action.doc_id,
                    failure.reason,
                )
        for record in records:
            value = self.codec.encode(record)
            await self.out.send_bytes(self.settings.topic_synthesis, record["series"], value)
        metrics.EVENTS.labels("aggregate", "cells").inc(len(records))
