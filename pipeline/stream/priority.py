"""Index first: while the indexing path has a backlog, the derived stages wait.

One worker's stages share one event loop, and on a small machine the broker and the search
server too. A burst of 3,000 messages was searchable after ~30 s with cross-matching,
diffusion and synthesis running beside the indexing, ~21 s without them (measured on the
embedded stack, 2 cores). Searchable within seconds is what analysts rely on; notices,
links and aggregates follow from the indexed documents anyway. So while the indexing path
(inbound, content and lineage topics, and the index writer's queue) holds more than ``high``
records on this worker, the derived stages' agents wait before their next event; they go on
once the backlog is down to ``low``, or after ``max_pause`` seconds at most, and then run at
least ``min_run`` seconds: under a sustained overload the derived stages still progress.

The agents wait; the consumer is not paused. Pausing partitions in Faust changes the set
its fetch loop is iterating, and the records of a partition paused mid-batch are dropped
(the commit watch then found hundreds of holes in a 20,000-message run). A waiting agent
fills its stream buffer and Faust stops fetching for it by its own means. Nothing is
acknowledged before it is processed, so at-least-once holds. During a rebalance and at
shutdown the gate stays open: Faust waits for the streams to be empty.

Every derived stage waits: the per-event ones (fanout, notify, facts) before each event,
the batch ones (match, network, aggregate) before each batch, while ``take()`` holds its
buffer. (Such a wait once crashed the buffer, ``Take buffer found current_event is None``:
the batch stages left None current for the event the buffer was holding. They now give it
back: ``runner.event_partitions``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.stream import metrics


@dataclass
class Throttle:
    """When to pause the derived stages, from the indexing backlog (pure: clock injected)."""

    high: int
    low: int
    max_pause: float
    min_run: float
    paused_since: float | None = None
    running_since: float = field(default=-math.inf)

    def step(self, backlog: int, now: float) -> bool:
        """Whether the derived stages should be paused now."""
        if self.paused_since is None:
            if backlog > self.high and now - self.running_since >= self.min_run:
                self.paused_since = now
                return True
            return False
        if backlog <= self.low or now - self.paused_since >= self.max_pause:
            self.paused_since, self.running_since = None, now
            return False
        return True

    def reset(self) -> None:
        """Forget the state (after a rebalance)."""
        self.paused_since, self.running_since = None, -math.inf


class IndexFirst:
    """A gate the derived stages pass before each event, closed while the indexing backlog is high."""

    def __init__(
        self,
        app: Any,
        fast: Iterable[str],
        throttle: Throttle,
        clock: Callable[[], float] = time.monotonic,
        in_flight: Callable[[], int] = lambda: 0,
    ) -> None:
        self.app = app
        self.fast = set(fast)
        self.throttle = throttle
        self.clock = clock
        self.in_flight = in_flight  # read but not yet indexed (the index writer's queue)
        self.positions: dict[Any, int] = {}  # partition of a fast topic -> last offset seen
        self._open = asyncio.Event()
        self._open.set()

    @property
    def closed(self) -> bool:
        """Whether the derived stages are waiting."""
        return not self._open.is_set()

    def seen(self, message: Any) -> None:
        """Record that a stage of the indexing path took ``message`` (cheap: a dict write)."""
        if message.topic in self.fast:
            self.positions[message.tp] = message.offset

    async def wait(self) -> None:
        """Return when the derived stages may go on (at once unless the gate is closed).

        Re-checked every quarter second: a rebalance or a shutdown waits for the streams to be
        empty, so an agent must not hold its event until the next tick opens the gate.
        """
        while not self._open.is_set() and not self._standing_aside():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._open.wait(), 0.25)

    def _standing_aside(self) -> bool:
        app = self.app
        return bool(app.rebalancing or getattr(app, "in_recovery", False) or app.should_stop)

    def backlog(self, assignment: Iterable[Any]) -> int:
        """Records on the indexing path this worker holds: unread, or read and not yet indexed."""
        consumer = self.app.consumer
        total = self.in_flight()
        for tp in assignment:
            if tp.topic not in self.fast or tp not in self.positions:
                continue  # nothing read there yet: no position to count from
            highwater = consumer.highwater(tp)
            if highwater is not None:
                total += max(0, highwater - self.positions[tp] - 1)
        return total

    def revoked(self) -> None:
        """Forget positions and open the gate: the partitions change hands (every rebalance).

        A position kept from before a rebalance would count, on a partition given back to
        this worker, records another worker has processed meanwhile: a backlog that never
        goes down, and derived stages paused 30 s of every 33 (seen in a rolling restart).
        """
        self.positions.clear()
        self.throttle.reset()
        self._set(closed=False)

    def tick(self) -> None:
        """Close or open the gate (run from a timer)."""
        if self._standing_aside():
            self.revoked()
            return
        assignment = set(self.app.consumer.assignment())
        self._set(closed=self.throttle.step(self.backlog(assignment), self.clock()))

    def _set(self, *, closed: bool) -> None:
        if closed:
            self._open.clear()
        else:
            self._open.set()
        metrics.DERIVED_PAUSED.set(1 if closed else 0)
