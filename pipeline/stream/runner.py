"""The agents' loops: thin ``async for`` loops, every event guarded.

An outage holds the event or batch (``pipeline.stream.batches``); any other failure makes the
event a dead letter, never a dead agent. Under index first, derived stages wait while the
indexing path has a backlog (``pipeline.stream.priority``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from pipeline.stream import faustfix
from pipeline.stream.batches import run_batch, run_event
from pipeline.stream.outputs import Outputs
from pipeline.stream.priority import IndexFirst

log = logging.getLogger(__name__)

EventHandler = Callable[[Any], Awaitable[None]]
BatchHandler = Callable[[Any, list[Any]], Awaitable[None]]  # (stream, events)


@contextlib.contextmanager
def event_partitions(stream: Any) -> Iterator[None]:
    """A batch stage's table writes, each in the partition of the event it sets current.

    Put back the event Faust had made current when done: a ``take()`` buffer may be holding
    it for the next batch (it crashed on finding None). No await inside: meanwhile Faust
    could make another event current.
    """
    saved = stream.current_event
    try:
        yield
    finally:
        stream._set_current_event(saved)


class StageRunner:
    """Runs a stage's handler on each event or batch of an agent's stream."""

    def __init__(self, outputs: Outputs, index_first: IndexFirst | None) -> None:
        self.outputs = outputs
        self.index_first = index_first

    async def internal_error(self, stage: str, event: Any, exc: Exception) -> None:
        """An event ``stage`` could not process becomes an ``internal_error`` dead letter."""
        log.error("%s: unexpected error", stage, exc_info=exc)
        await self.outputs.dead_letter_event(event, stage, "internal_error", repr(exc))

    async def per_event(self, stream: Any, *, stage: str, handler: EventHandler) -> None:
        """Run ``handler`` on each event: held through outages, else a dead letter."""
        gate = self.index_first

        async def on_error(event: Any, exc: Exception) -> None:
            await self.internal_error(stage, event, exc)

        async for event in stream.events():
            if gate is not None:
                if event.message.topic in gate.fast:
                    gate.seen(event.message)
                else:  # a derived stage: the indexing path first
                    await gate.wait()
            await run_event(handler, event, stage=stage, on_error=on_error)
            faustfix.mark_done(event)

    async def per_batch(
        self,
        stream: Any,
        *,
        stage: str,
        handler: BatchHandler,
        size: int = 500,
        within: float = 0.5,
    ) -> None:
        """Run ``handler(stream, events)`` on batches, held through outages (``run_batch``).

        ``take_events`` acks the batch even if we raise: a failed batch is held and retried
        instead, and an event that fails on its own (not an outage) becomes a dead letter.
        """

        async def handle(batch: list[Any]) -> None:
            await handler(stream, batch)

        async def on_poison(event: Any, exc: Exception) -> None:
            await self.internal_error(stage, event, exc)

        gate = self.index_first
        async for events in stream.take_events(size, within=within):
            if gate is not None:  # the indexing path first (the buffer waits meanwhile)
                await gate.wait()
            await run_batch(handle, events, stage=stage, on_poison=on_poison)
            for event in events:
                faustfix.mark_done(event)
