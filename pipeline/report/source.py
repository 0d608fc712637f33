"""The messages a bulletin is built from, read from the message index."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipeline.core.report import Scope
from pipeline.search.scan import scan

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


def fetch(es: Any, index: str, scope: Scope) -> list[dict[str, Any]]:
    """Every document the scope may need, as sources."""
    return list(scan(es, index, scope_query(scope), FIELDS))
