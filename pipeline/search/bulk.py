"""Bulk writes that never drop a document silently.

- Transport errors, 429 and 5xx (whole request or per item) are retried with capped
  exponential backoff, indefinitely: the caller holds its batch (backpressure) and offsets
  are not committed meanwhile.
- Per-item permanent errors (4xx such as a mapping error) are returned to the caller,
  which routes them to the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from elasticsearch import ApiError, AsyncElasticsearch, TransportError

log = logging.getLogger(__name__)

# 404 on delete is success: the document is already gone (idempotent re-processing).
_OK_STATUSES = {200, 201}


@dataclass(frozen=True)
class BulkAction:
    """One bulk operation: ``index`` (with doc), ``update`` (partial doc) or ``delete``."""

    op: str
    index: str
    doc_id: str
    doc: dict[str, Any] | None = None
    ref: Any = None  # caller's handle (e.g. the event), returned with failures

    def lines(self) -> list[bytes]:
        """NDJSON lines of this action."""
        head = orjson.dumps({self.op: {"_index": self.index, "_id": self.doc_id}})
        if self.op == "index":
            return [head, orjson.dumps(self.doc)]
        if self.op == "update":
            return [head, orjson.dumps({"doc": self.doc})]
        return [head]


@dataclass(frozen=True)
class ItemFailure:
    """A permanent per-item failure."""

    action: BulkAction
    status: int
    error_type: str
    reason: str


def retryable_status(status: int) -> bool:
    """A status that waiting can cure: overloaded (429) or a server error (5xx)."""
    return status == 429 or status >= 500


def error_status(exc: Exception) -> int:
    """The HTTP status of a client error (0 when there was no answer)."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", 0)
    return int(status or 0)


def _item_ok(action: BulkAction, status: int) -> bool:
    return status in _OK_STATUSES or (action.op == "delete" and status == 404)


def sort_items(
    actions: list[BulkAction], items: list[dict[str, Any]]
) -> tuple[list[BulkAction], list[ItemFailure]]:
    """Split a bulk response into the actions to send again and the permanent failures.

    Once an action on a document is to be retried, every later action on the same document
    in the request is retried after it, whatever its own result: order per document holds
    (an update behind a refused index would fail with 404, a delete behind it would be undone).
    """
    retry: list[BulkAction] = []
    failures: list[ItemFailure] = []
    held: set[tuple[str, str]] = set()
    for action, item in zip(actions, items, strict=True):
        key = (action.index, action.doc_id)
        if key in held:
            retry.append(action)
            continue
        result = next(iter(item.values()))
        status = int(result.get("status", 500))
        if _item_ok(action, status):
            continue
        if retryable_status(status):
            retry.append(action)
            held.add(key)
        else:
            error = result.get("error") or {}
            failures.append(ItemFailure(action, status, str(error.get("type", "error")),
                                        str(error.get("reason", error))[:1000]))  # fmt: skip
    return retry, failures


async def _back_off(
    why: str,
    attempt: int,
    max_backoff: float,
    on_retry: Callable[[str, float], Awaitable[None] | None] | None,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Report ``why`` and sleep the capped exponential delay of retry number ``attempt``."""
    delay = min(max_backoff, 0.2 * 2 ** min(attempt, 8))
    reason = f"{why}; retry in {delay:.1f}s"
    log.warning(reason)
    if on_retry is not None:
        result = on_retry(reason, delay)
        if result is not None:
            await result
    await sleep(delay)


async def bulk_write(
    es: AsyncElasticsearch,
    actions: list[BulkAction],
    *,
    max_backoff: float = 30.0,
    on_retry: Callable[[str, float], Awaitable[None] | None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[ItemFailure]:
    """Write ``actions`` until each succeeded or failed permanently; returns the failures."""
    pending = list(actions)
    failures: list[ItemFailure] = []
    attempt = 0
    while pending:
        body = b"\n".join(line for a in pending for line in a.lines()) + b"\n"
        try:
            resp = await es.bulk(operations=body, refresh=False)  # type: ignore[arg-type]  # bytes NDJSON is accepted
        except (TransportError, ApiError) as exc:
            status = error_status(exc)
            if isinstance(exc, ApiError) and not retryable_status(status):
                # The whole request was refused (e.g. 400 on a malformed body): per-item fate unknown,
                # so each action is retried on its own to isolate the culprit.
                if len(pending) > 1:
                    for action in pending:
                        failures += await bulk_write(es, [action], max_backoff=max_backoff,
                                                     on_retry=on_retry, sleep=sleep)  # fmt: skip
                    return failures
                failures.append(
                    ItemFailure(pending[0], int(status), "bulk_refused", str(exc)[:500])
                )
                return failures
            attempt += 1
            why = f"search unavailable ({type(exc).__name__}: {str(exc)[:120]})"
            await _back_off(why, attempt, max_backoff, on_retry, sleep)
            continue
        retry, failed = sort_items(pending, resp["items"])
        failures += failed
        if retry:
            attempt += 1
            why = f"{len(retry)} of {len(pending)} bulk items refused for now"
            await _back_off(why, attempt, max_backoff, on_retry, sleep)
        pending = retry
    return failures
