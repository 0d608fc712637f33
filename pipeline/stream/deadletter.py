"""Dead-letter records: why, where, and the original bytes, so nothing is lost."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.coerce import FieldError

_NAMESPACE = uuid.UUID("5b0c6a2e-6f43-4c5a-9d5e-0d8f0c7a1e11")


@dataclass
class DeadLetter:
    """A rejected record, ready to be Avro-encoded with the ``dead_letter`` schema."""

    stage: str
    error_type: str
    reason: str
    topic: str
    partition: int
    offset: int
    original_key: bytes | None
    original_value: bytes | None
    original_headers: dict[str, bytes | None] = field(default_factory=dict)
    field_errors: list[FieldError] = field(default_factory=list)
    message_id: str | None = None
    source_ncb: str | None = None

    def to_dict(self, now: dt.datetime) -> dict[str, Any]:
        """The Avro datum (explicit ``to_dict``; ids are deterministic per record and stage)."""
        ident = uuid.uuid5(_NAMESPACE, f"{self.topic}:{self.partition}:{self.offset}:{self.stage}")
        return {
            "dead_letter_id": str(ident),
            "stage": self.stage,
            "error_type": self.error_type,
            "reason": self.reason[:4000],
            "field_errors": [{"path": e.path, "reason": e.reason} for e in self.field_errors],
            "message_id": self.message_id,
            "source_ncb": self.source_ncb,
            "original_key": self.original_key,
            "original_value": self.original_value,
            "original_headers": dict(self.original_headers),
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "failed_at": now,
        }


def headers_dict(headers: Any) -> dict[str, bytes | None]:
    """Kafka headers (list of pairs or mapping) as a dict of bytes."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, dict) else headers
    out: dict[str, bytes | None] = {}
    for k, v in items:
        out[k.decode() if isinstance(k, bytes) else str(k)] = (
            v.encode() if isinstance(v, str) else v
        )
    return out
