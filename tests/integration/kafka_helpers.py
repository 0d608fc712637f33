"""Reading a topic back in tests, with a real consumer."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, Message

from pipeline.settings import Settings


def consume_all(
    settings: Settings, topic: str, expected: int, timeout: float = 90.0
) -> list[Message]:
    """Read from the beginning until ``expected`` records arrived (or fail after ``timeout``)."""
    consumer = Consumer({
        **settings.kafka_client_config(),
        "group.id": f"test-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=1.0):
                if msg.error() is None:
                    out.append(msg)
    finally:
        consumer.close()
    return out
