"""The NCB gateway's publisher: validated HST messages to the inbound topic, never silently.

``Publisher`` wraps an idempotent confluent-kafka producer (``enable.idempotence``,
``acks=all``) keyed by ``message_id``. Every delivery report is collected; leaving the
context manager flushes and raises ``DeliveryError`` if any record was not delivered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from pipeline.codec import AvroCodec
from pipeline.codec.factory import make_codec
from pipeline.core.validation import Limits, MessageValidator, ValidationError, size_error
from pipeline.errors import HstError
from pipeline.kafka.produce import produce_waiting
from pipeline.settings import Settings

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The wall clock, aware UTC."""
    return dt.datetime.now(tz=dt.UTC)


@dataclass(frozen=True)
class DeliveryFailure:
    """A record the broker did not accept."""

    message_id: str
    error: str


class DeliveryError(HstError, RuntimeError):
    """Some records were not delivered; ``failures`` says which and why."""

    def __init__(self, failures: list[DeliveryFailure]) -> None:
        self.failures = failures
        first = "; ".join(f"{f.message_id}: {f.error}" for f in failures[:3])
        super().__init__(f"{len(failures)} record(s) not delivered: {first}")


@dataclass
class DeliveryStats:
    """Counts from delivery reports."""

    sent: int = 0
    delivered: int = 0
    failures: list[DeliveryFailure] = field(default_factory=list)


class Publisher:
    """Publishes HST messages for one gateway. Use as a context manager."""

    def __init__(
        self,
        settings: Settings,
        *,
        topic: str | None = None,
        codec: AvroCodec | None = None,
        producer_config: dict[str, Any] | None = None,
        clock: Clock = utc_now,
        on_delivery: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self.settings = settings
        self.topic = topic  # None: the inbound topic of each record's source NCB
        self.codec = codec or make_codec(settings)
        self.validator = MessageValidator(
            self.codec.writer.raw, Limits(max_narrative_chars=settings.max_narrative_chars)
        )
        self.clock = clock
        self.stats = DeliveryStats()
        self._on_delivery = on_delivery
        # Coordinates of every delivered record -> message id: what acknowledgements refer to.
        self.delivered: dict[tuple[str, int, int], str] = {}
        self.sources: set[str] = set()  # source NCBs published as
        self._first_publish: dt.datetime | None = None
        self._producer = Producer(
            {
                **settings.producer_config(),
                "linger.ms": 10,
                "batch.num.messages": 10_000,
                "compression.type": "lz4",
                "delivery.timeout.ms": 120_000,
                **(producer_config or {}),
            }
        )

    def validate(self, obj: Any, *, ncb: str | None = None) -> dict[str, Any]:
        """Check a JSON object against the schema and rules; raises ``ValidationError``."""
        return self.validator.validate(obj, now=self.clock(), expected_ncb=ncb)

    def publish_json(self, obj: Any, *, ncb: str | None = None) -> dict[str, Any]:
        """Validate then publish; returns the record sent."""
        record = self.validate(obj, ncb=ncb)
        self.publish(record)
        return record

    def publish(self, record: dict[str, Any]) -> None:
        """Encode and queue one valid record; delivery is reported asynchronously.

        Raises ``ValidationError`` when the encoded record exceeds the size limit.
        """
        value = self.codec.encode(record)
        message_id = str(record["message_id"])
        too_large = size_error(len(value), self.validator.limits)
        if too_large is not None:
            raise ValidationError([too_large], message_id)
        if self._first_publish is None:
            self._first_publish = self.clock()
        headers: list[tuple[str, str | bytes | None]] = [
            ("hst-source-ncb", str(record["source_ncb"]).encode()),
            ("hst-schema", f"{self.codec.subject}/v{self.codec.writer.version}".encode()),
        ]
        produce_waiting(
            self._producer,
            self.topic or self.settings.inbound_topic_of(str(record["source_ncb"])),
            value=value, key=message_id.encode(), headers=headers, on_delivery=self._report,
        )  # fmt: skip
        self.stats.sent += 1
        self.sources.add(str(record["source_ncb"]))
        self._producer.poll(0)

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        key = msg.key()
        message_id = key.decode() if isinstance(key, bytes) else "?"
        if err is None:
            self.stats.delivered += 1
            reason = None
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            if topic is not None and partition is not None and offset is not None:
                self.delivered[(topic, partition, offset)] = message_id
        else:
            reason = f"{err.name()}: {err.str()}"
            self.stats.failures.append(DeliveryFailure(message_id, reason))
        if self._on_delivery is not None:
            self._on_delivery(message_id, reason)

    def flush(self, timeout: float = 60.0) -> DeliveryStats:
        """Wait for every delivery report; raise ``DeliveryError`` on any failure or timeout."""
        remaining = self._producer.flush(timeout)
        if remaining:
            self.stats.failures.append(
                DeliveryFailure("*", f"{remaining} record(s) still queued after {timeout:.0f}s")
            )
        if self.stats.failures:
            raise DeliveryError(self.stats.failures)
        return self.stats

    def wait_for_acks(self, timeout: float = 60.0) -> dict[str, dict[str, Any]]:
        """Flush, then wait for the terminal acknowledgement of every record delivered so far.

        Returns them by message id (PROCESSED, DUPLICATE, REJECTED with stage and field
        errors, WITHDRAWN): what to correct and re-send. Raises ``AcksTimeoutError``, which
        carries the acknowledgements that did arrive, after ``timeout`` seconds.
        """
        from pipeline.kafka.acks import wait_for_terminal

        self.flush()
        since = self._first_publish or self.clock()
        # A gateway publishing as one NCB reads only that NCB's acknowledgements.
        ncb = next(iter(self.sources)) if len(self.sources) == 1 else None
        return wait_for_terminal(
            self.settings, self.delivered, since=since, timeout=timeout, ncb=ncb
        )

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.flush()
        else:
            self._producer.flush(10)  # best effort; the original exception propagates
