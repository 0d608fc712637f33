"""Reading a group's committed offsets through a coordinator that is moving."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from pipeline.kafka.admin import _committed


class BusyCoordinator:
    """A consumer whose ``committed`` fails with ``error`` for its first ``busy`` calls."""

    def __init__(self, busy: int, error: int = KafkaError.NOT_COORDINATOR) -> None:
        self.busy, self.error, self.calls = busy, error, 0

    def list_topics(self, topic: str, timeout: float) -> Any:
        meta = SimpleNamespace(error=None, partitions={0: None, 1: None})
        return SimpleNamespace(topics={topic: meta})

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        self.calls += 1
        if self.calls <= self.busy:
            raise KafkaException(KafkaError(self.error))
        return [TopicPartition(tp.topic, tp.partition, 7) for tp in partitions]


def test_a_busy_coordinator_is_asked_again() -> None:
    consumer = BusyCoordinator(busy=2)
    found = _committed(consumer, "t", backoff=0.001)  # type: ignore[arg-type]
    assert [(tp.partition, tp.offset) for tp in found or []] == [(0, 7), (1, 7)]
    assert consumer.calls == 3


def test_other_errors_and_a_coordinator_busy_too_long_are_raised() -> None:
    with pytest.raises(KafkaException):
        _committed(BusyCoordinator(busy=1, error=KafkaError.GROUP_AUTHORIZATION_FAILED), "t")  # type: ignore[arg-type]
    consumer = BusyCoordinator(busy=5)
    with pytest.raises(KafkaException):
        _committed(consumer, "t", attempts=3, backoff=0.001)  # type: ignore[arg-type]
    assert consumer.calls == 3
