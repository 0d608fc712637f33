"""Index first: the derived stages pause while the indexing backlog is high, never for good."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import NamedTuple

from pipeline.stream.priority import IndexFirst, Throttle


def throttle() -> Throttle:
    return Throttle(high=1000, low=100, max_pause=30.0, min_run=3.0)


def test_pauses_above_high_and_resumes_at_low() -> None:
    t = throttle()
    assert not t.step(900, now=0.0)
    assert t.step(1500, now=1.0)
    assert t.step(500, now=2.0)  # between low and high: stays paused (no flapping)
    assert not t.step(100, now=3.0)


def test_a_sustained_backlog_pauses_at_most_max_pause_then_runs_min_run() -> None:
    # Under an overload the indexing path never catches up: the derived stages still progress.
    t = throttle()
    states = [t.step(5000, now=float(s)) for s in range(0, 70)]
    assert states[0] and states[29]
    assert not any(states[30:33])  # resumed after 30 s, runs at least 3 s
    assert states[33] and states[62] and not states[63]
    assert sum(states) / len(states) > 0.8  # still mostly indexing first


def test_reset_forgets_a_pause() -> None:
    t = throttle()
    assert t.step(5000, now=0.0)
    t.reset()
    assert t.paused_since is None and t.step(5000, now=0.1)


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass
class Msg:
    topic: str
    partition: int
    offset: int

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


@dataclass
class Consumer:
    """The part of Faust's consumer the gate reads: assignment and highwater."""

    tps: set[TP]
    highwaters: dict[TP, int]

    def assignment(self) -> set[TP]:
        return set(self.tps)

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters.get(tp)


@dataclass
class App:
    consumer: Consumer
    rebalancing: bool = False
    in_recovery: bool = False
    should_stop: bool = False


def make(clock: list[float]) -> tuple[IndexFirst, App]:
    tps = {TP("inbound", 0), TP("inbound", 1), TP("enriched", 0), TP("match", 0)}
    app = App(Consumer(tps, {TP("inbound", 0): 3000, TP("inbound", 1): 10}))
    gate = IndexFirst(app, {"inbound"}, throttle(), clock=lambda: clock[0])
    return gate, app


def test_the_backlog_counts_unread_records_of_the_indexing_topics_only() -> None:
    gate, app = make([0.0])
    assert gate.backlog(app.consumer.assignment()) == 0  # nothing read yet: no position
    gate.seen(Msg("inbound", 0, 999))
    gate.seen(Msg("inbound", 1, 9))
    gate.seen(Msg("enriched", 0, 5))  # a derived stage's topic: ignored
    assert gate.backlog(app.consumer.assignment()) == 2000
    gate.in_flight = lambda: 700  # read, waiting in the index writer: not indexed yet
    assert gate.backlog(app.consumer.assignment()) == 2700


async def test_derived_stages_wait_while_the_backlog_is_high_and_go_on_when_caught_up() -> None:
    clock = [0.0]
    gate, _ = make(clock)
    gate.seen(Msg("inbound", 0, 0))
    gate.tick()
    assert gate.closed
    waiting = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    gate.seen(Msg("inbound", 0, 2950))
    clock[0] = 5.0
    gate.tick()
    await asyncio.wait_for(waiting, 1.0)
    assert not gate.closed


async def test_a_rebalance_or_a_shutdown_lets_waiting_stages_go_at_once() -> None:
    # Faust waits for the streams to be empty in both: an agent must not hold its event.
    for flag in ("rebalancing", "should_stop"):
        gate, app = make([0.0])
        gate.seen(Msg("inbound", 0, 0))
        gate.tick()
        waiting = asyncio.ensure_future(gate.wait())
        await asyncio.sleep(0.05)
        setattr(app, flag, True)
        await asyncio.wait_for(waiting, 1.0)
        gate.tick()
        assert not gate.closed
        assert gate.backlog(app.consumer.assignment()) == 0  # positions forgotten (may be stale)


def test_a_revocation_forgets_positions_so_a_partition_given_back_counts_no_stale_backlog() -> None:
    # The worker held inbound-0 up to offset 0; another worker then processed it up to 3000 and
    # gave it back. Until a record is read there again, this worker must not count 3000 unread.
    gate, app = make([0.0])
    gate.seen(Msg("inbound", 0, 0))
    gate.tick()
    assert gate.closed
    gate.revoked()
    assert not gate.closed
    assert gate.backlog(app.consumer.assignment()) == 0
    gate.tick()
    assert not gate.closed
