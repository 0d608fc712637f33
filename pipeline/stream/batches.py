"""Run a batch handler so that an outage holds the batch and a poison event cannot.

Faust acknowledges a ``take()`` batch even when the handler raises, so a failed batch is
held and retried here. Holding is right while a server is unavailable (the batch goes
through when it returns: backpressure), but a batch that fails for any other reason (a bug,
a record the code cannot handle) would fail forever and stop its stage for good. After
``attempts`` such failures the batch is taken apart: each event is retried alone, and the
one that still fails goes to ``on_poison`` (the dead-letter topic) while the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from elasticsearch import ApiError, TransportError

from pipeline.errors import HstError, TransientError
from pipeline.search.bulk import error_status, retryable_status

log = logging.getLogger(__name__)

E = TypeVar("E")


class Holds:
    """The stages holding an event or a batch through an outage now, and since when.

    The worker's ``/ready`` and ``/health`` report them: a held stage makes no progress
    until its server returns, so the worker is out of service meanwhile.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._since: dict[str, float] = {}

    def hold(self, stage: str) -> None:
        """``stage`` holds an event (the first hold of a run of failures counts)."""
        self._since.setdefault(stage, self.clock())

    def release(self, stage: str) -> None:
        """``stage`` went through."""
        self._since.pop(stage, None)

    def held(self) -> dict[str, float]:
        """Each held stage with the seconds it has held so far."""
        now = self.clock()
        return {stage: round(now - since, 1) for stage, since in sorted(self._since.items())}


HOLDS = Holds()  # the worker's: one process runs each stage once


def is_transient(exc: BaseException) -> bool:
    """An error that waiting can cure: a server unavailable, overloaded or timing out."""
    if isinstance(exc, HstError):  # the project's own errors say which kind they are
        return isinstance(exc, TransientError)
    if isinstance(exc, ApiError):
        return retryable_status(error_status(exc))
    if isinstance(exc, MessageSizeTooLargeError | RecordTooLargeError):
        return False  # the record itself: no wait makes it fit
    return isinstance(exc, TransportError | KafkaError | OSError)  # TimeoutError is an OSError


async def run_event(
    handle: Callable[[E], Awaitable[None]],
    event: E,
    *,
    stage: str,
    on_error: Callable[[E, Exception], Awaitable[None]],
    first_delay: float = 1.0,
    max_delay: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    holds: Holds = HOLDS,
) -> None:
    """Handle one event; an outage holds it, any other error goes to ``on_error`` at once.

    Held means retried with capped backoff for as long as it takes: a Kafka send or a
    schema-registry lookup that fails for a moment never makes a dead letter.
    """
    delay = first_delay
    while True:
        try:
            await handle(event)
            holds.release(stage)
            return
        except Exception as exc:  # classified: an outage is held, anything else dead-lettered
            if not is_transient(exc):
                holds.release(stage)
                await on_error(event, exc)
                return
            holds.hold(stage)
            log.warning(
                "%s: event held (%s: %s); retry in %.0fs", stage, type(exc).__name__, exc, delay
            )
            await sleep(delay)
            delay = min(max_delay, delay * 2)


async def run_batch(
    handle: Callable[[list[E]], Awaitable[None]],
    events: Sequence[E],
    *,
    stage: str,
    on_poison: Callable[[E, Exception], Awaitable[None]],
    attempts: int = 3,
    first_delay: float = 1.0,
    max_delay: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    holds: Holds = HOLDS,
) -> None:
    """Handle ``events`` as one batch; hold through outages; isolate a poison event."""
    batch = list(events)
    delay = first_delay
    failures = 0
    while True:
        try:
            await handle(batch)
            holds.release(stage)
            return
        except Exception as exc:  # classified below: an outage is held, anything else counted
            transient = is_transient(exc)
            failures += 0 if transient else 1
            if failures >= attempts:
                holds.release(stage)
                error = exc
                break
            holds.hold(stage)
            log.warning(
                "%s: batch of %d failed (%s: %s); holding it, retry in %.0fs",
                stage,
                len(batch),
                type(exc).__name__,
                exc,
                delay,
                exc_info=not transient,
            )
            await sleep(delay)
            delay = min(max_delay, delay * 2)
    if len(batch) == 1:
        log.error("%s: event failed %d times (%r): dead-lettered", stage, failures, error)
        await on_poison(batch[0], error)
        return
    log.error(
        "%s: batch of %d keeps failing (%r): retrying its events one by one",
        stage,
        len(batch),
        error,
    )
    for event in batch:
        await run_batch(
            handle,
            [event],
            stage=stage,
            on_poison=on_poison,
            attempts=attempts,
            first_delay=first_delay,
            max_delay=max_delay,
            sleep=sleep,
            holds=holds,
        )
