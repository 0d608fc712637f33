"""Settings come from HST_* environment variables; secrets never print."""

from __future__ import annotations

import pytest

from pipeline.settings import Settings


def test_defaults_are_the_embedded_stack() -> None:
    s = Settings()
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.search_endpoint == "http://127.0.0.1:19200"
    assert (s.topic_inbound, s.topic_dlq, s.topic_enriched, s.topic_diffusion) == (
        "hst.inbound", "hst.dlq", "hst.enriched", "hst.diffusion")  # fmt: skip
    assert s.index_alias == "hst-messages"
    assert s.partitions == 6


def test_the_default_person_model_is_the_streams_default() -> None:
    from pipeline.core.linkage import DEFAULT_MODEL, load_model

    assert Settings().person_model == DEFAULT_MODEL  # kept apart: settings import no core
    assert load_model(Settings().person_model).version == DEFAULT_MODEL


def test_environment_points_at_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HST_BOOTSTRAP_SERVERS", "k1:9093,k2:9093")
    monkeypatch.setenv("HST_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("HST_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("HST_SASL_USERNAME", "ncb-fra")
    monkeypatch.setenv("HST_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("HST_SEARCH_URL", "https://es:9200")
    s = Settings()
    conf = s.kafka_client_config()
    assert conf["bootstrap.servers"] == "k1:9093,k2:9093"
    assert conf["sasl.password"] == "s3cret"
    assert s.search_endpoint == "https://es:9200" and not s.embedded_search
    assert "s3cret" not in repr(s)


def test_to_env_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(topic_inbound="x.in", partitions=3, search_compat_headers=True,
                        sasl_password="pw", search_timeout=2.5)  # type: ignore[arg-type]  # fmt: skip
    for key, value in original.to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings() == original


def test_a_private_copy_names_every_topic_index_and_group_of_its_own() -> None:
    base = Settings()
    a, b = base.private("e2e", partitions=3), base.private("e2e")
    assert a.partitions == 3 and b.partitions == base.partitions
    topics = [
        f"topic_{t}" for t in ("inbound", "dlq", "enriched", "diffusion", "acks", "synthesis")
    ]
    for name in [*topics, "index_alias", "links_alias", "synthesis_alias", "app_id"]:
        assert getattr(a, name) != getattr(base, name) != getattr(b, name) != getattr(a, name)
        assert "e2e" in getattr(a, name)
    assert a.topic_match.startswith(a.topic_inbound)  # internal topics follow the inbound one
