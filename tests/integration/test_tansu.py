"""The no-JDK fallback stays honest: publish and consume back on tansu."""

from __future__ import annotations

import pytest

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.admin import TopicSpec, ensure_topics
from pipeline.kafka.publisher import Publisher
from pipeline.stack.ephemeral import ephemeral_stack
from tests.integration.kafka_helpers import consume_all

pytestmark = [pytest.mark.integration, pytest.mark.tansu]


def test_publish_and_consume_back_on_tansu() -> None:
    with ephemeral_stack("tansu") as settings:
        topic = "tansu.inbound"
        ensure_topics(settings, [TopicSpec(topic, 3, 1, {"retention.ms": "3600000"})])
        data = generate(GeneratorConfig(count=500, seed=3, resend_share=0))
        sent = {}
        with Publisher(settings, topic=topic) as pub:
            for obj in data.messages:
                record = pub.publish_json(obj)
                sent[record["message_id"]] = record
        got = consume_all(settings, topic, len(data.messages), timeout=60)
        codec = AvroCodec(HST_MESSAGE)
        decoded = {codec.decode(m.value())["message_id"]: codec.decode(m.value()) for m in got}
        assert len(got) == len(data.messages)
        assert decoded == sent
