"""The messages a bulletin is built from, read from the message index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pipeline.core.report import Bulletin, Scope, build
from pipeline.search.scan import scan
from pipeline.settings import Settings

# What the bulletin reads of each document (no person details are fetched).
FIELDS = [
    "message_id",
    "source_ncb",
    "handling",
    "contains_minor_effective",
    "event_time",
    "created_at",
    "incident_sub_region",
    "location",
    "route.path",
    "route.countries",
    "route.origin_country",
    "route.transit_countries",
    "route.destination_country",
    "counts",
    "persons.role",
    "persons.is_minor",
    "network_id",
]


def scope_query(scope: Scope) -> dict[str, Any]:
    """Region and incident dates as filters (values only: nothing is parsed by the server)."""
    filters: list[dict[str, Any]] = []
    if scope.region:
        filters.append({"term": {"incident_sub_region": scope.region}})
    since = scope.fetch_since()
    if since:
        start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC).isoformat()
        filters.append(
            {
                "bool": {
                    "should": [
                        {"range": {"event_time": {"gte": start}}},
                        {
                            "bool": {
                                "must_not": {"exists": {"field": "event_time"}},
                                "filter": {"range": {"created_at": {"gte": start}}},
                            }
                        },
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def fetch(es: Any, index: str, scope: Scope) -> list[dict[str, Any]]:
    """Every document the scope may need, as sources."""
    return list(scan(es, index, scope_query(scope), FIELDS))


def network_links(es: Any, links_alias: str) -> Callable[[str, list[str]], dict[str, int]]:
    """A lookup of the links between given messages by kind of evidence (``core.report``).

    Only links with both ends among the messages count (the bulletin passes the messages
    it may list); the evidence is the link's reason without its score ("name + birth date").
    """

    def lookup(_network_id: str, message_ids: list[str]) -> dict[str, int]:
        members = set(message_ids)
        hits = scan(
            es, links_alias, {"terms": {"message_ids": message_ids}}, ["message_ids", "reason"]
        )
        out: dict[str, int] = {}
        for link in hits:
            if not members.issuperset(link.get("message_ids") or []):
                continue  # a link to a message the bulletin may not list
            reason = str(link.get("reason") or "unknown").split(" (")[0]
            out[reason] = out.get(reason, 0) + 1
        return out

    return lookup


def read_bulletin(es: Any, cfg: Settings, scope: Scope, generated_at: dt.datetime) -> Bulletin:
    """The bulletin of ``scope``: its messages and their networks' links read from the index."""
    docs = fetch(es, cfg.index_alias, scope)
    return build(docs, scope, generated_at, network_links(es, cfg.links_alias))
