"""Bulk writes that never drop a document silently.

- Outages are retried with capped exponential backoff, indefinitely: the caller holds its
  batch (backpressure) and offsets are not committed meanwhile. An outage is anything that
  says nothing about the document itself: no answer, 429 and 5xx (whole request or per
  item), a whole request refused for its credentials (401/403: expired or rotated), and a
  missing index or alias (an engine that lost its data: ``on_missing_index`` may set it up
  again). None of these may ever turn into a rejection of the NCB's message.
- Per-item permanent errors (4xx such as a mapping error) are returned to the caller,
  which routes them to the dead-letter topic.
- Index actions name an alias and carry ``require_alias``: a write never creates an index
  (which would get a dynamic mapping instead of the project's template).
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

RETRY_ON_CONFLICT = 5

# 404 on delete is success: the document is already gone (idempotent re-processing).
_OK_STATUSES = {200, 201}


@dataclass(frozen=True)
class BulkAction:
    """One bulk operation: ``index``, ``update`` (partial doc), ``delete`` or ``upsert``.

    ``upsert`` merges the whole doc into the stored one (created when absent): fields other
    writers set (the network stage's ``network_id``) survive a message indexed again, e.g.
    replayed after a crash.
    """

    op: str
    index: str
    doc_id: str
    doc: dict[str, Any] | None = None
    ref: Any = None  # caller's handle (e.g. the event), returned with failures
    require_alias: bool = True  # False only when writing into a concrete index (reindex)

    def lines(self) -> list[bytes]:
        """NDJSON lines of this action."""
        meta: dict[str, Any] = {"_index": self.index, "_id": self.doc_id}
        if self.op in ("index", "upsert") and self.require_alias:
            meta["require_alias"] = True
        if self.op in ("update", "upsert"):
            # A request retried after a timeout can meet its own first attempt, which the
            # engine ran anyway: the engine re-applies the merge instead of refusing (409).
            meta["retry_on_conflict"] = RETRY_ON_CONFLICT
        if self.op == "upsert":
            head = orjson.dumps({"update": meta})
            return [head, orjson.dumps({"doc": self.doc, "doc_as_upsert": True})]
        head = orjson.dumps({self.op: meta})
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


# A whole request refused for who sent it or where it went, not for what it carried.
_OUTAGE_REQUEST_STATUSES = frozenset({401, 403, 404})


def missing_index(item: dict[str, Any]) -> str | None:
    """The index or alias a bulk item failed on because it does not exist, else None."""
    error = item.get("error") or {}
    if isinstance(error, dict) and error.get("type") == "index_not_found_exception":
        return str(error.get("index") or "?")
    return None


def error_status(exc: Exception) -> int:
    """The HTTP status of a client error (0 when there was no answer)."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", 0)
    return int(status or 0)


def _item_ok(action: BulkAction, status: int) -> bool:
    return status in _OK_STATUSES or (action.op == "delete" and status == 404)


@dataclass
class Sorted:
    """A bulk response split: actions to send again, permanent failures, missing indices."""

    retry: list[BulkAction]
    failures: list[ItemFailure]
    missing: set[str]


def sort_items(actions: list[BulkAction], items: list[dict[str, Any]]) -> Sorted:
    """Split a bulk response into the actions to send again and the permanent failures.

    Once an action on a document is to be retried, every later action on the same document
    in the request is retried after it, whatever its own result: order per document holds
    (an update behind a refused index would fail with 404, a delete behind it would be undone).
    An action on an index or alias that does not exist is retried (an outage), never failed.
    """
    retry: list[BulkAction] = []
    failures: list[ItemFailure] = []
    missing: set[str] = set()
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
        gone = missing_index(result)
        if retryable_status(status) or gone is not None:
            retry.append(action)
            held.add(key)
            if gone is not None:
                missing.add(gone)
        else:
            error = result.get("error") or {}
            failures.append(ItemFailure(action, status, str(error.get("type", "error")),
                                        str(error.get("reason", error))[:1000]))  # fmt: skip
    return Sorted(retry, failures, missing)


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
    on_missing_index: Callable[[set[str]], Awaitable[None]] | None = None,
) -> list[ItemFailure]:
    """Write ``actions`` until each succeeded or failed permanently; returns the failures.

    ``on_missing_index`` is awaited with the names of missing indices or aliases before the
    retry (the worker sets the engine up again); its own failure is logged and retried.
    """
    pending = list(actions)
    failures: list[ItemFailure] = []
    attempt = 0
    while pending:
        body = b"\n".join(line for a in pending for line in a.lines()) + b"\n"
        try:
            resp = await es.bulk(operations=body, refresh=False)  # type: ignore[arg-type]  # bytes NDJSON is accepted
        except (TransportError, ApiError) as exc:
            status = error_status(exc)
            if (
                isinstance(exc, ApiError)
                and not retryable_status(status)
                and status not in _OUTAGE_REQUEST_STATUSES
            ):
                # The whole request was refused (e.g. 400 on a malformed body): per-item fate unknown,
                # so each action is retried on its own to isolate the culprit.
                if len(pending) > 1:
                    for action in pending:
                        failures += await bulk_write(es, [action], max_backoff=max_backoff,
                                                     on_retry=on_retry, sleep=sleep,
                                                     on_missing_index=on_missing_index)  # fmt: skip
                    return failures
                failures.append(
                    ItemFailure(pending[0], int(status), "bulk_refused", str(exc)[:500])
                )
                return failures
            attempt += 1
            what = {401: "refused our credentials", 403: "refused our credentials"}.get(
                status, "unavailable"
            )
            why = f"search {what} ({type(exc).__name__}: {str(exc)[:120]})"
            await _back_off(why, attempt, max_backoff, on_retry, sleep)
            continue
        result = sort_items(pending, resp["items"])
        failures += result.failures
        if result.retry:
            attempt += 1
            why = f"{len(result.retry)} of {len(pending)} bulk items refused for now"
            if result.missing:
                why += f" (missing index or alias: {', '.join(sorted(result.missing))})"
                if on_missing_index is not None:
                    try:
                        await on_missing_index(result.missing)
                    except Exception as exc:  # the retry below tries again
                        log.warning("setting the search engine up again failed: %s", exc)
            await _back_off(why, attempt, max_backoff, on_retry, sleep)
        pending = result.retry
    return failures
