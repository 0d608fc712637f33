"""The worker's Faust app, configured from the settings (safe client defaults, TLS and SASL)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import faust

from pipeline.kafka.admin import PIPELINE_RECORD_BYTES
from pipeline.settings import Settings


def faust_broker_urls(settings: Settings) -> list[str]:
    """Faust broker URLs from the bootstrap list."""
    return [f"kafka://{hp.strip()}" for hp in settings.kafka_bootstrap.split(",") if hp.strip()]


def broker_credentials(settings: Settings) -> Any:
    """SASL/TLS credentials for aiokafka, or None for PLAINTEXT."""
    if settings.security_protocol == "PLAINTEXT":
        return None
    ssl_context = None
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        ssl_context = ssl.create_default_context(
            cafile=str(settings.ssl_ca_location) if settings.ssl_ca_location else None
        )
        if settings.ssl_certificate_location and settings.ssl_key_location:
            password = settings.ssl_key_password
            ssl_context.load_cert_chain(
                str(settings.ssl_certificate_location),
                str(settings.ssl_key_location),
                password.get_secret_value() if password else None,
            )
    if settings.security_protocol.startswith("SASL_") and not (
        settings.sasl_mechanism and settings.sasl_username and settings.sasl_password
    ):  # never fall back silently to TLS only or to no authentication
        msg = (
            f"{settings.security_protocol} needs HST_SASL_MECHANISM, HST_SASL_USERNAME "
            "and HST_SASL_PASSWORD"
        )
        raise ValueError(msg)
    if settings.sasl_mechanism and settings.sasl_username and settings.sasl_password:
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    return faust.SSLCredentials(ssl_context) if ssl_context else None


def make_app(settings: Settings, datadir: Path, web_port: int) -> faust.App:
    """The Faust app with the worker's settings (safe producer and consumer defaults)."""
    return faust.App(
        settings.app_id,
        broker=faust_broker_urls(settings),
        broker_credentials=broker_credentials(settings),
        store="rocksdb://",
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        broker_session_timeout=settings.broker_session_timeout,
        web_enabled=True,
        web_bind=settings.web_bind,
        web_port=web_port,
        web_host=settings.web_bind,
        table_standby_replicas=0,
        # Finish the events in flight before giving partitions up: otherwise an agent goes on
        # writing a table partition (its changelog) that the next owner has already
        # recovered. Faust's wait can hang on a record read by two agents (faust #402, #133):
        # every topic here has one reading agent.
        stream_wait_empty=True,
        # Batch forwarded records: one produce request per record costs both ends more CPU.
        producer_linger=0.01,
        producer_max_batch_size=256 * 1024,
        # An enriched document may be several MB (hundreds of persons): every pipeline topic
        # takes PIPELINE_RECORD_BYTES, and so must one request.
        producer_max_request_size=PIPELINE_RECORD_BYTES + 64 * 1024,
        # Under index first, derived stages may wait minutes while a backlog is indexed: the
        # 300 s default reports those partitions as hung streams.
        stream_processing_timeout=900,
    )
