"""A full local producer queue delays a record; it never drops it."""

from __future__ import annotations

from typing import Any

from pipeline.kafka.produce import produce_waiting


class FullThenFree:
    """A producer whose queue is full for its first ``full`` attempts (what librdkafka does)."""

    def __init__(self, full: int) -> None:
        self.full = full
        self.polls: list[float] = []
        self.produced: list[tuple[str, dict[str, Any]]] = []

    def produce(self, topic: str, **record: Any) -> None:
        if self.full:
            self.full -= 1
            raise BufferError
        self.produced.append((topic, record))

    def poll(self, timeout: float) -> int:
        self.polls.append(timeout)
        return 0


def test_a_full_queue_is_drained_by_serving_deliveries_then_the_record_goes() -> None:
    producer = FullThenFree(full=2)
    produce_waiting(producer, "t", wait=0.5, key=b"k", value=b"v")  # type: ignore[arg-type]
    assert producer.produced == [("t", {"key": b"k", "value": b"v"})]
    assert producer.polls == [0.5, 0.5]


def test_room_in_the_queue_means_no_wait() -> None:
    producer = FullThenFree(full=0)
    produce_waiting(producer, "t", value=b"v")  # type: ignore[arg-type]
    assert producer.produced == [("t", {"value": b"v"})] and producer.polls == []
