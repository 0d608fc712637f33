"""The commit watch: a hole that holds a partition's commit is delivered again, then skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.types import TP
from intervaltree import IntervalTree

from pipeline.stream import faustfix
from pipeline.stream.commitwatch import SEEK, SKIP, CommitWatch
from pipeline.stream.faustfix import committable_offset

TP0 = TP("hst.enriched", 0)


@dataclass
class App:
    rebalancing: bool = False
    rebalancing_count: int = 0


@dataclass
class Consumer:
    """The part of Faust's consumer the watch reads and drives."""

    app: App = field(default_factory=App)
    _acked: dict[Any, list[int]] = field(default_factory=dict)
    _committed_offset: dict[Any, int] = field(default_factory=dict)
    _gap: dict[Any, IntervalTree] = field(default_factory=lambda: {TP0: IntervalTree()})
    sought: list[tuple[Any, int]] = field(default_factory=list)
    flow: list[str] = field(default_factory=list)
    begins: int = 0  # where the partition begins
    asked: list[tuple[Any, ...]] = field(default_factory=list)
    _read_offset: dict[Any, int] = field(default_factory=dict)  # the last offset read
    _unacked_messages: list[Any] = field(default_factory=list)  # in a stream's hands
    end: int = 0  # the partition's high watermark

    def assignment(self) -> set[Any]:
        return {TP0}

    def highwater(self, tp: Any) -> int:
        return self.end

    async def seek(self, tp: Any, offset: int) -> None:
        self.sought.append((tp, offset))

    async def earliest_offsets(self, *tps: Any) -> dict[Any, int]:
        self.asked.append(tps)
        return dict.fromkeys(tps, self.begins)

    def stop_flow(self) -> None:
        self.flow.append("stop")

    def resume_flow(self) -> None:
        self.flow.append("resume")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _watch() -> tuple[CommitWatch, Consumer, Clock]:
    consumer, clock = Consumer(), Clock()
    return CommitWatch(consumer, stall_after=20.0, clock=clock), consumer, clock


async def test_a_partition_without_hole_is_left_alone() -> None:
    watch, consumer, clock = _watch()
    consumer._committed_offset[TP0] = 6
    consumer._acked[TP0] = [6, 7, 8]
    for _ in range(5):
        clock.now += 30
        assert await watch.repair() == []
    assert consumer.sought == []


async def test_a_hole_is_delivered_again_then_skipped_if_it_holds_no_record() -> None:
    watch, consumer, clock = _watch()
    consumer._committed_offset[TP0] = 6
    consumer._acked[TP0] = [8, 9]
    assert await watch.repair() == []  # seen, not yet held long enough
    clock.now += 10
    assert await watch.repair() == []
    clock.now += 10
    [hole] = await watch.repair()
    assert (hole.action, hole.committed, hole.after) == (SEEK, 6, 8)
    assert consumer.sought == [(TP0, 6)]
    assert consumer.flow == ["stop", "resume"]  # no records in hand pass the seek
    clock.now += 20
    assert await watch.repair() == []  # a new wait after the seek
    clock.now += 20
    [hole] = await watch.repair()
    assert hole.action == SKIP
    gaps = sorted((iv.begin, iv.end) for iv in consumer._gap[TP0])
    assert gaps == [(6, 8)]
    assert committable_offset(consumer._acked[TP0], gaps, 6) == 10


async def test_a_moving_commit_restarts_the_wait() -> None:
    watch, consumer, clock = _watch()
    consumer._committed_offset[TP0] = 6
    consumer._acked[TP0] = [8]
    await watch.repair()
    clock.now += 15
    consumer._committed_offset[TP0] = 7  # the commit moved; a new hole at 7
    await watch.repair()
    clock.now += 15
    assert await watch.repair() == []
    clock.now += 5
    [hole] = await watch.repair()
    assert (hole.committed, hole.action) == (7, SEEK)


async def test_nothing_is_judged_during_a_rebalance() -> None:
    watch, consumer, clock = _watch()
    consumer._committed_offset[TP0] = 6
    consumer._acked[TP0] = [8]
    consumer.app.rebalancing = True
    for _ in range(3):
        clock.now += 30
        assert await watch.repair() == []
    assert consumer.sought == []


async def test_on_the_pipelines_own_topics_a_hole_is_only_delivered_again() -> None:
    # A gap would not count there (faustfix), so "skipping" would hold the commit for good.
    faustfix.guard([TP0.topic], internal=[TP0.topic])
    try:
        watch, consumer, clock = _watch()
        consumer._committed_offset[TP0] = 6
        consumer._acked[TP0] = [8, 9]
        actions = []
        for _ in range(6):
            clock.now += 20
            actions += [hole.action for hole in await watch.repair()]
        assert actions == [SEEK, SEEK, SEEK]
        assert consumer.sought == [(TP0, 6)] * 3
        assert not consumer._gap[TP0]
    finally:
        faustfix._guarded.discard(TP0.topic)
        faustfix._no_gaps.discard(TP0.topic)


async def test_a_hole_at_the_start_of_a_partition_never_committed_is_delivered_again() -> None:
    watch, consumer, clock = _watch()
    consumer.begins = 2
    consumer._acked[TP0] = [5, 6]  # 2-4 dropped before any agent saw them
    try:
        assert await watch.repair() == []
        assert consumer.asked == [(TP0,)] and faustfix.start_of(TP0) == 2
        assert committable_offset(consumer._acked[TP0], [], None, faustfix.start_of(TP0)) is None
        clock.now += 20
        [hole] = await watch.repair()
        assert (hole.action, hole.committed, hole.after) == (SEEK, 2, 5)
        assert consumer.sought == [(TP0, 2)]
        consumer._committed_offset[TP0] = 7  # filled and committed: no more look-ups
        await watch.repair()
        assert len(consumer.asked) == 2
    finally:
        faustfix._starts.pop(TP0, None)


async def test_the_last_records_dropped_after_a_read_are_delivered_again_once() -> None:
    watch, consumer, clock = _watch()
    consumer._committed_offset[TP0] = 6
    consumer._read_offset[TP0] = 8  # 6-8 read, none acknowledged, none in hand
    consumer.end = 9
    assert await watch.repair() == []
    clock.now += 20
    [hole] = await watch.repair()
    assert (hole.action, hole.committed, hole.after, hole.tail) == (SEEK, 6, 9, True)
    assert consumer.sought == [(TP0, 6)]
    for _ in range(3):  # nothing came of it (no record there): no seek over and over
        clock.now += 20
        assert await watch.repair() == []
    assert consumer.sought == [(TP0, 6)]


async def test_records_in_hand_or_not_yet_read_are_no_hole() -> None:
    watch, consumer, clock = _watch()
    consumer._committed_offset[TP0] = 6
    consumer.end = 9
    consumer._read_offset[TP0] = 7  # 8 not read yet
    for _ in range(3):
        clock.now += 20
        assert await watch.repair() == []
    consumer._read_offset[TP0] = 8
    consumer._unacked_messages.append(SimpleNamespace(tp=TP0))  # an agent holds one
    for _ in range(3):
        clock.now += 20
        assert await watch.repair() == []
    consumer._unacked_messages.clear()
    consumer.end = 6  # and a partition read to its end and committed there: no lag
    consumer._read_offset[TP0] = 5
    for _ in range(3):
        clock.now += 20
        assert await watch.repair() == []
    assert consumer.sought == []
