"""Read topics between two positions (no consumer group): what ``hst reindex`` replays."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from pipeline.errors import HstError
from pipeline.settings import Settings

# (topic, partition) -> offset
Positions = dict[tuple[str, int], int]


class LogReadError(HstError, RuntimeError):
    """A topic could not be read (missing, not authorised, broker unreachable)."""


# Consumer errors that no wait cures: the reader must stop and say so, not return less.
_FATAL: frozenset[Any] = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
    }
)


def topic_readable(meta: Any, topic: str) -> bool:
    """False for a topic that does not exist (nothing to read); raise when it may not be read."""
    if meta is None:
        return False
    if meta.error is None:
        return True
    if meta.error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
        return False
    text = f"reading {topic}: {meta.error.str()}"
    raise LogReadError(text)


def raise_if_fatal(msg: Message) -> None:
    """Raise ``LogReadError`` for a consumer error no retry cures; the others are transient."""
    error = msg.error()
    if error is not None and (error.fatal() or error.code() in _FATAL):
        text = f"reading {msg.topic() or 'the topic'}: {error.str()}"
        raise LogReadError(text)


def _consumer(settings: Settings) -> Consumer:
    return Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": f"hst-logread-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )


def end_offsets(
    settings: Settings, topics: list[str], timeout: float = 10.0, *, missing_ok: bool = False
) -> Positions:
    """The current end (high watermark) of every partition of ``topics``.

    A topic that does not exist raises ``LogReadError``, or has no partitions with
    ``missing_ok``; one that may not be read always raises.
    """
    consumer = _consumer(settings)
    try:
        out: Positions = {}
        for topic in topics:
            meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
            if not topic_readable(meta, topic):
                if missing_ok:
                    continue
                msg = f"topic {topic} cannot be read: not found"
                raise LogReadError(msg)
            for p in sorted(meta.partitions):
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=timeout
                )
                out[(topic, p)] = int(high)
        return out
    except KafkaException as exc:
        msg = f"reading the end of {', '.join(topics)} failed: {exc}"
        raise LogReadError(msg) from exc
    finally:
        consumer.close()


def read_between(
    settings: Settings, start: Positions, end: Positions, *, stall_timeout: float = 60.0
) -> Iterator[Message]:
    """Every record at or after ``start`` and before ``end`` (start 0 when absent).

    Records of one partition come in offset order. Compacted topics have gaps: a partition is
    done when the consumer's position reaches its end, not when an offset equals it. Raises
    ``LogReadError`` on a fatal consumer error or when nothing arrives for ``stall_timeout``.
    """
    todo = {tp: off for tp, off in end.items() if off > start.get(tp, 0)}
    if not todo:
        return
    consumer = _consumer(settings)
    try:
        consumer.assign([TopicPartition(t, p, start.get((t, p), 0)) for (t, p) in todo])
        last_progress = time.monotonic()
        while todo:
            batch = consumer.consume(1000, timeout=0.5)
            for msg in batch:
                if msg.error() is not None:
                    raise_if_fatal(msg)
                    continue
                key = (str(msg.topic()), int(msg.partition() or 0))
                offset = msg.offset()
                if key in todo and offset is not None and offset < todo[key]:
                    yield msg
            if batch:
                last_progress = time.monotonic()
            for tp in consumer.position([TopicPartition(t, p) for (t, p) in list(todo)]):
                if tp.offset >= 0 and tp.offset >= todo[(tp.topic, tp.partition)]:
                    del todo[(tp.topic, tp.partition)]
            if todo and time.monotonic() - last_progress > stall_timeout:
                msg_ = (
                    f"no record for {stall_timeout:.0f}s while {len(todo)} partition(s) are unread"
                )
                raise LogReadError(msg_)
    finally:
        consumer.close()
