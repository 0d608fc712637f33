"""Corrections to Faust's offset bookkeeping, found by the two-worker kill test (issue 4).

With two workers and a kill -9, a rebalance that gives a worker back partitions it just had
left the commit of a partition stuck for good (the run never drained) or, in one run of four,
committed past events no agent had processed (links missing afterwards). Logging Faust's gap
and commit bookkeeping on the real stack showed why (``GAP enriched-1 7..8 committed=6
read=6``, then ``commit 9 with 7 unacked``):

1. Recovery (``on_recovery_completed``, ``_resume_streams``) resumes the stream partitions
   *before* it seeks them to their committed offsets, while the flow is already running:
   the fetcher delivers a few records,
   the seek then resets the read offset under them, and the next record of the batch in hand
   looks like a gap. Faust treats gaps as processed (they are meant for compacted topics and
   transaction markers), so the commit moves past records still in flight, and the records
   fetched again after the seek are dropped as already read. Here the seek comes first.
2. ``Consumer._new_offset`` lets the commit move when the lowest acknowledged offset is one
   above the committed one (``> 1`` where ``> 0`` is meant, faust #606), skipping a record no
   stream acknowledged. Here the committed offset itself must be acknowledged (or a gap).
3. Streams acknowledge the records they skip during a rebalance, unprocessed, and agents go
   on acknowledging the events in flight. Faust forgets a revoked partition's committed
   offset, so such an acknowledgement starts a new run with nothing to check it against,
   and a commit timer that fires before the new assignment commits it: the next owner
   starts after records nobody processed (12 links lost in one run). Here the consumer is
   fenced from the revocation until the new assignment is sought to its committed offsets:
   acknowledgements in between do not count and nothing is committed (the records are
   delivered again), and acknowledgements of an older generation never count. The same
   holds when a worker stops: Faust suspends the streams, which then acknowledge the events
   they still hold without processing them, and commits on its way out (with
   ``stream_wait_empty=False``); here acknowledgements after the stop began do not count.

Faust-streaming is pinned (``uv.lock``); ``install`` refuses another version, so an upgrade
makes someone re-check these against the new code. ``pipeline.stream.commitwatch`` repairs
what is left (a hole that stays open).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import faust
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer
from faust.utils.functional import consecutive_numbers

log = logging.getLogger("hst.worker")

FAUST_VERSION = "0.15.3"  # the version these corrections were written against


def committable_offset(acked: list[int], gaps: list[tuple[int, int]], committed: int | None) -> int | None:  # fmt: skip
    """The offset to commit: one past the run of handled offsets that starts at ``committed``.

    ``acked`` are acknowledged offsets (kept sorted; the run is removed from it), ``gaps``
    half-open ranges of offsets known not to be records, ``committed`` the next offset the
    group would read (None before the first commit). None when nothing can be committed.
    """
    if not acked:
        return None
    if committed is not None and committed < 0:  # Faust keeps -1 for "no commit yet"
        committed = None
    handled = set(acked)
    for begin, end in gaps:
        handled.update(range(begin, end))
    if committed is not None:
        handled = {o for o in handled if o >= committed}
        if committed not in handled:  # a hole at the committed offset: wait for it
            return None
    if not handled:
        return None
    run = next(consecutive_numbers(sorted(handled)))
    done = set(run)
    acked[:] = [o for o in acked if o not in done and (committed is None or o >= committed)]
    return run[-1] + 1


def _new_offset(self: Any, tp: Any) -> int | None:
    if getattr(self, "_hst_fenced", False):  # a rebalance is under way: commit nothing
        return None
    acked: list[int] = self._acked[tp]
    if not acked:
        return None
    gap_tree = self._gap[tp]
    gaps = sorted((iv.begin, iv.end) for iv in gap_tree)
    before = set(acked)
    result = committable_offset(acked, gaps, self._committed_offset[tp])
    if result is not None:
        gap_tree.chop(0, result)
        self._acked_index[tp].difference_update(before - set(acked))
    return result


def _ack(self: Any, message: Any) -> bool:
    stale = getattr(message, "generation_id", None) not in (None, self.app.consumer_generation_id)
    if stale or getattr(self, "_hst_fenced", False) or getattr(self, "_hst_stopping", False):
        # Processed (or skipped) under an assignment that is gone: it is delivered again.
        message.acked = True
        self._unacked_messages.discard(message)
        self._hst_ignored_acks = getattr(self, "_hst_ignored_acks", 0) + 1
        return False
    return bool(_original_ack(self, message))


async def _on_partitions_revoked(self: Any, revoked: Any) -> None:
    self._hst_fenced = True  # lifted by _resume_streams once offsets are sought again
    await _original_revoked(self, revoked)


async def _stop_consumer(self: Any) -> None:
    if self._consumer is not None:  # from here on, streams skip what they hold: not processed
        self._consumer._hst_stopping = True
    await _original_stop_consumer(self)


def _lift_fence(consumer: Any) -> None:
    ignored = getattr(consumer, "_hst_ignored_acks", 0)
    log.info("rebalance: offsets sought; %d acknowledgements of the old assignment ignored "
             "(those records are delivered again)", ignored)  # fmt: skip
    consumer._hst_ignored_acks = 0
    consumer._hst_fenced = False


async def _seek_then_resume(recovery: Any, consumer: Any, assignment: set[Any]) -> None:
    # Seek while the stream partitions are still paused, then resume them (Faust resumes
    # first: records fetched before the seek then pass for gaps, see the module doc).
    if assignment:
        recovery.log.info("Seek stream partitions to committed offsets.")
        await recovery._wait(
            consumer.perform_seek(), timeout=recovery.app.conf.broker_request_timeout
        )
    _lift_fence(consumer)
    consumer.resume_partitions({tp for tp in assignment if not recovery._is_changelog_tp(tp)})


async def _on_recovery_completed(self: Any, generation_id: int = 0) -> None:
    """Faust's ``Recovery.on_recovery_completed`` (the path with tables), seeking first."""
    app = self.app
    consumer = app.consumer
    self.log.info("Restore complete!")
    await app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if callbacks:
        await asyncio.wait(callbacks)
    assignment = consumer.assignment()
    if app.consumer_generation_id != generation_id:
        self.log.warning(f"Recovery rebalancing again app id {app.consumer_generation_id} "
                         f"param {generation_id}")  # fmt: skip
        return
    await _seek_then_resume(self, consumer, assignment)
    self.completed.set()
    app.flow_control.resume()
    consumer.resume_flow()
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


