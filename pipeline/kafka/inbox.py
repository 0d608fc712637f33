"""An NCB's inbox: the diffusion notices addressed to it (library API of ``hst inbox``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from pipeline.codec import DIFFUSION_NOTICE, AvroCodec
from pipeline.settings import Settings


def read_inbox(settings: Settings, ncb: str, *, follow: bool = False,
               timeout: float = 30.0) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Decoded notices for ``ncb`` (its key on the diffusion topic), each once by notice id.

    Without ``follow`` it stops at the end of the topic as seen when it started (or after
    ``timeout`` seconds); with ``follow`` it keeps waiting for new notices.
    """
    topic = settings.topic_diffusion
    codec = AvroCodec(DIFFUSION_NOTICE)
    key = ncb.upper().encode()
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"hst-inbox-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    seen: set[str] = set()
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None:
            return
        ends = {}
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
        deadline = time.monotonic() + timeout
        while follow or (ends and time.monotonic() < deadline):
            for msg in consumer.consume(500, timeout=0.5):
                if msg.error() is not None:
                    continue
                p, offset = msg.partition(), msg.offset()
                if p in ends and offset is not None and offset + 1 >= ends[p]:
                    del ends[p]
                if msg.key() != key or msg.value() is None:
                    continue
                notice = codec.decode(msg.value() or b"")
                if notice["notice_id"] in seen:  # re-processing repeats notices with the same id
                    continue
                seen.add(notice["notice_id"])
                yield notice
    finally:
        consumer.close()
