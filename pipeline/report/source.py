"""The messages a bulletin is built from, read from the message index."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from pipeline.core.report import Scope

# What the bulletin reads of each document (no person details are fetched).
FIELDS = [
    "message_id", "source_ncb", "handling", "contains_minor_effective", "event_time",
    "created_at", "incident_sub_region", "location", "route.path", "route.countries",
    "route.origin_country", "route.transit_countries", "route.destination_country",
    "counts", "persons.role", "persons.is_minor", "network_id",
]  # fmt: skip


def scope_query(scope: Scope) -> dict[str, Any]:
    """Region and incident dates as filters (values only: nothing is parsed by the server)."""
    filters: list[dict[str, Any]] = []
    if scope.region:
        filters.append({"term": {"incident_sub_region": scope.region}})
    since = scope.fetch_since()
    if since:
        start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC).isoformat()
        filters.append({"bool": {"should": [
            {"range": {"event_time": {"gte": start}}},
            {"bool": {"must_not": {"exists": {"field": "event_time"}},
                      "filter": {"range": {"created_at": {"gte": start}}}}},
        ], "minimum_should_match": 1}})  # fmt: skip
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def fetch(es: Any, index: str, scope: Scope, page: int = 1000) -> list[dict[str, Any]]:
    """Every document the scope may need (scrolling), as sources."""
    out: list[dict[str, Any]] = []
    resp = es.search(index=index, query=scope_query(scope), size=page, scroll="2m",
                     sort=["_doc"], source_includes=FIELDS)  # fmt: skip
    scroll_id = resp.get("_scroll_id")
    while resp["hits"]["hits"]:
        out += [h["_source"] for h in resp["hits"]["hits"]]
        resp = es.scroll(scroll_id=scroll_id, scroll="2m")
        scroll_id = resp.get("_scroll_id", scroll_id)
    if scroll_id:
        with contextlib.suppress(Exception):  # the server expires it anyway
            es.clear_scroll(scroll_id=scroll_id)
    return out
