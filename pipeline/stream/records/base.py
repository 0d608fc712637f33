"""What every record module shares: the wire encoding and its errors."""

from __future__ import annotations

from typing import Any

import orjson

from pipeline.errors import PermanentError

Source = tuple[str, int, int]  # the inbound record a message came from: topic, partition, offset


class RecordError(PermanentError, ValueError):
    """A record on an internal topic that no record type describes."""


def encode(record: Any) -> bytes:
    """The wire form of any record of this module."""
    return orjson.dumps(record.to_dict())


def load(value: bytes | None) -> dict[str, Any]:
    """The JSON object a record is (anything else is a ``RecordError``)."""
    data = orjson.loads(value or b"{}")
    if not isinstance(data, dict):
        msg = f"expected a JSON object, got {type(data).__name__}"
        raise RecordError(msg)
    return data


def source(value: Any) -> Source:
    """A ``Source`` from its JSON list."""
    topic, partition, offset = value
    return (str(topic), int(partition), int(offset))
