"""Shared fixtures: a real embedded stack per session (started and stopped by pid)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from pipeline.kafka.admin import TopicSpec, ensure_topics
from pipeline.settings import Settings
from pipeline.stack.ephemeral import ephemeral_stack


def external_search() -> Settings | None:
    """An external search engine named by ``HST_TEST_SEARCH_URL`` (and ``HST_TEST_SEARCH_*``
    credentials: USERNAME, PASSWORD, API_KEY, CA_CERTS, COMPAT_HEADERS), or None."""
    if not os.environ.get("HST_TEST_SEARCH_URL"):
        return None
    return Settings(_env_prefix="HST_TEST_")  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    """Apache Kafka and OpenSearch on free ports (or the engine of ``HST_TEST_SEARCH_URL``)."""
    with ephemeral_stack("auto", search=external_search()) as settings:
        # A killed or stopped worker's partitions move after 15 s instead of 60 (fault tests).
        yield settings.model_copy(update={"broker_session_timeout": 15.0})


@pytest.fixture
def topic_settings(stack: Settings) -> Settings:
    """Settings with a fresh inbound topic (3 partitions) so tests do not see each other."""
    name = f"test.inbound.{uuid.uuid4().hex[:8]}"
    ensure_topics(stack, [TopicSpec(name, 3, 1)])
    return stack.model_copy(update={"topic_inbound": name})
