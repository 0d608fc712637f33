"""Synthesis in the stream: exact windowed aggregates and trend alerts.

Two agents after indexing (pure rules in ``pipeline.core.synthesis``):

8. ``facts`` on ``<inbound>.facts`` (each indexed document, withdrawals), keyed by
   message_id (table ``synth_facts``: the cells each message counts in): sends one
   contribution per cell to ``<inbound>.cells`` keyed by series, or its removal when the
   message is withdrawn or replaced.
9. ``aggregate`` on ``<inbound>.cells`` (tables ``synth_members``: the contributions of each
   cell by message id, and ``synth_series``: messages per window and the alerts raised),
   in batches: totals of the touched cells, trend alerts on weekly cells, one bulk request
   to ``hst-synthesis``, Avro records on the synthesis topic.

Contributions are kept per message, so a re-processed message replaces its own and a
withdrawal removes it: totals equal a recomputation from the message index. An alert
(one per series and week, id ``alert_id``) is re-written with the window's current numbers
whenever the window changes, and deleted from the index if withdrawals take it back under
the bar; on the topic, the latest record of an ``record_id`` is the current one.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import orjson

from pipeline.codec import SYNTHESIS, AvroCodec
from pipeline.core.synthesis import (
    WEEK,
    alert_id,
    cell_id,
    contributions,
    expired,
    total,
    trend,
    window_end,
)
from pipeline.search.bulk import BulkAction
from pipeline.stream import metrics

if TYPE_CHECKING:
    from pipeline.stream.app import Pipeline

log = logging.getLogger("hst.worker")

WITHDRAWN = "WITHDRAWN"  # ``synth_facts`` value of a withdrawn message: later adds are ignored


def cell_record(
    series: str, window: str, measures: dict[str, int], now: dt.datetime
) -> dict[str, Any]:
    """An Avro ``SynthesisRecord`` datum (and search document) of one cell."""
    granularity, _, dim = series.partition("|")
    dimension, _, value = dim.partition(":")
    start = dt.date.fromisoformat(window)
    return {
        "record_id": cell_id(series, window), "kind": "CELL", "granularity": granularity,
        "series": series, "dimension": dimension, "value": value, "window_start": window,
        "window_end": window_end(start, granularity).isoformat(), "measures": measures,
        "z": None, "median": None, "mad": None, "baseline": [], "reason": None, "created_at": now,
    }  # fmt: skip


class Synthesis:
    """The synthesis agents of one worker."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        settings = pipeline.settings
        app = pipeline.app
        self.codec = AvroCodec(SYNTHESIS)
        self.facts_topic = pipeline._raw_topic(settings.topic_facts)
        self.cells_topic = pipeline._raw_topic(settings.topic_cells)
        self.out_topic = pipeline._raw_topic(settings.topic_synthesis)
        self.facts_table = app.Table("synth_facts", partitions=settings.partitions)
        self.members_table = app.Table("synth_members", partitions=settings.partitions)
        self.series_table = app.Table("synth_series", partitions=settings.partitions)
        app.agent(self.facts_topic, name="facts", concurrency=1)(self._facts_agent)
        app.agent(self.cells_topic, name="aggregate", concurrency=1)(self._aggregate_agent)

    async def withdrawn(self, message_id: str) -> None:
        """A message left the index: remove it from every aggregate."""
        await self.facts_topic.send(
            key=message_id.encode(), value=orjson.dumps({"withdrawn": message_id})
        )

    async def network(self, founder: str, event: str, network_id: str) -> None:
        """A message founded a network (``founded``) or its network was merged into another (``absorbed``)."""
        await self.facts_topic.send(key=founder.encode(), value=orjson.dumps(
            {"network": {"mid": founder, "event": event, "network_id": network_id}}))  # fmt: skip

    # -- 8. contributions ------------------------------------------------------------------
    async def _facts_agent(self, stream: Any) -> None:
        await self.p.per_event(stream, "facts", self.fact_event)

    async def fact_event(self, event: Any) -> None:
        """Send a message's contributions (or their removal) to the cells it counts in."""
        env = orjson.loads(event.message.value or b"{}")
        if "withdrawn" in env:
            mid = env["withdrawn"]
            old = self.facts_table.get(mid)
            if isinstance(old, dict):
                for dim, cells in _by_dimension(old.get("cells") or []).items():
                    await self._cell({"dim": dim, "cells": cells, "mid": mid, "remove": True})
            self.facts_table[mid] = WITHDRAWN
            metrics.EVENTS.labels("facts", "removed").inc()
            return
        if "network" in env:
            await self._network_fact(env["network"])
            return
        mid = env["message_id"]
        entry = self.facts_table.get(mid)
        if entry == WITHDRAWN:
            return  # a replay of a message withdrawn since
        contributed = contributions(env)
        networks = (entry or {}).get("networks") or {}  # a network event may come first
        entry = {"cells": [[c.series, c.window] for c in contributed],
                 "measures": contributed[0].measures if contributed else {}, "networks": networks}  # fmt: skip
        await self._contribute(mid, entry)
        self.facts_table[mid] = entry
        metrics.EVENTS.labels("facts", "added").inc()

    async def _network_fact(self, change: dict[str, str]) -> None:
        """Count a founded or absorbed network in the cells of its founder's message."""
        mid = change["mid"]
        entry = self.facts_table.get(mid)
        if entry == WITHDRAWN:
            return
        entry = dict(entry or {})
        networks = dict(entry.get("networks") or {})
        if networks.get("event") == "absorbed":
            return  # absorbed is final: the founder's id no longer names a network
        networks = {"event": change["event"], "network_id": change["network_id"]}
        entry["networks"] = networks
        if entry.get("cells") is not None:
            await self._contribute(mid, entry)
        self.facts_table[mid] = entry
        metrics.EVENTS.labels("facts", f"network_{change['event']}").inc()

    async def _contribute(self, mid: str, entry: dict[str, Any]) -> None:
        """Send a message's measures (with its network events) to every cell it counts in."""
        if not entry["cells"]:
            return
        event = (entry.get("networks") or {}).get("event")
        measures = {**entry["measures"], "networks_new": int(event == "founded"),
                    "networks_merged": int(event == "absorbed")}  # fmt: skip
        for dim, dim_cells in _by_dimension(entry["cells"]).items():
            await self._cell({"dim": dim, "cells": dim_cells, "mid": mid, "measures": measures})

    async def _cell(self, body: dict[str, Any]) -> None:
        await self.cells_topic.send(key=body["dim"].encode(), value=orjson.dumps(body))

    # -- 9. aggregates and alerts ----------------------------------------------------------
    async def _aggregate_agent(self, stream: Any) -> None:
        await self.p.per_batch(stream, "aggregate", self.aggregate_batch)

    async def aggregate_batch(self, stream: Any, events: list[Any]) -> None:
        """Apply a batch of contributions; write the touched cells and any new alert."""
        settings = self.p.settings
        now = dt.datetime.now(tz=dt.UTC)
        touched: dict[str, set[str]] = {}
        event_of: dict[str, Any] = {}
        # Each cell's members are read once and written once per batch: a busy cell (the
        # week of "all") holds hundreds of messages, and every write goes to the changelog.
        members_of: dict[str, dict[str, Any]] = {}
        event_of_key: dict[str, Any] = {}
        for event in events:
            body = orjson.loads(event.message.value or b"{}")
            body_cells = body.get("cells") or [[body["series"], body["window"]]]  # older records
            for series, window in body_cells:
                key = f"{series}|{window}"
                if key not in members_of:
                    stream._set_current_event(event)
                    members_of[key] = dict(self.members_table.get(key) or {})
                if body.get("remove"):
                    members_of[key].pop(body["mid"], None)
                else:
                    members_of[key][body["mid"]] = body["measures"]
                event_of_key[key] = event
                touched.setdefault(series, set()).add(window)
                event_of[series] = event
        for key, members in members_of.items():
            stream._set_current_event(event_of_key[key])  # tables write to the event's partition
            self.members_table[key] = members
        records: list[dict[str, Any]] = []
        actions: list[BulkAction] = []
        for series, windows in touched.items():
            stream._set_current_event(event_of[series])
            state = dict(
                self.series_table.get(series) or {"windows": {}, "first": None, "alerted": []}
            )
            counts: dict[str, int] = dict(state["windows"])
            cells: dict[str, dict[str, int]] = {}
            for window in windows:
                measures = total(members_of[f"{series}|{window}"].values())
                cells[window] = measures
                if measures["messages"]:
                    counts[window] = measures["messages"]
                else:
                    counts.pop(window, None)
            granularity = series.partition("|")[0]
            newest = max(counts, default=None)
            for window in [w for w in counts if newest and expired(w, newest, granularity,
                                                                   settings.synthesis_retention_days)]:  # fmt: skip
                counts.pop(window)
                self.members_table.pop(f"{series}|{window}", None)
                cells.pop(window, None)
                actions.append(
                    BulkAction("delete", settings.synthesis_alias, cell_id(series, window))
                )
            first = min([w for w in (state["first"], *counts) if w], default=None)
            alerted = list(state["alerted"])
            for window, measures in sorted(cells.items()):
                record = cell_record(series, window, measures, now)
                if measures["messages"]:
                    records.append(record)
                    actions.append(BulkAction("index", settings.synthesis_alias, record["record_id"],
                                              _doc(record)))  # fmt: skip
                else:  # every contribution withdrawn
                    actions.append(
                        BulkAction("delete", settings.synthesis_alias, record["record_id"])
                    )
                if granularity != WEEK or first is None:
                    continue
                t = trend(counts, window, first)
                aid = alert_id(series, window)
                if t.alert:  # raised, or updated with the window's current numbers
                    if window not in alerted:
                        alerted.append(window)
                        metrics.EVENTS.labels("aggregate", "alert").inc()
                    alert = {**record, "record_id": aid, "kind": "ALERT",
                             "z": t.z, "median": t.median, "mad": t.mad, "baseline": t.baseline,
                             "reason": (f"{t.count} messages in the week of {window} on {record['dimension']} "
                                        f"{record['value']}; previous {len(t.baseline)} weeks {t.baseline} "
                                        f"(median {t.median:g}, MAD {t.mad:g}): robust z = {t.z:.1f}")}  # fmt: skip
                    records.append(alert)
                    actions.append(BulkAction("index", settings.synthesis_alias, aid, _doc(alert)))
                elif window in alerted:  # withdrawals took the window back under the bar
                    alerted.remove(window)
                    actions.append(BulkAction("delete", settings.synthesis_alias, aid))
                    metrics.EVENTS.labels("aggregate", "alert_retracted").inc()
            self.series_table[series] = {"windows": counts, "first": first, "alerted": alerted}
        stream._set_current_event(None)
        failures = await self.p.write(actions)
        for failure in failures:
            if failure.status != 404:  # a cell already gone
                log.error(
                    "aggregate: %s %s failed: %s",
                    failure.action.op,
                    failure.action.doc_id,
                    failure.reason,
                )
        for record in records:
            await self.out_topic.send(
                key=record["series"].encode(), value=self.codec.encode(record)
            )
        metrics.EVENTS.labels("aggregate", "cells").inc(len(records))


def _by_dimension(cells: list[list[str]]) -> dict[str, list[list[str]]]:
    """Cells grouped by dimension (``route:X``), the key of the cells topic."""
    out: dict[str, list[list[str]]] = {}
    for series, window in cells:
        out.setdefault(series.partition("|")[2], []).append([series, window])
    return out


def _doc(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "created_at": record["created_at"].isoformat()}
