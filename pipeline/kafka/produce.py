"""Producing one record without losing it to a full local queue."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Producer


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
