"""Watch a worker's offset commits for partitions held back by a hole in the acknowledgements.

A worker commits a partition up to the first offset no stream acknowledged
(``pipeline.stream.faustfix``). Should an offset stay unacknowledged while later ones are
(a record dropped between fetch and agent in a rebalance), the commit would stop for good
while the worker goes on: lag grows, and the next rebalance replays everything since. The
watch finds such a hole after ``stall_after`` seconds and seeks the partition back to its
committed offset, so the missing records are delivered again (every effect is idempotent).
So too when the dropped records are a partition's last: read to its end, none acknowledged
and none in hand (no later record would show that hole; it is delivered again once).
A hole that is still there ``stall_after`` seconds after that seek holds no record (a
transaction marker or a compacted offset): it is marked as a gap and the commit moves on.

A partition the group never committed must be committed from where it begins: the watch
learns its earliest offset (``faustfix.note_starts``), and a hole there is one like any other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.stream import metrics
from pipeline.stream.faustfix import (
    commit_start,
    gaps_count,
    known_commit,
    note_starts,
    start_of,
)

log = logging.getLogger(__name__)

SEEK = "seek"  # first remedy: deliver the partition again from its committed offset
SKIP = "skip"  # second: the hole holds no record


@dataclass(frozen=True)
class Hole:
    """A partition whose commit is held back, and what to do about it."""

    tp: Any
    committed: int
    after: int  # the first offset past the hole (acknowledged, or the end)
    held_for: float
    action: str
    tail: bool = False  # nothing acknowledged past it: the partition's last records


@dataclass
class CommitWatch:
    """Find partitions whose commit is held back; seek them back, then skip what is not there."""

    consumer: Any
    stall_after: float = 20.0
    clock: Callable[[], float] = time.monotonic
    _waiting: dict[Any, tuple[int, float]] = field(default_factory=dict)  # tp -> (offset, since)
    _sought: dict[Any, int] = field(default_factory=dict)  # tp -> offset already sought back to

    def holes(self) -> list[Hole]:
        """Partitions held at the same committed offset for ``stall_after`` seconds, with a remedy."""
        now = self.clock()
        consumer = self.consumer
        in_hand = {m.tp for m in list(consumer._unacked_messages)}
        found: list[Hole] = []
        waiting: dict[Any, tuple[int, float]] = {}
        for tp in consumer.assignment():
            committed = commit_start(consumer._committed_offset.get(tp), start_of(tp))
            if committed is None:
                continue
            acked = consumer._acked.get(tp) or []
            if acked:
                if min(acked) <= committed:
                    continue
                after, tail = min(acked), False
            else:
                end = None if tp in in_hand else self._read_to(tp, committed)
                if end is None:
                    continue
                after, tail = end, True
            offset, since = self._waiting.get(tp, (committed, now))
            if offset != committed:  # the commit moved: a new wait starts
                since = now
            waiting[tp] = (committed, since)
            if now - since >= self.stall_after:
                sought = self._sought.get(tp) == committed
                if tail and sought:  # delivered again already: what is left is no record
                    continue
                # On the pipeline's own topics a gap would not count (no transaction markers
                # there: the record exists), so the only remedy is to deliver it again.
                action = SKIP if sought and gaps_count(tp.topic) else SEEK
                found.append(Hole(tp, committed, after, now - since, action, tail))
        self._waiting = waiting
        self._sought = {tp: o for tp, o in self._sought.items() if tp in waiting}
        return found

    def _read_to(self, tp: Any, committed: int) -> int | None:
        """The partition's end, when its records past ``committed`` were all read and none acked.

        With none in hand either, the last records were dropped between fetch and agent,
        and no later record will show the hole: the partition's lag would stay for good.
        """
        consumer = self.consumer
        read = consumer._read_offset.get(tp)
        try:
            end = consumer.highwater(tp)
        except Exception:  # the partition's fetch state is being replaced: next round
            return None
        if read is None or end is None or end <= committed or read + 1 < end:
            return None
        return int(end)

    async def learn_starts(self) -> None:
        """Look up where the partitions never committed begin (their first commit starts there).

        Looked up again on every round while they stay uncommitted: retention may move it.
        """
        consumer = self.consumer
        fresh = [
            tp
            for tp in consumer.assignment()
            if known_commit(consumer._committed_offset.get(tp)) is None
        ]
        if not fresh:
            return
        try:
            starts = await consumer.earliest_offsets(*fresh)
        except Exception as exc:  # a rebalance or a broker away: the next round asks again
            log.debug("earliest offsets unknown for now: %r", exc)
            return
        note_starts({tp: offset for tp, offset in starts.items() if offset is not None})

    async def repair(self) -> list[Hole]:
        """Learn where new partitions begin, apply each hole's remedy; return the holes found."""
        if self.consumer.app.rebalancing:  # offsets are being reset: nothing to judge
            return []
        await self.learn_starts()
        if self.consumer.app.rebalancing:  # one began meanwhile
            return []
        found = self.holes()
        for hole in found:
            metrics.COMMIT_HOLES.labels(hole.action).inc()
            if hole.action == SEEK:
                log.warning(
                    "commit of %s held at offset %d for %.0fs while %s: delivering the "
                    "partition again from %d",
                    hole.tp,
                    hole.committed,
                    hole.held_for,
                    f"every record to {hole.after - 1} was read and none is in hand"
                    if hole.tail
                    else f"{hole.after} is acknowledged",
                    hole.committed,
                )
                await self._seek(hole.tp, hole.committed)
                self._sought[hole.tp] = hole.committed
            else:
                log.warning(
                    "commit of %s still held at offset %d after delivering it again: offsets "
                    "%d..%d hold no record; moving on",
                    hole.tp,
                    hole.committed,
                    hole.committed,
                    hole.after - 1,
                )
                self.consumer._gap[hole.tp].addi(hole.committed, hole.after)
            self._waiting.pop(hole.tp, None)
        return found

    async def _seek(self, tp: Any, offset: int) -> None:
        # Stop fetching first, as Faust does in a rebalance: records already in hand would
        # otherwise arrive after the seek and pass for a gap.
        consumer = self.consumer
        app = consumer.app
        rebalances = app.rebalancing_count
        consumer.stop_flow()
        try:
            await asyncio.sleep(0.2)
            if app.rebalancing_count == rebalances:
                await consumer.seek(tp, offset)
        finally:
            # A rebalance meanwhile seeks every partition itself and resumes the flow after.
            if not app.rebalancing and app.rebalancing_count == rebalances:
                consumer.resume_flow()
