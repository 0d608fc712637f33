"""Producing records without losing one silently: to a full local queue or to the broker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from pipeline.errors import HstError


def produce_waiting(producer: Producer, topic: str, *, wait: float = 0.05, **record: Any) -> None:
    """``producer.produce(topic, **record)``, waiting for room while the local queue is full.

    librdkafka raises ``BufferError`` instead of blocking when its queue is full; serving
    delivery reports (``poll``) drains it, then the record is queued again.
    """
    while True:
        try:
            producer.produce(topic, **record)
            return
        except BufferError:
            producer.poll(wait)


class UndeliveredError(HstError, RuntimeError):
    """Records the broker did not acknowledge; the message names them and why."""


class CheckedProducer:
    """A producer for commands that send a batch and must not report success over a loss.

    ``send`` queues a record, waiting for room when the local queue is full; every delivery
    report is kept; ``flush`` waits for them all and raises ``UndeliveredError`` naming the
    records refused or still queued. (The gateway's ``Publisher`` keeps richer reports:
    where each record landed, for acknowledgements.)
    """

    def __init__(
        self, config: Mapping[str, Any], *, what: str = "record", wait: float = 0.05
    ) -> None:
        self._producer = Producer(dict(config))
        self._what = what
        self._wait = wait
        self.sent = 0
        self.failures: list[str] = []

    def send(
        self, topic: str, *, value: bytes | None, key: bytes | None = None, **extra: Any
    ) -> None:
        """Queue one record (``extra``: ``partition``, ``headers``)."""
        produce_waiting(self._producer, topic, wait=self._wait, key=key, value=value,
                        on_delivery=self._delivered, **extra)  # fmt: skip
        self.sent += 1
        self._producer.poll(0)

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            key = msg.key()
            name = key.decode(errors="replace") if isinstance(key, bytes) else "(no key)"
            self.failures.append(f"{name} to {msg.topic()}: {err.str()}")

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for every delivery report; the count delivered, or ``UndeliveredError``."""
        left = self._producer.flush(timeout)
        if left or self.failures:
            lost = left + len(self.failures)
            reasons = "; ".join(self.failures[:3])
            if left:
                reasons += f"{'; ' if reasons else ''}{left} still queued after {timeout:.0f}s"
            msg = f"{lost} of {self.sent} {self._what}(s) not delivered: {reasons}"
            raise UndeliveredError(msg)
        return self.sent
