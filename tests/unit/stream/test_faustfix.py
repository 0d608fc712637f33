"""The corrected commit: never past an offset no stream acknowledged."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st
from intervaltree import IntervalTree

from pipeline.stream import faustfix
from pipeline.stream.faustfix import committable_offset


def test_a_hole_at_the_committed_offset_holds_the_commit() -> None:
    # Faust 0.15.3 commits 10 here: offset 6 was never processed (faust #606).
    acked = [7, 8, 9]
    assert committable_offset(acked, [], 6) is None
    assert acked == [7, 8, 9]  # kept until the hole is filled


def test_the_commit_moves_through_the_run_that_starts_at_the_committed_offset() -> None:
    acked = [6, 7, 9]
    assert committable_offset(acked, [], 6) == 8
    assert acked == [9]


def test_gaps_count_as_handled_and_stale_offsets_are_dropped() -> None:
    acked = [3, 4, 7, 8]
    assert committable_offset(acked, [(6, 7)], 6) == 9
    assert acked == []


def test_before_the_first_commit_the_run_must_start_where_the_partition_begins() -> None:
    for no_commit in (None, -1):  # Faust keeps -1 after seeking a partition never committed
        acked = [5, 6, 8]
        assert committable_offset(acked, [], no_commit, start=5) == 7
        assert acked == [8]


def test_before_the_first_commit_records_dropped_at_the_start_hold_the_commit() -> None:
    # Faust 0.15.3 commits 7 here, over offsets 0-4 that no agent saw (a rolling restart
    # lost a message's links so): they are delivered again after the next seek.
    acked = [5, 6]
    assert committable_offset(acked, [], None, start=0) is None
    assert committable_offset(acked, [], None) is None  # where it begins is not known yet
    assert acked == [5, 6]


@given(
    st.sets(st.integers(0, 60), max_size=40),
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 5)), max_size=3),
    st.integers(0, 60),
)
def test_every_offset_below_the_commit_was_acknowledged_or_a_gap(
    acked: set[int], raw_gaps: list[tuple[int, int]], committed: int
) -> None:
    gaps = [(b, b + n) for b, n in raw_gaps]
    handled = set(acked) | {o for b, e in gaps for o in range(b, e)}
    result = committable_offset(sorted(acked), gaps, committed)
    if result is None:
        assert committed not in handled or not acked
    else:
        assert result > committed
        assert all(o in handled for o in range(committed, result))
        assert result not in handled  # the whole run, not part of it


def _consumer() -> object:
    faustfix.install()
    app = faust.App("faustfix-test", broker="kafka://127.0.0.1:1")
    return app.consumer


def test_the_installed_consumer_holds_the_commit_at_a_hole() -> None:
    consumer = _consumer()
    tp = TP("t", 0)
    consumer._committed_offset[tp] = 6  # type: ignore[attr-defined]
    consumer._acked[tp] = [7, 8]  # type: ignore[attr-defined]
    consumer._acked_index[tp] = {7, 8}  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) is None  # type: ignore[attr-defined]
    consumer._acked[tp].append(6)  # type: ignore[attr-defined]
    consumer._acked_index[tp].add(6)  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) == 9  # type: ignore[attr-defined]
    assert consumer._acked_index[tp] == set()  # type: ignore[attr-defined]


def test_the_installed_consumer_commits_a_new_partition_from_its_start() -> None:
    consumer = _consumer()
    tp = TP("never-committed", 0)
    consumer._acked[tp] = [3, 4]  # type: ignore[attr-defined]
    consumer._acked_index[tp] = {3, 4}  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) is None  # type: ignore[attr-defined]
    faustfix.note_starts({tp: 0})
    assert consumer._new_offset(tp) is None  # type: ignore[attr-defined]
    faustfix.note_starts({tp: 3})  # retention removed 0-2
    assert consumer._new_offset(tp) == 5  # type: ignore[attr-defined]


def _message(consumer: Any, topic: str, offset: int) -> Any:
    from faust.types.tuples import Message

    consumer.app.topics._acking_topics.add(topic)  # as when a stream subscribes to it
    return Message(topic, 0, offset, 0.0, 0, None, b"k", b"v", None)


def test_a_skipped_event_does_not_move_the_commit_a_processed_one_does() -> None:
    # Streams acknowledge the events they skip during a rebalance: they were not processed.
    consumer: Any = _consumer()
    faustfix.guard(["guarded.topic"], ["guarded.topic"])
    tp = TP("guarded.topic", 0)
    consumer._committed_offset[tp] = 5
    skipped, processed = (
        _message(consumer, "guarded.topic", 5),
        _message(consumer, "guarded.topic", 5),
    )
    assert consumer.ack(skipped) is False
    assert skipped.acked and consumer._acked[tp] == []  # nobody waits for it, nothing counts
    faustfix.mark_done(SimpleNamespace(message=processed))
    assert consumer.ack(processed) is True
    assert consumer._new_offset(tp) == 6


def test_an_unguarded_topic_keeps_fausts_acknowledgements() -> None:
    consumer: Any = _consumer()
    message = _message(consumer, "faust.internal", 0)
    assert faustfix.counts("faust.internal", processed=False)
    assert consumer.ack(message) is True


def test_a_gap_on_an_internal_topic_does_not_count() -> None:
    # The seek that ends a rebalance makes false gaps; the pipeline's own topics have none.
    consumer: Any = _consumer()
    faustfix.guard(["internal.topic", "inbound.topic"], ["internal.topic"])
    for name, expected in (("internal.topic", None), ("inbound.topic", 9)):
        tp = TP(name, 0)
        consumer._committed_offset[tp] = 6
        consumer._acked[tp] = [6, 8]
        consumer._acked_index[tp] = {6, 8}
        consumer._gap[tp].addi(7, 8)
        result = consumer._new_offset(tp)
        assert result == (7 if expected is None else expected), name


class _SlowBuffer:
    """A producer buffer whose records take longer than Faust's 0.1 s to be handed over."""

    def __init__(self, size: int, added_per_round: int = 0) -> None:
        self.size = size
        self.added_per_round = added_per_round
        self.rounds = 0

    async def flush_atmost(self, max_messages: int | None) -> int:
        self.rounds += 1
        # One record per round (then Faust's flush would return); others keep arriving.
        self.size += self.added_per_round - 1
        return 1


