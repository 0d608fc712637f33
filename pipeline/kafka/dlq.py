"""Reading the dead-letter topic (and any topic) to its current end."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from pipeline.codec import DEAD_LETTER, AvroCodec
from pipeline.kafka.logread import raise_if_fatal, topic_readable
from pipeline.settings import Settings


def read_to_end(settings: Settings, topic: str, timeout: float = 30.0) -> Iterator[Any]:
    """Every record of ``topic`` up to the high watermarks seen at the start."""
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"hst-reader-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if not topic_readable(meta, topic):
            return
        ends: dict[int, int] = {}
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        if not ends:
            return
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        deadline = time.monotonic() + timeout
        while ends and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.5):
                if msg.error() is not None:
                    raise_if_fatal(msg)  # an authorisation failure is not "nothing there"
                    continue
                yield msg
                p, offset = msg.partition(), msg.offset()
                if p in ends and offset is not None and offset + 1 >= ends[p]:
                    del ends[p]
    finally:
        consumer.close()


def read_dead_letters(settings: Settings, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Decoded dead letters, oldest first per partition."""
    codec = AvroCodec(DEAD_LETTER)
    return [codec.decode(m.value()) for m in read_to_end(settings, settings.topic_dlq, timeout)]
