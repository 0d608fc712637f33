"""Acknowledgements for a gateway (library API of ``hst acks`` and ``Publisher.wait_for_acks``)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from typing import Any

from pipeline.codec import ACK, AvroCodec
from pipeline.errors import HstError
from pipeline.kafka.keyed import read_keyed
from pipeline.settings import Settings

Coordinates = tuple[str, int, int]


def read_acks(settings: Settings, ncb: str | None, *, since: dt.datetime | None = None,
              follow: bool = False, timeout: float | None = 30.0) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Decoded acknowledgements for ``ncb`` (every NCB when None), each once by ``ack_id``."""
    codec = AvroCodec(ACK)
    key = ncb.upper() if ncb is not None else None
    return read_keyed(settings, settings.acks_topic_of(key) if key else settings.topic_acks, key, codec.decode, "ack_id",
                      since=since, follow=follow, timeout=timeout)  # fmt: skip


def coordinates(ack: Mapping[str, Any]) -> Coordinates:
    """The inbound record an acknowledgement is about."""
    r = ack["record"]
    return (r["topic"], int(r["partition"]), int(r["offset"]))


class AcksTimeoutError(HstError, TimeoutError):
    """Some records got no terminal acknowledgement in time; ``acks`` holds those that did."""

    def __init__(self, acks: dict[str, dict[str, Any]], missing: list[str]) -> None:
        self.acks = acks
        self.missing = missing
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        super().__init__(f"{len(missing)} message(s) without a terminal acknowledgement: {shown}")


def wait_for_terminal(settings: Settings, records: Mapping[Coordinates, str], *,
                      since: dt.datetime, timeout: float = 60.0,
                      ncb: str | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The terminal acknowledgement of each delivered record, by message id.

    ``records`` maps each record's Kafka coordinates (from its delivery report) to its
    message id; when one id was sent several times the latest record's acknowledgement
    wins. Raises ``AcksTimeoutError`` (with what did arrive) after ``timeout`` seconds.
    ``ncb``: read only that NCB's acknowledgements (its own topic, when it has one).
    """
    pending = dict(records)
    latest: dict[str, Coordinates] = {}
    for coords, message_id in sorted(records.items()):
        latest[message_id] = coords  # same key, same partition: a higher offset is later
    out: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    # One minute earlier than the first publish: a worker's clock may lag the gateway's.
    start = since - dt.timedelta(minutes=1)
    if pending:
        for ack in read_acks(settings, ncb, since=start, follow=True, timeout=timeout):
            coords = coordinates(ack)
            if not ack["terminal"] or coords not in pending:
                continue
            message_id = pending.pop(coords)
            if latest[message_id] == coords:
                out[message_id] = ack
            if not pending or time.monotonic() > deadline:
                break
    missing = sorted({latest_id for latest_id, c in latest.items() if latest_id not in out})
    if missing:
        raise AcksTimeoutError(out, missing)
    return out