async def test_the_flush_before_a_commit_hands_over_every_buffered_record() -> None:
    buffer = _SlowBuffer(5)
    await faustfix._flush(buffer)
    assert buffer.size == 0 and buffer.rounds == 5


async def test_the_flush_does_not_wait_for_records_added_after_it_began() -> None:
    buffer = _SlowBuffer(5, added_per_round=1)  # under load the buffer never empties
    await faustfix._flush(buffer)
    assert buffer.rounds == 5


async def test_no_commit_follows_a_failed_delivery() -> None:
    committed: list[dict[Any, int]] = []

    async def commit(offsets: dict[Any, int]) -> bool:
        committed.append(offsets)
        return True

    consumer = SimpleNamespace(_thread=SimpleNamespace(commit=commit))
    faustfix.install()
    try:
        assert await faustfix._commit(consumer, {TP("t", 0): 5})
        faustfix.delivery_failed(RuntimeError("MessageSizeTooLarge"))
        assert not await faustfix._commit(consumer, {TP("t", 0): 9})
        assert committed == [{TP("t", 0): 5}]
    finally:
        faustfix._undelivered.clear()


def _fausts_own_commit(acked: list[int], committed: int | None) -> int | None:
    tp = TP("t", 0)
    consumer = SimpleNamespace(
        _acked={tp: list(acked)},
        _gap={tp: IntervalTree()},
        _committed_offset={tp: committed},
        _acked_index={tp: set(acked)},
    )
    result: int | None = faustfix._original_new_offset(consumer, tp)
    return result


# Canaries: Faust's own commit, unpatched, on the faults faustfix corrects. When one passes,
# upstream fixed it: the test fails (strict), and that correction can go.
@pytest.mark.xfail(strict=True, reason="faust-streaming #606: commits past a hole of one offset")
def test_canary_fausts_commit_holds_at_a_hole_of_one_offset() -> None:
    assert _fausts_own_commit([7, 8, 9], committed=6) is None


@pytest.mark.xfail(
    strict=True, reason="Faust commits a new partition's first run wherever it starts"
)
def test_canary_fausts_first_commit_holds_at_records_never_processed() -> None:
    assert _fausts_own_commit([5, 6], committed=None) is None  # 0-4 never processed
