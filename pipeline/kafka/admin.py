"""Topics are created up front, with explicit partitions and settings, idempotently."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from pipeline.settings import Settings
from pipeline.topology import Kind, topology

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """A topic the pipeline needs."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


# Record size limits, explicit on every topic. A gateway's record is at most 128 KiB encoded
# (core.validation.Limits); enrichment makes its document up to ~10-40 times larger, and
# notices, dead letters (bounded) and table values derive from it.
INBOUND_RECORD_BYTES = 1024 * 1024
PIPELINE_RECORD_BYTES = 8 * 1024 * 1024


def pipeline_topics(settings: Settings) -> list[TopicSpec]:
    """Every topic of the topology with its settings (retention is explicit: the data is sensitive)."""
    rf = settings.replication_factor
    base = {"retention.ms": str(30 * DAY_MS), "max.message.bytes": str(PIPELINE_RECORD_BYTES)}
    if rf > 1:
        base["min.insync.replicas"] = str(min(2, rf))
    config = {
        Kind.INBOUND: {**base, "max.message.bytes": str(INBOUND_RECORD_BYTES)},
        Kind.OUTBOUND: base,
        Kind.INTERNAL: base,
        # Kept until deleted (a tombstone per deleted document): `hst reindex` reads it.
        Kind.LOG: _compacted(base),
    }
    plan = topology(settings)
    specs = []
    for topic in plan.topics:
        topic_config = dict(config[topic.kind])
        if topic.name == settings.topic_dlq:
            topic_config["retention.ms"] = str(90 * DAY_MS)
        specs.append(TopicSpec(topic.name, topic.partitions, rf, topic_config))
    # Changelogs are created up front with the partitions of their source topics: left to
    # Faust, a worker can start before the metadata shows them (PartitionsMismatch).
    specs += [
        TopicSpec(plan.changelog(table, settings.app_id), table.partitions, rf, _compacted(base))
        for table in plan.tables
    ]
    return specs


def _compacted(base: dict[str, str]) -> dict[str, str]:
    """``base`` for a compacted topic: the latest value per key is kept, without expiry."""
    return {"cleanup.policy": "compact", **{k: v for k, v in base.items() if k != "retention.ms"}}


def changelog_tables(settings: Settings) -> list[tuple[str, int]]:
    """The worker's tables and their partition counts (those of their source topics)."""
    return [(table.name, table.partitions) for table in topology(settings).tables]


def admin_client(settings: Settings) -> AdminClient:
    """An admin client with the configured security settings."""
    return AdminClient(settings.kafka_client_config())


def ensure_topics(settings: Settings, specs: list[TopicSpec] | None = None) -> dict[str, str]:
    """Create missing topics; returns ``{name: "created" | "exists"}``. Other errors raise."""
    specs = specs if specs is not None else pipeline_topics(settings)
    admin = admin_client(settings)
    new = [NewTopic(s.name, num_partitions=s.partitions, replication_factor=s.replication_factor,
                    config=s.config) for s in specs]  # fmt: skip
    result: dict[str, str] = {}
    for name, future in admin.create_topics(new, operation_timeout=30, request_timeout=30).items():
        try:
            future.result()
            result[name] = "created"
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                result[name] = "exists"
            else:
                raise
    return result


def consumed_topics(settings: Settings) -> list[str]:
    """The topics the workers consume, in stage order."""
    return [t.name for t in topology(settings).topics if t.reader is not None]


def _group_consumer(settings: Settings, group: str) -> Consumer:
    """A consumer of ``group`` that only reads offsets (it never joins nor commits)."""
    return Consumer(
        {**settings.kafka_client_config(), "group.id": group, "enable.auto.commit": False}
    )


# The group coordinator moving or loading its offsets (a broker just started, a partition of
# __consumer_offsets changing leader): asked again, it answers.
_COORDINATOR_BUSY = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}


def _committed(
    consumer: Consumer, topic: str, attempts: int = 8, backoff: float = 0.5
) -> list[TopicPartition] | None:
    """The group's committed offset of every partition of ``topic`` (None: no such topic).

    A busy coordinator is asked again, waiting ``backoff`` seconds, doubled each time.
    """
    meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if meta is None or meta.error is not None:
        return None
    partitions = [TopicPartition(topic, p) for p in meta.partitions]
    for attempt in range(attempts):
        try:
            return list(consumer.committed(partitions, timeout=10))
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            busy = isinstance(error, KafkaError) and error.code() in _COORDINATOR_BUSY
            if not busy or attempt == attempts - 1:
                raise
            time.sleep(min(backoff * 2**attempt, 5.0))
    return None  # not reached: the last attempt returns or raises


def committed_offsets(settings: Settings, group: str, topics: list[str]) -> dict[str, int]:
    """``topic/partition`` -> the group's committed offset (negative when none yet)."""
    consumer = _group_consumer(settings, group)
    try:
        return {f"{tp.topic}/{tp.partition}": tp.offset
                for topic in topics for tp in _committed(consumer, topic) or []}  # fmt: skip
    finally:
        consumer.close()


def wait_drained(settings: Settings, group: str, topics: list[str], *, quiet_checks: int = 3,
                 timeout: float = 600.0, poll: float = 2.0) -> None:  # fmt: skip
    """Wait until the group's lag is zero on every topic, ``quiet_checks`` readings in a row."""
    deadline = time.monotonic() + timeout
    quiet = 0
    last: dict[str, int] = {}
    while True:
        last = consumer_lag(settings, group, topics)
        quiet = quiet + 1 if last and not any(last.values()) else 0
        if quiet >= quiet_checks:
            return
        if time.monotonic() > deadline:
            msg = f"consumer group {group} still has lag after {timeout:.0f} s: {last}"
            raise TimeoutError(msg)
        time.sleep(poll)


def consumer_lag(settings: Settings, group: str, topics: list[str]) -> dict[str, int]:
    """Per-topic lag of a consumer group (high watermark minus committed offset)."""
    consumer = _group_consumer(settings, group)
    lag: dict[str, int] = {}
    try:
        for topic in topics:
            committed = _committed(consumer, topic)
            if committed is None:
                continue
            total = 0
            for tp in committed:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, tp.partition), timeout=10
                )
                total += high - (tp.offset if tp.offset >= 0 else low)
            lag[topic] = total
    finally:
        consumer.close()
    return lag
