"""The root of the errors the project raises on purpose, and what retrying them can do.

Every such error is an ``HstError``: the command line ends any that escapes a command with
one readable line, and a caller can catch "any pipeline error" in one clause. Two kinds say
how the stream treats a failure (``pipeline.stream.batches.is_transient``):

- ``TransientError``: a server unavailable, overloaded or refusing for now; waiting cures
  it, so the record is held and retried, never rejected;
- ``PermanentError``: the record itself (its bytes, its fields); retrying changes nothing,
  so it becomes a dead letter with the reason.

Errors of neither kind are operational (a stack that does not start, a query the analyst
must correct) and are reported, not retried. Each keeps its standard-library base
(``ValueError``, ``TimeoutError``...) so existing ``except`` clauses still hold.
"""

from __future__ import annotations


class HstError(Exception):
    """An error the project raises on purpose, with a message meant for its user."""


class TransientError(HstError):
    """Waiting cures it: a server unavailable, overloaded or timing out."""


class PermanentError(HstError):
    """The input itself is wrong: retrying changes nothing."""
