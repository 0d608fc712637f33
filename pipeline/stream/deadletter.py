"""Dead-letter records: why, where, and the original bytes, so nothing is lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
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


# A dead letter must always fit the dead-letter topic (1 MB by default), whatever it carries.
MAX_ORIGINAL_BYTES = 256 * 1024
MAX_FIELD_ERRORS = 200


def bounded(letter: DeadLetter, limit: int = MAX_ORIGINAL_BYTES) -> DeadLetter:
    """``letter`` small enough to send, whatever the original's size.

    An oversize original keeps its first ``limit`` bytes, and headers give its full size and
    SHA-256 (so it can still be identified and traced); field errors are capped too.
    """
    value = letter.original_value
    errors = letter.field_errors[:MAX_FIELD_ERRORS]
    if value is None or len(value) <= limit:
        return dataclasses.replace(letter, field_errors=errors)
    headers = {
        **letter.original_headers,
        "hst-original-bytes": str(len(value)).encode(),
        "hst-original-sha256": hashlib.sha256(value).hexdigest().encode(),
        "hst-original-truncated": b"true",
    }
    return dataclasses.replace(
        letter, original_value=value[:limit], original_headers=headers, field_errors=errors
    )


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
