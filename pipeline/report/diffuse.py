"""Bulletins diffused to their recipient as ``SYNTHESIS`` notices on the diffusion topic."""

from __future__ import annotations

from typing import Any

from pipeline.codec import DIFFUSION_NOTICE, AvroCodec
from pipeline.errors import HstError
from pipeline.kafka.produce import CheckedProducer, UndeliveredError
from pipeline.settings import Settings


class DiffusionError(HstError, RuntimeError):
    """A notice the broker did not acknowledge."""


def publish_notices(
    settings: Settings, notices: list[dict[str, Any]], timeout: float = 60.0
) -> None:
    """Publish notices keyed by recipient; raise unless the broker acknowledged every one."""
    codec = AvroCodec(DIFFUSION_NOTICE)
    producer = CheckedProducer(settings.producer_config(), what="notice")
    for n in notices:
        producer.send(settings.diffusion_topic_of(n["recipient"]), key=n["recipient"].encode(),
                      value=codec.encode(n))  # fmt: skip
    try:
        producer.flush(timeout)
    except UndeliveredError as e:
        raise DiffusionError(str(e)) from e
