"""Acknowledgements to the sending gateway: who gets one, and what it says (pure).

Every inbound record gets ``RECEIVED``, then exactly one terminal state. An acknowledgement
is identified by the record's Kafka coordinates and its state, so the one re-sent after a
crash has the same ``ack_id`` and readers drop it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.core.countries import is_alpha3

RECEIVED = "RECEIVED"
PROCESSED = "PROCESSED"
DUPLICATE = "DUPLICATE"
REJECTED = "REJECTED"
WITHDRAWN = "WITHDRAWN"
TERMINAL = frozenset({PROCESSED, DUPLICATE, REJECTED, WITHDRAWN})

# Acknowledgements nobody can be told about (undecodable, no NCB in topic or header): kept
# under this key for the General Secretariat's operators, never sent to an NCB.
UNATTRIBUTED = "UNATTRIBUTED"
_NCB = re.compile(r"^[A-Z]{3}$")


def _is_ncb(code: str) -> bool:
    return bool(_NCB.match(code)) and is_alpha3(code)


Coordinates = tuple[str, int, int]  # topic, partition, offset


def ack_id(record: Coordinates, state: str) -> str:
    """Deterministic id of the acknowledgement of ``state`` for one inbound record."""
    topic, partition, offset = record
    raw = f"{topic}|{partition}|{offset}|{state}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:24]


def attribute_ncb(topic: str, inbound_topic: str, headers: Mapping[str, bytes | None],
                  claimed: str | None = None) -> str:  # fmt: skip
    """The NCB an acknowledgement goes to.

    In order: the NCB of a per-NCB inbound topic (``<inbound>.<NCB>``, the authenticated
    source), the body's ``source_ncb``, the gateway's ``hst-source-ncb`` header, each only
    when it is a real ISO 3166-1 alpha-3 code; else ``UNATTRIBUTED``.
    """
    prefix = f"{inbound_topic}."
    if topic.startswith(prefix) and _is_ncb(topic[len(prefix) :]):
        return topic[len(prefix) :]
    if claimed and _is_ncb(claimed):
        return claimed
    header = headers.get("hst-source-ncb")
    if header:
        value = header.decode(errors="replace").strip().upper()
        if _is_ncb(value):
            return value
    return UNATTRIBUTED


def make_ack(state: str, ncb: str, record: Coordinates, now: dt.datetime, *,
             message_id: str | None = None, stage: str | None = None, reason: str | None = None,
             errors: Iterable[tuple[str, str]] = (), duplicate_of: str | None = None,
             document_id: str | None = None,
             notices: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:  # fmt: skip
    """An Avro ``Ack`` datum."""
    topic, partition, offset = record
    return {
        "ack_id": ack_id(record, state),
        "ncb": ncb,
        "message_id": message_id,
        "state": state,
        "terminal": state in TERMINAL,
        "record": {"topic": topic, "partition": int(partition), "offset": int(offset)},
        "stage": stage,
        "reason": reason,
        "errors": [{"path": path, "message": message} for path, message in errors],
        "duplicate_of": duplicate_of,
        "document_id": document_id,
        "notices": [
            {"notice_id": n["notice_id"], "recipient": n["recipient"], "level": n["level"]}
            for n in notices
        ],
        "created_at": now,
    }
