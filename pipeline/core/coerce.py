"""Schema-driven conversion between friendly JSON and Avro records, with field paths.

Gateways send plain JSON: unions are written as the bare value (not Avro's tagged JSON),
timestamps as ISO-8601 with a zone or epoch milliseconds, dates as ``YYYY-MM-DD``. Every
problem is reported with its path (``persons[0].documents[1].number``), all at once, so a
gateway can fix a record in one go. Unknown fields are errors: machines deserve strictness.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
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
        try:
            return dt.datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError):  # past year 9999 or what the platform's time_t holds
            msg = f"epoch milliseconds {value} are out of range"
            raise ValueError(msg) from None
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


Path = list[str | int]
Converter = Callable[[Any, Path, list[FieldError]], Any]


def format_path(path: Path) -> str:
    """``["persons", 0, "name"]`` -> ``persons[0].name``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _err(errors: list[FieldError], path: Path, reason: str) -> None:
    errors.append(FieldError(format_path(path), reason))


class Coercer:
    """Converts JSON values to Avro datums for one schema.

    The schema is compiled once into nested closures, so validating a message does no
    schema interpretation; paths are only formatted when there is an error.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.named: dict[str, Any] = {}
        self._compiled: dict[str, Converter] = {}
        self._convert = self._compile(schema, schema.get("namespace"))

    def to_datum(self, value: Any) -> tuple[dict[str, Any], list[FieldError]]:
        """Convert a JSON object; returns the datum and every error found."""
        errors: list[FieldError] = []
        datum = self._convert(value, [], errors)
        return (datum if isinstance(datum, dict) else {}), errors

    def _compile(self, schema: Any, namespace: str | None) -> Converter:
        if isinstance(schema, str):
            if schema in self._compiled:
                return self._compiled[schema]
            full = f"{namespace}.{schema}" if namespace and "." not in schema else schema
            if full in self._compiled:
                return self._compiled[full]
            return _primitive(schema)
        if isinstance(schema, list):
            return self._union([self._compile(b, namespace) for b in schema if b != "null"],
                               "null" in schema, _type_name(schema))  # fmt: skip
        logical = schema.get("logicalType")
        kind = schema["type"]
        if logical == "timestamp-millis":
            return _wrap(parse_timestamp)
        if logical == "date":
            return _wrap(parse_date)
        if kind == "record":
            return self._record(schema, namespace)
        if kind == "enum":
            name = schema["name"]
            conv = _enum(schema["symbols"])
            self._compiled[name] = conv
            ns = schema.get("namespace", namespace)
            if ns:
                self._compiled[f"{ns}.{name}"] = conv
            return conv
        if kind == "array":
            return _array(self._compile(schema["items"], namespace))
        if kind == "map":
            return _map(self._compile(schema["values"], namespace))
        return self._compile(kind, namespace)

    def _union(self, branches: list[Converter], nullable: bool, expected: str) -> Converter:
        def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
            if value is None:
                if not nullable:
                    _err(errors, path, f"required, expected {expected}")
                return None
            last: list[FieldError] = []
            for branch in branches:
                attempt: list[FieldError] = []
                out = branch(value, path, attempt)
                if not attempt:
                    return out
                last = attempt
            errors.extend(last)
            return None

        if nullable and len(branches) == 1:
            only = branches[0]

            def convert_optional(value: Any, path: Path, errors: list[FieldError]) -> Any:
                return None if value is None else only(value, path, errors)

            return convert_optional
        return convert

    def _record(self, schema: dict[str, Any], namespace: str | None) -> Converter:
        ns = schema.get("namespace", namespace)
        name = schema["name"]
        fields: list[tuple[str, Converter | None, bool, Any, str]] = []

        def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
            if not isinstance(value, dict):
                _err(errors, path, f"expected an object, got {_json_type(value)}")
                return None
            if not value.keys() <= known:
                for extra in sorted(set(value) - known):
                    _err(errors, [*path, extra], "unknown field")
            out: dict[str, Any] = {}
            for fname, conv, has_default, default, expected in fields:
                if fname in value:
                    path.append(fname)
                    out[fname] = conv(value[fname], path, errors)  # type: ignore[misc]
                    path.pop()
                elif has_default:
                    out[fname] = copy.copy(default)
                else:
                    _err(errors, [*path, fname], f"required field missing ({expected})")
            return out

        # Register before compiling fields so recursive references resolve.
        self._compiled[name] = convert
        if ns:
            self._compiled[f"{ns}.{name}"] = convert
        for f in schema["fields"]:
            fields.append(
                (f["name"], None, "default" in f, f.get("default"), _type_name(f["type"]))
            )
        known = {f["name"] for f in schema["fields"]}
        for i, f in enumerate(schema["fields"]):
            conv = self._compile(f["type"], ns)
            fname, _, has_default, default, expected = fields[i]
            fields[i] = (fname, conv, has_default, default, expected)
        return convert


def _wrap(fn: Callable[[Any], Any]) -> Converter:
    def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
        try:
            return fn(value)
        except ValueError as exc:
            _err(errors, path, str(exc))
            return None

    return convert


def _enum(symbols: list[str]) -> Converter:
    allowed = frozenset(symbols)
    listing = ", ".join(symbols)

    def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        _err(errors, path, f"{value!r} is not one of: {listing}")
        return None

    return convert


def _array(item: Converter) -> Converter:
    def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
        if not isinstance(value, list):
            _err(errors, path, f"expected an array, got {_json_type(value)}")
            return []
        out = []
        for i, v in enumerate(value):
            path.append(i)
            out.append(item(v, path, errors))
            path.pop()
        return out

    return convert


def _map(values: Converter) -> Converter:
    def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
        if not isinstance(value, dict):
            _err(errors, path, f"expected an object, got {_json_type(value)}")
            return {}
        out = {}
        for k, v in value.items():
            path.append(str(k))
            out[k] = values(v, path, errors)
            path.pop()
        return out

    return convert


def _primitive(kind: str) -> Converter:
    check: Callable[[Any], bool]
    if kind == "null":
        check = lambda v: v is None  # noqa: E731
    elif kind == "boolean":
        check = lambda v: isinstance(v, bool)  # noqa: E731
    elif kind in ("int", "long"):
        lo, hi = _INT_RANGE if kind == "int" else _LONG_RANGE
        check = lambda v: type(v) is int and lo <= v <= hi  # noqa: E731
    elif kind in ("float", "double"):

        def convert_float(value: Any, path: Path, errors: list[FieldError]) -> Any:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            _err(errors, path, f"expected {kind}, got {_json_type(value)}")
            return None

        return convert_float
    elif kind == "string":
        check = lambda v: type(v) is str  # noqa: E731
    elif kind == "bytes":
        check = lambda v: isinstance(v, bytes)  # noqa: E731
    else:
        msg = f"unsupported Avro type {kind!r}"
        raise ValueError(msg)

    def convert(value: Any, path: Path, errors: list[FieldError]) -> Any:
        if check(value):
            return value
        _err(errors, path, f"expected {kind}, got {_json_type(value)}")
        return None

    return convert


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
