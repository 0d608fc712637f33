"""Stages 1 and 2: decode and validate, then deduplicate.

1. ``validate`` on the inbound topics (keyed by message_id): decode either framing, apply
   the gateway's rules, acknowledge RECEIVED; forward a ``Received`` to the content topic
   keyed by the content hash. An NCB's own topic binds its source.
2. ``dedupe`` (table ``content``, keyed by content hash): drop exact re-sends, absorb
   content duplicates into the first id, forward the rest to the lineage topic keyed by
   the message_id each input concerns (its own; the superseded id for UPDATE/WITHDRAW).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from pipeline.codec import CodecError
from pipeline.core.acks import DUPLICATE, RECEIVED, WITHDRAWN, attribute_ncb
from pipeline.core.coerce import FieldError, to_json
from pipeline.core.dedupe import CONTENT_DUPLICATE, RESEND, decide_content
from pipeline.core.enrich import content_hash
from pipeline.core.validation import MessageValidator, ValidationError, normalise_ids, size_error
from pipeline.settings import Settings
from pipeline.stream import metrics
from pipeline.stream.deadletter import headers_dict
from pipeline.stream.outputs import Outputs, utc_now
from pipeline.stream.records import (
    Absorb,
    Alias,
    IndexRequest,
    LineageInput,
    Received,
    Supersede,
    read_content,
)


def iso_ms(t: dt.datetime) -> str:
    """ISO 8601 with milliseconds, ``Z`` for UTC."""
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Validate:
    """Stage 1: decode, validate, acknowledge receipt, forward by content."""

    def __init__(
        self, settings: Settings, codec: Any, validator: MessageValidator, outputs: Outputs
    ) -> None:
        self.settings = settings
        self.codec = codec
        self.validator = validator
        self.out = outputs

    async def __call__(self, event: Any) -> None:
        """Decode, validate and forward one inbound record."""
        msg = event.message
        received = utc_now()
        datum, failure = await self._decode(msg.value)
        claimed = datum.get("source_ncb") if datum else None
        claimed = claimed if isinstance(claimed, str) else None
        message_id = datum.get("message_id") if datum else None
        message_id = message_id if isinstance(message_id, str) else None
        inbound = self.settings.topic_inbound
        ncb = attribute_ncb(msg.topic, inbound, headers_dict(msg.headers), claimed)
        source = (msg.topic, msg.partition, msg.offset)
        await self.out.acknowledge(RECEIVED, ncb, source, message_id=message_id)
        if datum is None:
            error_type, reason = failure or ("undecodable", "record could not be decoded")
            await self._reject(event, "decode", error_type, reason)
            return
        bound = ncb if msg.topic != inbound else None
        if bound is not None and claimed != bound:  # an NCB may only publish as itself
            why = FieldError("source_ncb", f"must be {bound}, the authenticated source")
            reason = f"source_ncb {claimed!r} on {msg.topic}, the topic of {bound}"
            await self._reject(
                event, "validate", "source_mismatch", reason, [why], message_id, claimed
            )
            return
        too_large = size_error(len(msg.value), self.validator.limits)
        if too_large is not None:  # a gateway that skipped the limit: refused, never half-processed
            await self._reject(
                event, "validate", "too_large", too_large.reason, [too_large], message_id, claimed
            )
            return
        try:
            self.validator.check_record(datum, now=received)
        except ValidationError as exc:
            await self._reject(
                event, "validate", "invalid_field", str(exc), exc.errors, message_id, claimed
            )
            return
        record = to_json(datum)
        forward = Received(
            record, content_hash(record), source, int(msg.timestamp * 1000), iso_ms(received)
        )
        await self.out.send(self.settings.topic_content, forward.hash, forward)
        metrics.EVENTS.labels("validate", "forwarded").inc()

    async def _decode(self, value: Any) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
        """The record's datum, or why it has none: (error type, reason)."""
        if not isinstance(value, bytes | bytearray):
            return None, ("empty", "record has no value")
        try:
            schema_id = self.codec.uncached_registry_id(bytes(value))
            if schema_id is not None:  # a registry lookup: off the event loop
                await asyncio.to_thread(self.codec.fetch_registry_schema, schema_id)
            return normalise_ids(self.codec.decode(bytes(value))), None
        except CodecError as exc:
            return None, (exc.error_type, str(exc))

    async def _reject(
        self,
        event: Any,
        stage: str,
        error_type: str,
        reason: str,
        errors: list[FieldError] | None = None,
        message_id: str | None = None,
        source_ncb: str | None = None,
    ) -> None:
        await self.out.dead_letter_event(
            event, stage, error_type, reason, errors, message_id, source_ncb
        )
        metrics.EVENTS.labels("validate", "dead_letter").inc()


def lineage_inputs(
    received: Received, absorb_into: str | None, absorbed: list[str], forward: bool
) -> list[LineageInput]:
    """What dedupe sends to the lineage stage for one message (``core.dedupe`` decided)."""
    record, mid = received.record, received.message_id
    out: list[LineageInput] = []
    if absorb_into is not None:
        out += [Absorb(absorb_into, tuple(absorbed)), Alias(mid, absorb_into)]
    if not forward:
        return out
    if record["action"] != "WITHDRAW":
        out.append(IndexRequest(received))
    if record.get("supersedes_message_id"):
        out.append(Supersede(record["supersedes_message_id"], mid, record["action"]))
    return out


class Dedupe:
    """Stage 2: drop re-sends, absorb content duplicates, forward the rest."""

    def __init__(self, settings: Settings, outputs: Outputs, content: Any) -> None:
        self.settings = settings
        self.out = outputs
        self.content = content  # table: content hash -> first id, re-sends

    async def __call__(self, event: Any) -> None:
        """Decide one message by its content; acknowledge duplicates and withdrawals."""
        received = read_content(event.message.value)
        record, mid = received.record, received.message_id
        decision = decide_content(self.content.get(received.hash), mid, list(received.src))
        self.content[received.hash] = decision.state
        metrics.EVENTS.labels("dedupe", decision.outcome).inc()
        if decision.outcome in (RESEND, CONTENT_DUPLICATE):
            first = decision.state["first_id"]
            reason = (
                f"re-send of {mid}, already received"
                if first == mid
                else f"same content as {first}: not indexed again; the document records it"
            )
            await self.out.acknowledge_received(
                received, DUPLICATE, duplicate_of=first, reason=reason
            )
        elif record["action"] == "WITHDRAW":  # new, or a replay of our own processing
            target = record.get("supersedes_message_id")
            reason = f"{target} is withdrawn from the index and from everyone who received it"
            await self.out.acknowledge_received(
                received, WITHDRAWN, document_id=target, reason=reason
            )
        for item in lineage_inputs(
            received, decision.absorb_into, decision.absorbed, decision.forward
        ):
            await self.out.send(self.settings.topic_lineage, item.target, item)
