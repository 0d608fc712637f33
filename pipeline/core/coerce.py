"""Schema-driven conversion between friendly JSON and Avro records, with field paths.

Gateways send plain JSON: unions are written as the bare value (not Avro's tagged JSON),
timestamps as ISO-8601 with a zone or epoch milliseconds, dates as ``YYYY-MM-DD``. Every
problem is reported with its path (``persons[0].documents[1].number``), all at once, so a
gateway can fix a record in one go. Unknown fields are errors: machines deserve strictness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

UTC = dt.UTC
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class FieldError:
    """One invalid field: its path and what is wrong."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '<record>'}: {self.reason}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return " or ".join(_type_name(s) for s in schema if s != "null")
    if isinstance(schema, dict):
        return str(schema.get("logicalType") or schema.get("name") or schema.get("type"))
    return str(schema)


def parse_timestamp(value: Any) -> dt.datetime:
    """ISO-8601 with an explicit zone, or epoch milliseconds, to an aware UTC datetime."""
    if isinstance(value, bool):
        msg = "expected a timestamp"
        raise ValueError(msg)
    if isinstance(value, int):
        return dt.datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            msg = f"{value!r} is not an ISO-8601 timestamp"
            raise ValueError(msg) from None
    else:
        msg = f"expected an ISO-8601 timestamp string, got {type(value).__name__}"
        raise ValueError(msg)
    if parsed.tzinfo is None:
        msg = f"timestamp {value!r} has no time zone (add Z or +hh:mm)"
        raise ValueError(msg)
    # Avro timestamp-millis: drop sub-millisecond precision so round trips are exact.
    parsed = parsed.astimezone(UTC)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def parse_date(value: Any) -> dt.date:
    """``YYYY-MM-DD`` to a date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        msg = f"expected a date string YYYY-MM-DD, got {type(value).__name__}"
        raise ValueError(msg)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not a date YYYY-MM-DD"
        raise ValueError(msg) from None


class Coercer:
    """Converts JSON values to Avro datums for one schema (named types resolved once)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.named: dict[str, Any] = {}
        self._collect(schema, schema.get("namespace"))

    def _collect(self, schema: Any, namespace: str | None) -> None:
        if isinstance(schema, list):
            for s in schema:
                self._collect(s, namespace)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in ("record", "enum", "fixed"):
                ns = schema.get("namespace", namespace)
                name = schema["name"]
                self.named[name] = schema
                if ns:
                    self.named[f"{ns}.{name}"] = schema
                for f in schema.get("fields", []):
                    self._collect(f["type"], ns)
            elif kind == "array":
                self._collect(schema["items"], namespace)
            elif kind == "map":
                self._collect(schema["values"], namespace)

    def _resolve(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema in self.named:
            return self.named[schema]
        return schema

    def to_datum(self, value: Any) -> tuple[dict[str, Any], list[FieldError]]:
        """Convert a JSON object; returns the datum and every error found."""
        errors: list[FieldError] = []
        datum = self._convert(self.schema, value, "", errors)
        return (datum if isinstance(datum, dict) else {}), errors

    def _convert(self, schema: Any, value: Any, path: str, errors: list[FieldError]) -> Any:
        schema = self._resolve(schema)
        if isinstance(schema, list):
            return self._union(schema, value, path, errors)
        if isinstance(schema, dict):
            logical = schema.get("logicalType")
            kind = schema["type"]
            if logical == "timestamp-millis":
                return self._wrap(parse_timestamp, value, path, errors)
            if logical == "date":
                return self._wrap(parse_date, value, path, errors)
            if kind == "record":
                return self._record(schema, value, path, errors)
            if kind == "enum":
                if value not in schema["symbols"]:
                    allowed = ", ".join(schema["symbols"])
                    errors.append(FieldError(path, f"{value!r} is not one of: {allowed}"))
                    return None
                return value
            if kind == "array":
                if not isinstance(value, list):
                    errors.append(FieldError(path, f"expected an array, got {_json_type(value)}"))
                    return []
                return [
                    self._convert(schema["items"], v, f"{path}[{i}]", errors)
                    for i, v in enumerate(value)
                ]
            if kind == "map":
                if not isinstance(value, dict):
                    errors.append(FieldError(path, f"expected an object, got {_json_type(value)}"))
                    return {}
                return {
                    k: self._convert(schema["values"], v, _join(path, k), errors)
                    for k, v in value.items()
                }
            return self._convert(kind, value, path, errors)
        return self._primitive(schema, value, path, errors)

    @staticmethod
    def _wrap(fn: Any, value: Any, path: str, errors: list[FieldError]) -> Any:
        try:
            return fn(value)
        except ValueError as exc:
            errors.append(FieldError(path, str(exc)))
            return None

    def _union(self, branches: list[Any], value: Any, path: str, errors: list[FieldError]) -> Any:
        if value is None:
            if "null" in branches:
                return None
            errors.append(FieldError(path, f"required, expected {_type_name(branches)}"))
            return None
        non_null = [b for b in branches if b != "null"]
        last: list[FieldError] = []
        for branch in non_null:
            attempt: list[FieldError] = []
            out = self._convert(branch, value, path, attempt)
            if not attempt:
                return out
            last = attempt
        errors.extend(last)
        return None

    def _record(
        self, schema: dict[str, Any], value: Any, path: str, errors: list[FieldError]
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            errors.append(FieldError(path, f"expected an object, got {_json_type(value)}"))
            return None
        known = {f["name"] for f in schema["fields"]}
        for extra in sorted(set(value) - known):
            errors.append(FieldError(_join(path, extra), "unknown field"))
        out: dict[str, Any] = {}
        for f in schema["fields"]:
            name = f["name"]
            fpath = _join(path, name)
            if name in value:
                out[name] = self._convert(f["type"], value[name], fpath, errors)
            elif "default" in f:
                default = f["default"]
                out[name] = list(default) if isinstance(default, list) else default
                if isinstance(default, dict):
                    out[name] = dict(default)
            else:
                errors.append(FieldError(fpath, f"required field missing ({_type_name(f['type'])})"))
        return out

    @staticmethod
    def _primitive(kind: str, value: Any, path: str, errors: list[FieldError]) -> Any:
        ok: bool
        if kind == "null":
            ok = value is None
        elif kind == "boolean":
            ok = isinstance(value, bool)
        elif kind in ("int", "long"):
            lo, hi = _INT_RANGE if kind == "int" else _LONG_RANGE
            ok = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
        elif kind in ("float", "double"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok:
                value = float(value)
        elif kind == "string":
            ok = isinstance(value, str)
        elif kind == "bytes":
            ok = isinstance(value, bytes)
        else:
            ok = False
        if not ok:
            errors.append(FieldError(path, f"expected {kind}, got {_json_type(value)}"))
            return None
        return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def to_json(value: Any) -> Any:
    """Datum to friendly JSON (the inverse of ``Coercer.to_datum``)."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
