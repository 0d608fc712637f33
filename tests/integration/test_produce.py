"""The checked producer against the real broker: a full queue delays, a refusal is named."""

from __future__ import annotations

import pytest

from pipeline.kafka.produce import CheckedProducer, UndeliveredError
from pipeline.settings import Settings
from tests.integration.kafka_helpers import consume_all

pytestmark = pytest.mark.integration


def test_a_batch_larger_than_the_local_queue_is_delivered_whole(topic_settings: Settings) -> None:
    # A queue of 50 records, 2,000 sent: produce() meets a full queue and waits for room.
    config = {**topic_settings.producer_config(), "queue.buffering.max.messages": 50}
    producer = CheckedProducer(config, what="withdrawal")
    for i in range(2_000):
        producer.send(topic_settings.topic_inbound, key=f"m-{i}".encode(), value=b"x")
    assert producer.flush(60) == 2_000
    records = consume_all(topic_settings, topic_settings.topic_inbound, 2_000)
    assert sorted(int(r.key()[2:]) for r in records) == list(range(2_000))


def test_a_record_the_broker_does_not_take_is_named_at_flush(topic_settings: Settings) -> None:
    config = {**topic_settings.producer_config(), "message.timeout.ms": 3000}
    producer = CheckedProducer(config, what="notice")
    producer.send(topic_settings.topic_inbound, key=b"kept", value=b"x")
    producer.send("no.such.topic", key=b"ITA", value=b"x")
    with pytest.raises(
        UndeliveredError, match=r"1 of 2 notice\(s\) not delivered: ITA to no\.such"
    ):
        producer.flush(30)
