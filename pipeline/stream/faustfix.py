"""A correction to Faust's offset commits: never past a record no stream acknowledged.

Faust's ``Consumer._new_offset`` lets a commit through when the lowest acknowledged offset
is one above the committed one (``> 1`` where ``> 0`` is meant; faust-streaming #606, open),
skipping a record nobody acknowledged. On the two-worker kill test (issue 4) such holes
appear around rebalances; Faust's log showed ``committed=8``, then a commit to 70 with
offset 8 never acknowledged, and that run lost links whose fanout record was the one
skipped. Here the committed offset itself must be acknowledged (or be a gap Faust saw in
the log); ``pipeline.stream.commitwatch`` delivers a held partition again so the hole is
filled. With the two together, three runs of that test passed, and the watch re-delivered
three such holes in one of them (2026-12-01).

Faust-streaming is pinned (``requirements.lock``); ``install`` refuses another version, so
an upgrade makes someone re-check this against the new code.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.consumer import Consumer
from faust.utils.functional import consecutive_numbers

FAUST_VERSION = "0.15.3"  # the version this correction was written against


def known_commit(committed: int | None) -> int | None:
    """Faust's committed offset of a partition; None before the first commit (Faust keeps -1 too)."""
    return committed if committed is not None and committed >= 0 else None


def committable_offset(acked: list[int], gaps: list[tuple[int, int]], committed: int | None) -> int | None:  # fmt: skip
    """The offset to commit: one past the run of handled offsets that starts at ``committed``.

    ``acked`` are acknowledged offsets (the run is removed from it), ``gaps`` half-open
    ranges of offsets known not to be records, ``committed`` the next offset the group would
    read (None or -1 before the first commit). None when nothing can be committed.
    """
    if not acked:
        return None
    committed = known_commit(committed)
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


def install() -> None:
    """Apply the correction (idempotent)."""
    if faust.__version__ != FAUST_VERSION:
        msg = (f"faust-streaming {faust.__version__} is not {FAUST_VERSION}: re-check "
               "pipeline/stream/faustfix.py against it before running workers")  # fmt: skip
        raise RuntimeError(msg)
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
