"""What the stages send: records to the next stage, gateway acknowledgements, dead letters.

Every send goes through Faust's producer (acks=all), which Faust flushes before it commits
the source offsets: whatever a stage sends is durable before its input is done.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson
from aiokafka.partitioner import murmur2

from pipeline.codec import ACK, DEAD_LETTER, AvroCodec
from pipeline.core.acks import REJECTED, attribute_ncb, make_ack
from pipeline.core.coerce import Coercer, FieldError
from pipeline.settings import Settings
from pipeline.stream import metrics
from pipeline.stream.deadletter import MAX_FIELD_ERRORS, DeadLetter, bounded, headers_dict
from pipeline.stream.records import Received, Source, encode
from pipeline.topology import Topology

log = logging.getLogger(__name__)

# Dead letters of these stages mean the message will not be indexed: a REJECTED ack follows.
MESSAGE_STAGES = frozenset({"decode", "validate", "dedupe", "enrich", "index"})


def utc_now() -> dt.datetime:
    """Wall clock, aware UTC."""
    return dt.datetime.now(tz=dt.UTC)


def key_partition(key: str, partitions: int) -> int:
    """The partition of ``key`` under the producers' partitioner (murmur2, as Kafka's).

    Where Faust sends a record keyed by ``key``, and so where its table entry lives.
    """
    return (int(murmur2(key.encode())) & 0x7FFFFFFF) % partitions


class Outputs:
    """The worker's topics, and the sends every stage shares."""

    def __init__(
        self, app: Any, settings: Settings, plan: Topology, *, message_codec: Any, coercer: Coercer
    ) -> None:
        self.settings = settings
        # Raw bytes both ways (we encode and decode ourselves), explicit partitions.
        self.topics = {
            t.name: app.topic(
                t.name, key_serializer="raw", value_serializer="raw", partitions=t.partitions
            )
            for t in plan.topics
        }
        self._message_codec = message_codec
        self._coercer = coercer
        self._ack_codec = AvroCodec(ACK)
        self._dlq_codec = AvroCodec(DEAD_LETTER)

    def topic(self, name: str) -> Any:
        """The Faust topic ``name``."""
        return self.topics[name]

    async def send(self, topic: str, key: str, record: Any, partition: int | None = None) -> None:
        """Send a record of ``pipeline.stream.records`` to the next stage.

        ``partition``: where the keys the record speaks for live (``key_partition``), when
        it speaks for several.
        """
        await self.topics[topic].send(key=key.encode(), value=encode(record), partition=partition)

    async def send_bytes(self, topic: str, key: str, value: bytes | None) -> None:
        """Send an encoded value (``None``: a tombstone)."""
        await self.topics[topic].send(key=key.encode(), value=value)

    # -- gateway acknowledgements ----------------------------------------------------------
    async def acknowledge(self, state: str, ncb: str, source: Source, **fields: Any) -> None:
        """Send one acknowledgement to the gateway of ``ncb``, on its own topic if it has one."""
        if not self.settings.acks_enabled:
            return
        datum = make_ack(state, ncb, source, utc_now(), **fields)
        topic = self.topics[self.settings.acks_topic_of(ncb)]  # the shared one if it has none
        await topic.send(key=ncb.encode(), value=self._ack_codec.encode(datum))
        metrics.ACKS.labels(state).inc()

    async def acknowledge_received(self, received: Received, state: str, **fields: Any) -> None:
        """Acknowledge the inbound record a message came from."""
        ncb = attribute_ncb(
            received.src[0], self.settings.topic_inbound, {}, received.record.get("source_ncb")
        )
        await self.acknowledge(state, ncb, received.src, message_id=received.message_id, **fields)

    # -- dead letters ----------------------------------------------------------------------
    async def dead_letter(self, letter: DeadLetter) -> None:
        """Send a dead letter; one for a message that will not be indexed is REJECTED to its gateway."""
        source = self._source_of(letter)  # read from the whole original, before bounding
        value = self._dlq_codec.encode(bounded(letter).to_dict(utc_now()))
        await self.topics[self.settings.topic_dlq].send(key=letter.original_key, value=value)
        metrics.DEAD_LETTERS.labels(letter.stage, letter.error_type).inc()
        if letter.stage in MESSAGE_STAGES and source is not None:
            ncb = attribute_ncb(
                source[0], self.settings.topic_inbound, letter.original_headers, letter.source_ncb
            )
            errors = [(e.path, e.reason) for e in letter.field_errors[:MAX_FIELD_ERRORS]]
            await self.acknowledge(
                REJECTED,
                ncb,
                source,
                message_id=letter.message_id,
                stage=letter.stage,
                errors=errors,
                reason=f"{letter.error_type}: {letter.reason}"[:4000],
            )

    async def dead_letter_event(
        self,
        event: Any,
        stage: str,
        error_type: str,
        reason: str,
        field_errors: list[FieldError] | None = None,
        message_id: str | None = None,
        source_ncb: str | None = None,
    ) -> None:
        """Dead-letter the record an event holds, as it was read."""
        msg = event.message
        await self.dead_letter(
            DeadLetter(
                stage=stage,
                error_type=error_type,
                reason=reason,
                topic=msg.topic,
                partition=msg.partition,
                offset=msg.offset,
                original_key=msg.key,
                original_value=msg.value,
                original_headers=headers_dict(msg.headers),
                field_errors=field_errors or [],
                message_id=message_id,
                source_ncb=source_ncb,
            )
        )

    async def dead_letter_message(
        self, received: Received, stage: str, error_type: str, reason: str
    ) -> None:
        """Dead-letter a message met in a later stage, re-encoded as its gateway sent it."""
        try:
            datum, _ = self._coercer.to_datum(received.record)
            value: bytes = self._message_codec.encode(datum)
        except Exception:  # unreachable for a validated message; the JSON keeps it anyway
            value = orjson.dumps(received.record)
        topic, partition, offset = received.src
        await self.dead_letter(
            DeadLetter(
                stage=stage,
                error_type=error_type,
                reason=reason,
                topic=topic,
                partition=partition,
                offset=offset,
                original_key=received.message_id.encode(),
                original_value=value,
                message_id=received.message_id,
                source_ncb=received.record.get("source_ncb"),
            )
        )

    def _source_of(self, letter: DeadLetter) -> Source | None:
        """The inbound record a dead letter stands for (None: an internal input of none)."""
        inbound = self.settings.topic_inbound
        if letter.topic == inbound or attribute_ncb(letter.topic, inbound, {}) != "UNATTRIBUTED":
            return (letter.topic, letter.partition, letter.offset)
        try:  # an internal stage's record: it may know its source
            src = orjson.loads(letter.original_value or b"{}").get("src")
        except (orjson.JSONDecodeError, AttributeError):
            src = None
        return (src[0], int(src[1]), int(src[2])) if src else None
