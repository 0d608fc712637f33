"""Corrections to Faust's offset commits: never past a record no agent processed.

Faust's ``Consumer._new_offset`` lets a commit through when the lowest acknowledged offset
is one above the committed one (``> 1`` where ``> 0`` is meant; faust-streaming #606, open),
skipping a record nobody acknowledged. On the two-worker kill test (issue 4) such holes
appear around rebalances; Faust's log showed ``committed=8``, then a commit to 70 with
offset 8 never acknowledged, and that run lost links whose fanout record was the one
skipped. Here the committed offset itself must be acknowledged (or be a gap Faust saw in
the log); ``pipeline.stream.commitwatch`` delivers a held partition again so the hole is
filled. With the two together, three runs of that test passed, and the watch re-delivered
three such holes in one of them (2026-12-01).

Three more ways for a commit to pass an unprocessed record, all around rebalances (a run of
the two-worker comparison without any kill lost 23 links):

- Streams acknowledge the events they *skip* (read while a rebalance suspends the flow, or
  of an older generation) "so that the lag does not grow". Those acknowledgements count as
  processed, and a commit during the rebalance, or after the partition is sought back,
  moves past records no agent saw. Here an acknowledgement counts only for an event our
  agent loops marked ``done`` (``mark_done``); the others are delivered again after the
  seek every rebalance ends with.
- A gap (offsets the fetcher never saw) counts as processed. Gaps are real on topics with
  transaction markers, but the seek that ends a rebalance also makes false ones (records
  fetched before it look like a jump). The pipeline's own topics have no markers (its
  producer is not transactional), so there a gap does not count; on inbound topics, where
  a gateway may write in transactions, it still does.
- The producer buffer (table changelog writes) is flushed before a commit, but the flush
  gives up when one record takes over 0.1 s to be handed over. Here it goes on until every
  record buffered when it began is handed over, or ``FLUSH_DEADLINE`` passed.

And one way on a partition the group never committed: Faust commits its first run of
acknowledged offsets wherever it starts. Records dropped in a rebalance at the start of the
partition (Faust drops records below the last offset it read, and a stale fetch can move
that offset past records not yet delivered) were committed over unprocessed: a rolling
restart lost one message's links so (2026-12-07). Here such a partition commits only from
where it begins (its earliest offset, where the group starts reading it), once that is
known (``note_starts``, learnt by ``pipeline.stream.commitwatch``).

And one after the flush: a record the broker refused (too large for its topic, not
authorised) fails its delivery after the send returned; Faust logs it and commits the
offsets of the event that sent it all the same. Here no commit follows a failed delivery
(``delivery_failed``): the worker stops (``pipeline.stream.app``), and its successor
processes those events again.

Faust-streaming is pinned (``requirements.lock``); ``install`` refuses another version, so
an upgrade makes someone re-check this against the new code.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import faust
from faust.transport.consumer import Consumer, ThreadDelegateConsumer
from faust.transport.producer import ProducerBuffer
from faust.utils.functional import consecutive_numbers
from mode.utils.futures import notify

log = logging.getLogger(__name__)

FAUST_VERSION = "0.15.3"  # the version this correction was written against
FLUSH_DEADLINE = 30.0  # seconds a pre-commit flush of the producer buffer may take

# Messages whose processing finished (an agent loop marked them), and the topics this
# applies to (those our agents read); weak, so a message is forgotten with its event.
_done: weakref.WeakSet[Any] = weakref.WeakSet()
_guarded: set[str] = set()
_no_gaps: set[str] = set()
# Where each partition the group never committed begins (its earliest offset).
_starts: dict[Any, int] = {}
# The first record the broker did not take (no commit after it).
_undelivered: list[BaseException] = []


def guard(topics: Iterable[str], internal: Iterable[str]) -> None:
    """Count acknowledgements on ``topics`` only for events marked done; no gaps on ``internal``."""
    _guarded.update(topics)
    _no_gaps.update(internal)


def mark_done(event: Any) -> None:
    """The event's effects are handed over: its acknowledgement may move the commit."""
    _done.add(event.message)


def note_starts(starts: Mapping[Any, int]) -> None:
    """Where partitions never committed begin: their first commit must start there."""
    _starts.update(starts)


def delivery_failed(exc: BaseException) -> None:
    """A record was not delivered: the worker commits nothing from now on."""
    if not _undelivered:
        _undelivered.append(exc)


def undelivered() -> BaseException | None:
    """The first delivery that failed in this process, if one did."""
    return _undelivered[0] if _undelivered else None


