"""Every matching document of an index, page by page (scroll), for batch jobs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from elasticsearch import ApiError, TransportError

from pipeline.errors import HstError


class ScanError(HstError, RuntimeError):
    """A page came back from only some of the shards: the result would be partial."""


def _check_shards(resp: Any, index: str) -> None:
    shards = resp.get("_shards") or {}
    failed, total = int(shards.get("failed", 0)), int(shards.get("total", 0))
    successful = int(shards.get("successful", total))
    if failed or successful < total:
        reasons = [f.get("reason") for f in shards.get("failures") or []][:3]
        msg = f"{index}: {successful} of {total} shards answered ({failed} failed: {reasons})"
        raise ScanError(msg)


def scan(es: Any, index: str, query: dict[str, Any], fields: list[str] | None = None,
         page: int = 1000) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Yield the ``_source`` of every document matching ``query`` (only ``fields`` if given).

    Raises ``ScanError`` when a page misses shards: a retention run or a bulletin must never
    take a partial result for the whole.
    """
    extra = {"source_includes": fields} if fields else {}
    resp = es.search(index=index, query=query, size=page, scroll="2m", sort=["_doc"], **extra)
    scroll_id = resp.get("_scroll_id")
    try:
        _check_shards(resp, index)
        while resp["hits"]["hits"]:
            for hit in resp["hits"]["hits"]:
                yield hit["_source"]
            resp = es.scroll(scroll_id=scroll_id, scroll="2m")
            scroll_id = resp.get("_scroll_id", scroll_id)
            _check_shards(resp, index)
    finally:
        if scroll_id:
            with contextlib.suppress(ApiError, TransportError):  # it expires in 2 minutes anyway
                es.options(ignore_status=404).clear_scroll(scroll_id=scroll_id)
