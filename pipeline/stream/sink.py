"""The worker's search engine: one async client, bulk writes held through outages."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pipeline.search.bulk import BulkAction, ItemFailure, bulk_write
from pipeline.search.client import async_client, sync_client
from pipeline.search.index import ensure_search
from pipeline.settings import Settings
from pipeline.stream import metrics

log = logging.getLogger(__name__)


class SearchSink:
    """Bulk writes through the aliases; an engine that lost its indices gets them back."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._es: Any = None

    @property
    def es(self) -> Any:
        """The async client, created inside the worker's event loop."""
        if self._es is None:
            self._es = async_client(self.settings)
        return self._es

    async def write(self, actions: list[BulkAction]) -> list[ItemFailure]:
        """Write ``actions``, retried while the engine is unavailable; the permanent failures."""
        if not actions:
            return []
        failures = await bulk_write(
            self.es, actions, on_retry=self._on_retry, on_missing_index=self._install_again
        )
        metrics.SEARCH_UP.set(1)
        return failures

    async def get(self, alias: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The ``_source`` of the documents ``ids`` that exist, by id."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            resp = await self.es.search(
                index=alias, query={"ids": {"values": chunk}}, size=len(chunk)
            )
            out.update({h["_id"]: h["_source"] for h in resp["hits"]["hits"]})
        return out

    async def close(self) -> None:
        """Close the client (at shutdown, once no bulk request is in flight)."""
        es, self._es = self._es, None
        if es is not None:
            await es.close()

    async def _install_again(self, missing: set[str]) -> None:
        log.warning(
            "search: %s missing; installing the templates and aliases again",
            ", ".join(sorted(missing)),
        )
        settings = self.settings
        await asyncio.to_thread(lambda: ensure_search(sync_client(settings), settings))

    async def _on_retry(self, reason: str, delay: float) -> None:
        metrics.SEARCH_RETRIES.inc()
        metrics.SEARCH_UP.set(0)
