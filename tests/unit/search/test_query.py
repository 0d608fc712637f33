"""Analyst queries: no input can change the query's structure (no query-string injection)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.search.mappings import MAPPINGS
from pipeline.search.query import QueryError, SearchFilters, build_query

# Every key a query may hold: DSL words, and the mapped fields the code names.
DSL = {"bool", "must", "filter", "should", "minimum_should_match", "nested", "path", "query", "match",
       "multi_match", "fields", "term", "terms", "wildcard", "value", "range", "gte", "match_all"}  # fmt: skip
PARSERS = {"query_string", "simple_query_string", "script", "regexp", "query_string_query"}


def _fields(mappings: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, spec in mappings["properties"].items():
        out.add(f"{prefix}{name}")
        if "properties" in spec:
            out |= _fields(spec, f"{prefix}{name}.")
    return out


FIELDS = _fields(MAPPINGS)
NASTY = st.sampled_from(['*', '*:*', '") OR ("a', 'name:* OR source_ncb:*', '{"match_all":{}}',
                         "\\", "?", "~", "/.*/", "persons.name_keys", "a AND NOT b"])  # fmt: skip
text = st.one_of(NASTY, st.text(min_size=1, max_size=40))


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["text", "person", "document", "phone", "country", "ncb", "network", "route"]),
    text,
)
def test_input_only_ever_becomes_a_value(field: str, value: str) -> None:
    try:
        query = build_query(SearchFilters(**{field: value}))
    except QueryError:
        return  # refused with a message naming the option: fine
    keys = _keys(query)
    assert not keys & PARSERS, query  # nothing the server would parse as a query language
    assert keys <= DSL | FIELDS, (
        keys - DSL - FIELDS
    )  # input never becomes a key (a field or clause)


def test_a_route_filter_cannot_carry_wildcards() -> None:
    for bad in ("SYR*", "*", "SYR>?", "SYR>TUR OR *"):
        try:
            query = build_query(SearchFilters(route=bad))
        except QueryError as exc:
            assert "--route" in str(exc)
        else:
            raise AssertionError(json.dumps(query))
