"""Every producer of the project puts a key on the partition the workers' producers would."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Producer

from pipeline.kafka.admin import TopicSpec, ensure_topics
from pipeline.settings import Settings

pytestmark = pytest.mark.integration


def test_cli_producers_and_faust_agree_on_the_partition_of_every_key(stack: Settings) -> None:
    topic = f"test.partitioning.{uuid.uuid4().hex[:8]}"
    ensure_topics(stack, [TopicSpec(topic, 6, 1)])
    keys = [str(uuid.uuid4()).encode() for _ in range(300)]
    landed: dict[bytes, int] = {}

    def delivered(err: object, msg: object) -> None:
        assert err is None, err
        landed[msg.key()] = msg.partition()  # type: ignore[attr-defined]

    producer = Producer(stack.producer_config())
    for key in keys:
        producer.produce(topic, key=key, value=b"x", on_delivery=delivered)
    assert producer.flush(30) == 0
    partitions = list(range(6))
    faust_choice = DefaultPartitioner()  # what Faust's aiokafka producer uses
    assert {k: faust_choice(k, partitions, partitions) for k in keys} == landed
    assert len(set(landed.values())) == 6  # the keys did spread: the check proves something


def test_librdkafkas_default_partitioner_would_disagree(stack: Settings) -> None:
    """Why the setting matters: without it most keys land elsewhere (the test can fail)."""
    topic = f"test.partitioning.{uuid.uuid4().hex[:8]}"
    ensure_topics(stack, [TopicSpec(topic, 6, 1)])
    keys = [str(uuid.uuid4()).encode() for _ in range(120)]
    landed: dict[bytes, int] = {}
    config = {k: v for k, v in stack.producer_config().items() if k != "partitioner"}
    producer = Producer(config)
    for key in keys:
        producer.produce(
            topic,
            key=key,
            value=b"x",
            on_delivery=lambda _e, m: landed.__setitem__(m.key(), m.partition()),
        )
    assert producer.flush(30) == 0
    partitions = list(range(6))
    agree = sum(DefaultPartitioner()(k, partitions, partitions) == p for k, p in landed.items())
    assert agree < len(keys) / 2