async def _resume_streams(self: Any, generation_id: int = 0) -> None:
    """Faust's ``Recovery._resume_streams`` (the path without tables), seeking first."""
    app = self.app
    consumer = app.consumer
    await app.on_rebalance_complete.send()
    assignment = consumer.assignment()
    if app.consumer_generation_id != generation_id:
        self.log.warning("Recovery rebalancing again")
        return
    await _seek_then_resume(self, consumer, assignment)
    self.completed.set()
    self.log.info("Resuming flow...")
    app.flow_control.resume()
    consumer.resume_flow()
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


_original_ack = Consumer.ack
_original_revoked = Consumer.on_partitions_revoked
_original_stop_consumer = faust.App._stop_consumer
_installed = False


def install() -> None:
    """Apply the corrections (once per process)."""
    global _installed
    if _installed:
        return
    if faust.__version__ != FAUST_VERSION:
        msg = (f"faust-streaming {faust.__version__} is not {FAUST_VERSION}: re-check "
               "pipeline/stream/faustfix.py against it before running workers")  # fmt: skip
        raise RuntimeError(msg)
    off = set(os.environ.get("HST_FAUSTFIX_OFF", "").split(","))  # experiments only
    if "offset" not in off:
        Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    if "fence" not in off:
        Consumer.ack = _ack  # type: ignore[method-assign]
        Consumer.on_partitions_revoked = _on_partitions_revoked  # type: ignore[method-assign]
        faust.App._stop_consumer = _stop_consumer  # type: ignore[method-assign]
    if "seek" not in off:
        Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
        Recovery._resume_streams = _resume_streams  # type: ignore[method-assign]
    _installed = True
