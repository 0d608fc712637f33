"""Every matching document of an index, page by page (scroll), for batch jobs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def scan(es: Any, index: str, query: dict[str, Any], fields: list[str] | None = None,
         page: int = 1000) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Yield the ``_source`` of every document matching ``query`` (only ``fields`` if given)."""
    extra = {"source_includes": fields} if fields else {}
    resp = es.search(index=index, query=query, size=page, scroll="2m", sort=["_doc"], **extra)
    scroll_id = resp.get("_scroll_id")
    try:
        while resp["hits"]["hits"]:
            for hit in resp["hits"]["hits"]:
                yield hit["_source"]
            resp = es.scroll(scroll_id=scroll_id, scroll="2m")
            scroll_id = resp.get("_scroll_id", scroll_id)
    finally:
        if scroll_id:
            with contextlib.suppress(Exception):  # the server expires it anyway
                es.clear_scroll(scroll_id=scroll_id)
