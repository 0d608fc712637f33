"""Read the records of one key (an NCB) from a topic keyed by NCB: inboxes and acknowledgements."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from pipeline.kafka.logread import raise_if_fatal, topic_readable
from pipeline.settings import Settings


def read_keyed(settings: Settings, topic: str, key: str | None, decode: Callable[[bytes], dict[str, Any]],
               id_field: str, *, since: dt.datetime | None = None, follow: bool = False,
               timeout: float | None = 30.0) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Decoded records under ``key`` (every key when None), each once by ``id_field``.

    ``since`` starts at the first record written at or after that time (else at the
    beginning). Without ``follow`` it stops at the end of the topic as seen when it started
    (or after ``timeout`` seconds); with ``follow`` it keeps waiting for new records, until
    ``timeout`` seconds have passed (None: for ever).
    Re-processing after a crash repeats records with the same id: they are dropped.
    """
    wanted = key.encode() if key is not None else None
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"hst-reader-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    seen: set[str] = set()
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if not topic_readable(meta, topic):
            return
        partitions = sorted(meta.partitions)
        starts = {p: 0 for p in partitions}
        if since is not None:
            ms = int(since.timestamp() * 1000)
            found = consumer.offsets_for_times(
                [TopicPartition(topic, p, ms) for p in partitions], 10
            )
            # -1: nothing at or after ``since`` in that partition: start at its end.
            starts = {tp.partition: tp.offset for tp in found}
        ends: dict[int, int] = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            start = high if starts[p] < 0 else max(starts[p], low)
            starts[p] = start
            if high > start:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in partitions])
        deadline = time.monotonic() + timeout if timeout is not None else float("inf")
        while (follow or ends) and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.5):
                if msg.error() is not None:
                    raise_if_fatal(msg)  # an authorisation failure is not "nothing there"
                    continue
                p, offset = msg.partition(), msg.offset()
                if p in ends and offset is not None and offset + 1 >= ends[p]:
                    del ends[p]
                value = msg.value()
                if (wanted is not None and msg.key() != wanted) or value is None:
                    continue
                record = decode(value)
                if record[id_field] in seen:
                    continue
                seen.add(record[id_field])
                yield record
    finally:
        consumer.close()
