"""Batches held through outages; a poison event dead-lettered instead of stopping the stage."""

from __future__ import annotations

import pytest
from aiokafka.errors import KafkaTimeoutError
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError
from elasticsearch import ConnectionError as SearchConnectionError

from pipeline.stream.batches import is_transient, run_batch


def api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "h", 9200))
    return ApiError("refused", meta, {})


class Recorder:
    """A batch handler whose failures are scripted, and what it saw."""

    def __init__(self, fail: object) -> None:
        self.fail = fail  # callable(batch, call number) -> exception or None
        self.handled: list[int] = []
        self.calls = 0
        self.poisoned: list[tuple[int, str]] = []
        self.delays: list[float] = []

    async def handle(self, batch: list[int]) -> None:
        self.calls += 1
        exc = self.fail(batch, self.calls)  # type: ignore[operator]
        if exc is not None:
            raise exc
        self.handled += batch

    async def poison(self, event: int, exc: Exception) -> None:
        self.poisoned.append((event, type(exc).__name__))

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)

    async def run(self, events: list[int], attempts: int = 3) -> None:
        await run_batch(
            self.handle,
            events,
            stage="test",
            on_poison=self.poison,
            attempts=attempts,
            sleep=self.sleep,
        )


async def test_an_outage_holds_the_batch_until_it_goes_through() -> None:
    # Ten failures in a row, more than ``attempts``: an outage is never given up on.
    rec = Recorder(lambda batch, n: SearchConnectionError("down") if n <= 10 else None)
    await rec.run([1, 2, 3])
    assert rec.handled == [1, 2, 3]
    assert rec.poisoned == []
    assert rec.delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(rec.delays) == 60.0


async def test_a_poison_event_is_dead_lettered_and_the_others_are_handled() -> None:
    rec = Recorder(lambda batch, n: TypeError("bug") if 2 in batch else None)
    await rec.run([1, 2, 3])
    assert rec.handled == [1, 3]
    assert rec.poisoned == [(2, "TypeError")]


async def test_every_failing_event_is_dead_lettered_once() -> None:
    rec = Recorder(lambda batch, n: KeyError("x") if set(batch) & {1, 3} else None)
    await rec.run([1, 2, 3, 4])
    assert rec.handled == [2, 4]
    assert rec.poisoned == [(1, "KeyError"), (3, "KeyError")]


async def test_a_failure_that_clears_on_retry_loses_nothing() -> None:
    rec = Recorder(lambda batch, n: ValueError("once") if n == 1 else None)
    await rec.run([1, 2])
    assert rec.handled == [1, 2]
    assert rec.poisoned == []


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (SearchConnectionError("refused"), True),
        (api_error(503), True),
        (api_error(429), True),
        (api_error(400), False),
        (KafkaTimeoutError(), True),
        (TimeoutError(), True),
        (TypeError("bug"), False),
        (KeyError("field"), False),
    ],
)
def test_which_errors_count_as_an_outage(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


async def test_an_event_is_held_through_an_outage_and_a_bug_is_dead_lettered_at_once() -> None:
    from pipeline.stream.batches import Holds, run_event

    calls: list[str] = []
    errors: list[tuple[str, Exception]] = []
    slept: list[float] = []
    outages = [ConnectionError("registry down"), TimeoutError("send timed out")]

    async def handle(event: str) -> None:
        calls.append(event)
        if event == "held" and outages:
            raise outages.pop(0)
        if event == "bug":
            raise KeyError("message_id")

    async def on_error(event: str, exc: Exception) -> None:
        errors.append((event, exc))

    now = [0.0]
    holds = Holds(clock=lambda: now[0])
    seen_held: list[dict[str, float]] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)
        seen_held.append(holds.held())
        now[0] += delay

    await run_event(handle, "held", stage="t", on_error=on_error, sleep=sleep, holds=holds)
    assert calls == ["held"] * 3 and errors == [] and slept == [1.0, 2.0]
    assert seen_held == [{"t": 0.0}, {"t": 1.0}]  # held since the first failure
    assert holds.held() == {}  # released once it went through
    await run_event(handle, "bug", stage="t", on_error=on_error, sleep=sleep)
    assert calls[-1] == "bug" and calls.count("bug") == 1
    assert [(e, type(x)) for e, x in errors] == [("bug", KeyError)]
