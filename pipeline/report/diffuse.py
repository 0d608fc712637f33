"""Bulletins diffused to their recipient as ``SYNTHESIS`` notices on the diffusion topic."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from pipeline.codec import DIFFUSION_NOTICE, AvroCodec
from pipeline.errors import HstError
from pipeline.settings import Settings


class DiffusionError(HstError, RuntimeError):
    """A notice the broker did not acknowledge."""


def publish_notices(
    settings: Settings, notices: list[dict[str, Any]], timeout: float = 60.0
) -> None:
    """Publish notices keyed by recipient; raise unless the broker acknowledged every one."""
    codec = AvroCodec(DIFFUSION_NOTICE)
    producer = Producer(settings.producer_config())
    failures: list[str] = []

    def delivered(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures.append(f"{msg.key()!r}: {err}")

    for n in notices:
        producer.produce(settings.diffusion_topic_of(n["recipient"]), key=n["recipient"].encode(),
                         value=codec.encode(n), on_delivery=delivered)  # fmt: skip
    left = producer.flush(timeout)
    if left or failures:
        msg = f"{left} notice(s) not delivered in {timeout:.0f}s; failures: {failures or 'none'}"
        raise DiffusionError(msg)
