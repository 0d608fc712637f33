"""Analyst queries.

User input only ever goes into values of term/match clauses (never a query string the
server parses), so no input can change the query's structure.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from pipeline.core.enrich import normalise_document_number, normalise_phone
from pipeline.core.matching import FUZZY
from pipeline.core.names import name_keys
from pipeline.errors import HstError

_ROUTE = re.compile(r"^[A-Z]{3}(>[A-Z]{3})*$")


class QueryError(HstError, ValueError):
    """A filter value that cannot be used."""


@dataclass
class SearchFilters:
    """What an analyst or gateway can search by."""

    text: str | None = None
    person: str | None = None
    document: str | None = None
    phone: str | None = None
    phone_country: str | None = None
    country: str | None = None
    route: str | None = None
    since: dt.datetime | None = None
    ncb: str | None = None
    min_priority: int | None = None
    network: str | None = None


def _nested(path: str, query: dict[str, Any]) -> dict[str, Any]:
    return {"nested": {"path": path, "query": query}}


def build_query(f: SearchFilters) -> dict[str, Any]:
    """Elasticsearch bool query for the filters (all must hold)."""
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if f.text:
        must.append({"bool": {"should": [
            {"multi_match": {"query": f.text, "fields": ["incident.narrative", "operation_name", "case_refs"]}},
            _nested("persons", {"multi_match": {"query": f.text, "fields": ["persons.full_name", "persons.name_latin", "persons.aliases"]}}),
            {"match": {"route.events.place": f.text}},
        ], "minimum_should_match": 1}})  # fmt: skip
    if f.person:
        keys = name_keys(f.person)
        if not keys:
            msg = f"--person {f.person!r} has no usable name"
            raise QueryError(msg)
        # Every name token must match a key of the same person (any script or spelling).
        filters.append(
            _nested(
                "persons", {"bool": {"filter": [{"term": {"persons.name_keys": k}} for k in keys]}}
            )
        )
    if f.document:
        number = normalise_document_number(f.document)
        if not number:
            msg = f"--document {f.document!r} has no letters or digits"
            raise QueryError(msg)
        filters.append(
            _nested("persons", {"term": {"persons.documents.number_normalised": number}})
        )
    if f.phone:
        e164, _ = normalise_phone(f.phone, f.phone_country)
        if e164 is None:
            msg = f"--phone {f.phone!r} is not a valid number (give --phone-country for national formats)"
            raise QueryError(msg)
        filters.append(_nested("persons", {"term": {"persons.phones.e164": e164}}))
    if f.country:
        filters.append({"term": {"route.countries": f.country.upper()}})
    if f.route:
        route = f.route.upper().replace(" ", "")
        if not _ROUTE.match(route):
            msg = f"--route {f.route!r} must look like SYR>TUR>GRC"
            raise QueryError(msg)
        filters.append({"wildcard": {"route.path": {"value": f"*{route}*"}}})
    if f.since:
        filters.append({"range": {"event_time": {"gte": f.since.isoformat()}}})
    if f.ncb:
        filters.append({"term": {"source_ncb": f.ncb.upper()}})
    if f.min_priority is not None:
        filters.append({"range": {"priority_score": {"gte": f.min_priority}}})
    if f.network:
        filters.append({"term": {"network_id": f.network.strip().upper()}})
    if not must and not filters:
        return {"match_all": {}}
    return {"bool": {"must": must, "filter": filters}}


NO_STAMP = "(none)"  # links made before each fuzzy link recorded its model


def fuzzy_links_by_model(es: Any, links_alias: str) -> dict[str, int]:
    """How many fuzzy links each person model made (``model`` of ``hst-links``), most first."""
    response = es.search(
        index=links_alias,
        size=0,
        query={"term": {"kind": FUZZY}},
        aggs={"models": {"terms": {"field": "model", "size": 1000, "missing": NO_STAMP}}},
    )
    buckets = response["aggregations"]["models"]["buckets"]
    return {str(b["key"]): int(b["doc_count"]) for b in buckets}
