"""Hypothesis strategies that build valid datums for any Avro schema (for codec properties)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

_UTC = dt.UTC
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for datums of ``schema`` (named types resolved; depth-limited arrays)."""
    named: dict[str, Any] = {}
    return _build(schema, named, schema.get("namespace"))


def _build(schema: Any, named: dict[str, Any], ns: str | None) -> st.SearchStrategy[Any]:
    if isinstance(schema, str):
        if schema in named:
            return named[schema]
        return _primitive(schema)
    if isinstance(schema, list):
        return st.one_of(*[_build(b, named, ns) for b in schema])
    logical = schema.get("logicalType")
    kind = schema["type"]
    if logical == "timestamp-millis":
        return st.integers(0, 4_102_444_800_000).map(
            lambda ms: dt.datetime.fromtimestamp(ms / 1000, tz=_UTC).replace(
                microsecond=(ms % 1000) * 1000
            )
        )
    if logical == "date":
        return st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))
    if logical == "uuid":
        return st.uuids().map(str)
    if kind == "record":
        rec_ns = schema.get("namespace", ns)
        fields = {f["name"]: _build(f["type"], named, rec_ns) for f in schema["fields"]}
        strategy = st.fixed_dictionaries(fields)
        named[schema["name"]] = strategy
        if rec_ns:
            named[f"{rec_ns}.{schema['name']}"] = strategy
        return strategy
    if kind == "enum":
        strategy = st.sampled_from(schema["symbols"])
        named[schema["name"]] = strategy
        return strategy
    if kind == "array":
        return st.lists(_build(schema["items"], named, ns), max_size=3)
    if kind == "map":
        return st.dictionaries(_TEXT, _build(schema["values"], named, ns), max_size=3)
    return _primitive(kind)


def _primitive(kind: str) -> st.SearchStrategy[Any]:
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(width=32, allow_nan=False),
        "double": st.floats(allow_nan=False),
        "string": _TEXT,
        "bytes": st.binary(max_size=16),
    }[kind]
