"""The index writer: ordered batches, acks only after the write, holding through failures."""

from __future__ import annotations

import asyncio

import pytest
from elasticsearch import ConnectionError as SearchConnectionError

from pipeline.search.bulk import BulkAction
from pipeline.stream.writer import IndexWriter


def act(i: int) -> BulkAction:
    return BulkAction("index", "idx", f"m{i}", {"n": i})


class Recorder:
    """A fake search sink (pure logic test: no server is involved in the writer)."""

    def __init__(
        self, delay: float = 0.0, fail_first: int = 0, failure: type[Exception] = RuntimeError
    ) -> None:
        self.failure = failure
        self.delay = delay
        self.fail_first = fail_first
        self.batches: list[list[str]] = []
        self.acked: list[int] = []
        self.log: list[str] = []
        self.poisoned: list[int] = []
        self.poison_ids: set[str] = set()  # actions whose write always fails (a bug)

    async def write(self, actions: list[BulkAction]) -> None:
        if self.fail_first > 0:
            self.fail_first -= 1
            msg = "search server exploded"
            raise self.failure(msg)
        if any(a.doc_id in self.poison_ids for a in actions):
            msg = "cannot serialise"
            raise TypeError(msg)
        await asyncio.sleep(self.delay)
        self.batches.append([a.doc_id for a in actions])
        self.log.append(f"write {len(actions)}")

    async def ack(self, event: int) -> None:
        self.acked.append(event)
        self.log.append(f"ack {event}")

    async def poison(self, event: int, exc: Exception) -> None:
        self.poisoned.append(event)
        self.log.append(f"poison {event}")


async def drain(writer: IndexWriter, rec: Recorder, n: int, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while len(rec.acked) < n:
            await asyncio.sleep(0.01)


async def test_every_event_acked_in_order_after_its_write() -> None:
    rec = Recorder(delay=0.05)
    writer = IndexWriter(rec.write, rec.ack, rec.poison, max_batch=10, linger=0.01)
    for i in range(25):
        await writer.put(i, [act(i)] if i % 5 else [])  # events without actions too
    await drain(writer, rec, 25)
    await writer.stop()
    assert rec.acked == list(range(25))
    written = [d for b in rec.batches for d in b]
    assert written == [f"m{i}" for i in range(25) if i % 5]
    # No event is acked before the write that carries its action.
    for i in range(25):
        if i % 5:
            ack_at = rec.log.index(f"ack {i}")
            batch_no = next(n for n, b in enumerate(rec.batches) if f"m{i}" in b)
            writes_before = [e for e in rec.log[:ack_at] if e.startswith("write")]
            assert len(writes_before) >= batch_no + 1


async def test_batches_grow_while_a_request_is_in_flight() -> None:
    rec = Recorder(delay=0.2)
    writer = IndexWriter(rec.write, rec.ack, rec.poison, max_batch=500, linger=0.0)
    await writer.put(0, [act(0)])
    await asyncio.sleep(0.05)  # first request in flight
    for i in range(1, 301):
        await writer.put(i, [act(i)])
    await drain(writer, rec, 301)
    await writer.stop()
    assert [len(b) for b in rec.batches] == [1, 300]


async def test_batch_never_exceeds_max() -> None:
    rec = Recorder(delay=0.01)
    writer = IndexWriter(rec.write, rec.ack, rec.poison, max_batch=7, linger=0.05, max_pending=1000)
    for i in range(50):
        await writer.put(i, [act(i)])
    await drain(writer, rec, 50)
    await writer.stop()
    assert max(len(b) for b in rec.batches) <= 7
    assert sum(len(b) for b in rec.batches) == 50


async def test_unexpected_failure_holds_the_batch_and_retries() -> None:
    rec = Recorder(fail_first=2)
    writer = IndexWriter(rec.write, rec.ack, rec.poison, max_batch=10, linger=0.0, retry_delay=0.01)
    for i in range(3):
        await writer.put(i, [act(i)])
    await drain(writer, rec, 3)
    await writer.stop()
    assert [d for b in rec.batches for d in b] == ["m0", "m1", "m2"]
    assert rec.acked == [0, 1, 2]


async def test_nothing_acked_while_the_search_server_is_unavailable() -> None:
    rec = Recorder(fail_first=10**6, failure=SearchConnectionError)
    writer = IndexWriter(rec.write, rec.ack, rec.poison, max_batch=10, linger=0.0, retry_delay=0.01)
    await writer.put(1, [act(1)])
    await asyncio.sleep(0.2)
    await writer.stop()
    assert rec.acked == []
    assert rec.poisoned == []


async def test_an_event_that_always_fails_is_dead_lettered_and_the_others_indexed() -> None:
    rec = Recorder()
    rec.poison_ids = {"m2"}
    writer = IndexWriter(
        rec.write, rec.ack, rec.poison, max_batch=10, linger=0.05, retry_delay=0.01
    )
    for i in range(5):
        await writer.put(i, [act(i)])
    await drain(writer, rec, 5)
    await writer.stop()
    assert rec.poisoned == [2]
    assert sorted(d for b in rec.batches for d in b) == ["m0", "m1", "m3", "m4"]
    assert rec.acked == [0, 1, 2, 3, 4]  # in order; the dead letter is sent before the ack
    assert rec.log.index("poison 2") < rec.log.index("ack 2")


async def test_backpressure_blocks_the_producer() -> None:
    gate = asyncio.Event()
    acked: list[int] = []

    async def write(actions: list[BulkAction]) -> None:
        await gate.wait()

    async def ack(event: int) -> None:
        acked.append(event)

    async def poison(event: int, exc: Exception) -> None:
        raise AssertionError(event)  # nothing fails here

    writer = IndexWriter(write, ack, poison, max_batch=2, linger=0.0, max_pending=5)
    put_count = 0

    async def producer() -> None:
        nonlocal put_count
        for i in range(20):
            await writer.put(i, [act(i)])
            put_count += 1

    task = asyncio.ensure_future(producer())
    await asyncio.sleep(0.1)
    assert put_count < 20  # held back while the writer is stuck
    gate.set()
    async with asyncio.timeout(5):
        await task
        while len(acked) < 20:
            await asyncio.sleep(0.01)
    await writer.stop()
    assert acked == list(range(20))


@pytest.mark.parametrize("max_batch", [1, 3])
async def test_oversized_event_still_written_alone(max_batch: int) -> None:
    rec = Recorder()
    writer = IndexWriter(rec.write, rec.ack, rec.poison, max_batch=max_batch, linger=0.0)
    await writer.put(0, [act(0), act(1), act(2), act(3)])  # one event, more actions than max
    await writer.put(1, [act(4)])
    await drain(writer, rec, 2)
    await writer.stop()
    assert rec.batches[0] == ["m0", "m1", "m2", "m3"]
