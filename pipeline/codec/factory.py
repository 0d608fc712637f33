"""The message codec a deployment uses: Confluent framing when a schema registry is configured."""

from __future__ import annotations

from pipeline.codec import HST_MESSAGE
from pipeline.codec.codec import AvroCodec
from pipeline.settings import Settings


def make_codec(settings: Settings, subject: str = HST_MESSAGE) -> AvroCodec:
    """The codec for a subject, registered under the inbound topic's value subject."""
    registry_conf = settings.schema_registry_config()
    registry = None
    if registry_conf is not None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        registry = SchemaRegistryClient.new_client(registry_conf)
    return AvroCodec(subject, registry=registry, registry_subject=f"{settings.topic_inbound}-value")