def start_of(tp: Any) -> int | None:
    """Where a partition never committed begins, once known (``note_starts``)."""
    return _starts.get(tp)


def gaps_count(topic: str) -> bool:
    """Whether offsets the fetcher never saw count as handled on ``topic`` (not on ours)."""
    return topic not in _no_gaps


def counts(topic: str, processed: bool) -> bool:
    """Whether an acknowledgement of a record of ``topic`` may move the commit."""
    return processed or topic not in _guarded


def known_commit(committed: int | None) -> int | None:
    """Faust's committed offset of a partition; None before the first commit (Faust keeps -1 too)."""
    return committed if committed is not None and committed >= 0 else None


def commit_start(committed: int | None, start: int | None) -> int | None:
    """Where a partition's next commit must start (None while that is unknown).

    Its committed offset; before the first commit, where the partition begins (``start``).
    """
    first = known_commit(committed)
    return first if first is not None else start


def committable_offset(
    acked: list[int], gaps: list[tuple[int, int]], committed: int | None, start: int | None = None
) -> int | None:
    """The offset to commit: one past the run of handled offsets that starts at ``committed``.

    ``acked`` are acknowledged offsets (the run is removed from it), ``gaps`` half-open
    ranges of offsets known not to be records, ``committed`` the next offset the group would
    read (None or -1 before the first commit), ``start`` where the partition begins (the
    first offset the group reads when it never committed). None when nothing can be
    committed, and before a first commit while ``start`` is unknown.
    """
    first = commit_start(committed, start)
    if not acked or first is None:
        return None
    handled = {o for o in acked if o >= first}
    for begin, end in gaps:
        handled.update(range(max(begin, first), end))
    if first not in handled:  # a hole where the commit must start: wait for it
        return None
    run = next(consecutive_numbers(sorted(handled)))
    done = set(run)
    acked[:] = [o for o in acked if o not in done and o >= first]
    return run[-1] + 1


def _new_offset(self: Any, tp: Any) -> int | None:
    acked: list[int] = self._acked[tp]
    if not acked:
        return None
    gap_tree = self._gap[tp]
    gaps = sorted((iv.begin, iv.end) for iv in gap_tree) if gaps_count(tp.topic) else []
    before = set(acked)
    result = committable_offset(acked, gaps, self._committed_offset[tp], start_of(tp))
    if result is not None:
        gap_tree.chop(0, result)
        self._acked_index[tp].difference_update(before - set(acked))
    return result


def _ack(self: Any, message: Any) -> bool:
    if counts(message.topic, message in _done):
        return bool(_original_ack(self, message))
    # Skipped by a stream during a rebalance: not processed. It is delivered again after the
    # seek that ends the rebalance; mark it so nobody waits for it meanwhile.
    message.acked = True
    self._unacked_messages.discard(message)
    notify(self._waiting_for_ack)
    return False


async def _flush(self: Any) -> None:
    # Faust's flush returns when one record takes over 0.1 s; a commit would then pass
    # table writes still in the buffer. Wait until the records buffered now are handed over
    # (the buffer is FIFO); not for records added meanwhile: under load that never ends, and
    # the fetcher waits for commits (broker_commit_every).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FLUSH_DEADLINE
    remaining = self.size
    while remaining > 0 and self.size and loop.time() < deadline:
        remaining -= await self.flush_atmost(remaining)


async def _commit(self: Any, offsets: Mapping[Any, int]) -> bool:
    # Runs right after the pre-commit flush: let the delivery reports it completed run first.
    for _ in range(3):
        await asyncio.sleep(0)
    failed = undelivered()
    if failed is not None:
        log.error(
            "not committing %d offsets: a record was not delivered (%r)", len(offsets), failed
        )
        return False
    return bool(await _original_commit(self, offsets))


_original_ack = Consumer.ack
_original_commit = ThreadDelegateConsumer._commit
_original_new_offset = Consumer._new_offset  # Faust's own: the canary tests run it


def install() -> None:
    """Apply the correction (idempotent)."""
    if faust.__version__ != FAUST_VERSION:
        msg = (
            f"faust-streaming {faust.__version__} is not {FAUST_VERSION}: re-check "
            "pipeline/stream/faustfix.py against it before running workers"
        )
        raise RuntimeError(msg)
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    Consumer.ack = _ack  # type: ignore[method-assign]
    ProducerBuffer.flush = _flush  # type: ignore[method-assign]
    ThreadDelegateConsumer._commit = _commit  # type: ignore[method-assign]
