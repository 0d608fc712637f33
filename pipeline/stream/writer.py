"""The index stage's writer: one bulk request in flight while the next batch fills.

The index agent decides each event (table writes, forwards, dead letters) as it arrives and
hands the resulting bulk actions here together with the event. A single writer task sends
them in order, one bulk request at a time: whatever accumulated while the previous request
was in flight becomes the next request (natural batching, capped at ``max_batch``), so the
batch grows with the load instead of with a timer. At low load it lingers ``linger`` seconds
to gather a batch.

Events are acknowledged only after their bulk request succeeded (or failed permanently and
was dead-lettered) and the enriched documents were handed to the producer; Faust flushes the
producer before it commits, so no offset moves past an effect that is not durable. While the
search server is unavailable the writer retries the same batch and the agent stops adding
once ``max_pending`` events wait (backpressure), so the consumer pauses instead of losing data.
A batch that fails for another reason is retried event by event, and the event that still
fails goes to ``on_poison`` (the dead-letter topic): a bug cannot hold the stage for good.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.search.bulk import BulkAction
from pipeline.stream.batches import run_batch


@dataclass
class Pending:
    """One event and the bulk actions it produced (possibly none)."""

    event: Any
    actions: list[BulkAction] = field(default_factory=list)


WriteBatch = Callable[[list[BulkAction]], Awaitable[None]]
Ack = Callable[[Any], Awaitable[Any]]
Poison = Callable[[Any, Exception], Awaitable[None]]


class IndexWriter:
    """Ordered, pipelined bulk writer that acknowledges events after their effects."""

    def __init__(
        self,
        write: WriteBatch,
        ack: Ack,
        on_poison: Poison,
        *,
        max_batch: int = 1000,
        linger: float = 0.5,
        max_pending: int = 4000,
        retry_delay: float = 1.0,
    ) -> None:
        self._write = write
        self._ack = ack
        self._on_poison = on_poison
        self.max_batch = max_batch
        self.linger = linger
        self.max_pending = max_pending
        self.retry_delay = retry_delay
        self._pending: deque[Pending] = deque()
        self._pending_actions = 0
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending_events(self) -> int:
        """Events handed over and not yet acknowledged."""
        return len(self._pending)

    async def put(self, event: Any, actions: list[BulkAction]) -> None:
        """Queue an event's actions; waits while the writer is ``max_pending`` behind."""
        self._ensure_running()
        self._pending.append(Pending(event, actions))
        self._pending_actions += len(actions)
        self._wakeup.set()
        if len(self._pending) >= self.max_pending:
            self._room.clear()
            await self._room.wait()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Cancel the writer; unacknowledged events are re-delivered after a restart."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _take(self) -> list[Pending]:
        """Pop the next batch: whole events, at most ``max_batch`` actions (at least one event)."""
        batch: list[Pending] = []
        count = 0
        while self._pending:
            head = self._pending[0]
            if batch and count + len(head.actions) > self.max_batch:
                break
            batch.append(self._pending.popleft())
            count += len(head.actions)
        self._pending_actions -= count
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                continue
            # Linger for a fuller batch unless one is ready (under load it already is).
            deadline = loop.time() + self.linger
            while self._pending_actions < self.max_batch and loop.time() < deadline:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), deadline - loop.time())
                except TimeoutError:
                    break
                self._wakeup.clear()
            batch = self._take()
            await self._write_until_done(batch)
            for pending in batch:
                await self._ack(pending.event)
            if len(self._pending) < self.max_pending:
                self._room.set()
            if self._pending:
                self._wakeup.set()

    async def _write_until_done(self, batch: list[Pending]) -> None:
        """Write a batch, held through outages (``run_batch``).

        An event that keeps failing on its own goes to ``on_poison`` (a dead letter) instead
        of stopping the stage.
        """

        async def write(pendings: list[Pending]) -> None:
            actions = [a for p in pendings for a in p.actions]
            if actions:
                await self._write(actions)

        async def poison(pending: Pending, exc: Exception) -> None:
            await self._on_poison(pending.event, exc)

        await run_batch(write, batch, stage="index", on_poison=poison, first_delay=self.retry_delay)
