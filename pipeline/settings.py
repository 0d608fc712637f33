"""All configuration, from the environment (prefix ``HST_``); the embedded stack is the default.

Point the pipeline at real services by environment only, e.g.::

    HST_BOOTSTRAP_SERVERS=kafka-1:9093,kafka-2:9093 HST_SECURITY_PROTOCOL=SASL_SSL \
    HST_SASL_MECHANISM=SCRAM-SHA-512 HST_SASL_USERNAME=ncb-fra HST_SASL_PASSWORD=... \
    HST_SSL_CA_LOCATION=/etc/hst/ca.pem HST_SCHEMA_REGISTRY_URL=https://registry:8081 \
    HST_SEARCH_URL=https://es:9200 HST_SEARCH_API_KEY=... hst worker
"""

from __future__ import annotations

import logging
import uuid
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Ports of the embedded stack: away from Kafka's 9092 and Elasticsearch's 9200.
BrokerKind = Literal["auto", "kafka", "tansu"]
SearchEngineKind = Literal["auto", "opensearch", "osmem"]
DEFAULT_KAFKA_PORT = 19092
DEFAULT_SEARCH_PORT = 19200
DEFAULT_SEARCH_TRANSPORT_PORT = 19300


KAFKA_CLIENT_LOGGER = "hst.kafka"


class Settings(BaseSettings):
    """Every setting of the pipeline; each field is read from ``HST_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="HST_", env_file=None, extra="ignore")

    # Embedded stack.
    data_dir: Path = Field(
        Path(".hst"), description="Where the embedded stack keeps pids, logs, data."
    )
    broker: BrokerKind = Field(
        "auto", description="Embedded broker: Apache Kafka when a JDK is found, else tansu."
    )
    kafka_version: str = Field(
        "3.9.1", description="Apache Kafka version fetched from Maven Central."
    )
    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_controller_port: int = DEFAULT_KAFKA_PORT + 1
    kafka_heap: str = "512m"
    search_engine: SearchEngineKind = Field(
        "auto",
        description="Embedded search engine: OpenSearch when a JDK 17+ is found; osmem (in memory, "
        "extra `nojdk`) only when asked or when there is no JDK.",
    )
    opensearch_version: str = Field(
        "2.19.6", description="OpenSearch version fetched from Maven Central (3.x needs Java 21+)."
    )
    search_heap: str = Field("512m", description="Heap of the embedded OpenSearch (512m-1g).")
    search_port: int = DEFAULT_SEARCH_PORT
    search_transport_port: int = Field(
        DEFAULT_SEARCH_TRANSPORT_PORT, description="Node-to-node port of the embedded OpenSearch."
    )

    # Kafka clients.
    bootstrap_servers: str | None = Field(
        None, description="Kafka bootstrap servers; default: the embedded broker."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    ssl_certificate_location: Path | None = None
    ssl_key_location: Path | None = None
    ssl_key_password: SecretStr | None = None
    client_id: str = "hst-pipeline"
    app_id: str = Field(
        "hst-pipeline", description="Faust application id (consumer group, changelogs)."
    )

    # Schema registry (Confluent wire format when set; single-object encoding otherwise).
    schema_registry_url: str | None = None
    schema_registry_username: str | None = None
    schema_registry_password: SecretStr | None = None

    # Search.
    search_url: str | None = Field(None, description="Elasticsearch URL; default: embedded server.")
    search_username: str | None = None
    search_password: SecretStr | None = None
    search_api_key: SecretStr | None = None
    search_ca_certs: Path | None = None
    search_compat_headers: bool | None = Field(
        None,
        description="Talk to an OpenSearch server with the Elasticsearch client: rewrite its "
        "compatibility media types to application/json and accept answers without the "
        "Elasticsearch product header (default: on for the embedded engine only).",
    )
    search_timeout: float = Field(
        30.0, gt=0, description="Seconds before a search request times out (then retried)."
    )
    search_write_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds the worker waits for a bulk write before sending it again (a "
        "re-send makes the engine do the work twice: keep it well above the slowest bulk "
        "answer, under a second on OpenSearch with the worker's batches).",
    )
    kibana_url: str = Field(
        "http://127.0.0.1:5601", description="Kibana URL for `hst kibana import`."
    )
    kibana_username: str | None = Field(None, description="Kibana user; default: the search user.")
    kibana_password: SecretStr | None = None
    kibana_api_key: SecretStr | None = None
    kibana_ca_certs: Path | None = Field(
        None, description="CA of Kibana's TLS; default: the search CA."
    )
    index_alias: str = "hst-messages"
    audit_alias: str = Field("hst-audit", description="Alias of the audit log of analyst searches.")
    analyst: str | None = Field(
        None,
        description=(
            "Who `hst search` says it is, recorded in the audit log as a claim beside the user"
            " the search engine authenticated (alone only on an engine without security);"
            " default: the OS user."
        ),
    )
    links_alias: str = "hst-links"
    synthesis_alias: str = Field(
        "hst-synthesis", description="Alias of the aggregates and alerts index."
    )
    synthesis_retention_days: int = Field(
        730,
        ge=7,
        description="Windows older than this, counted back from a series' newest, are dropped.",
    )
    web_bind: str = Field(
        "127.0.0.1",
        description="Address of the worker's /health, /ready and /metrics endpoint (0.0.0.0 in a container).",
    )
    acks_enabled: bool = Field(
        True, description="Publish acknowledgements to the sending gateways (hst.acks)."
    )
    synthesis_granularities: str = Field(
        "week",
        pattern=r"^(day|week)(,(day|week))?$",
        description="Windows the stream aggregates, comma-separated: week (trend alerts need "
        "it) and/or day. Daily counts of any selection come from the message index itself "
        "(a date histogram in Kibana); day cells cost the stream as much again.",
    )
    synthesis_enabled: bool = Field(
        True, description="Run the synthesis agents (aggregates and trend alerts)."
    )
    index_first_backlog: int = Field(
        1000,
        ge=0,
        description="Unread records on a worker's indexing path (inbound, content, lineage) above "
        "which its cross-matching, diffusion and synthesis pause (index first); 0 disables it.",
    )
    watchlist_dir: Path | None = Field(
        None, description="Directory of watch lists (*.csv, *.json), reloaded when they change."
    )
    person_model: str = Field(
        "person-hst-v1",
        description="Person-matching model: a model shipped in pipeline/core/models "
        "(person-hst-v1, person-febrl-v1) or the path of a model file fitted on your own "
        "labelled reports (README: person matching).",
    )

    # Topics.
    topic_inbound: str = "hst.inbound"
    topic_dlq: str = "hst.dlq"
    topic_enriched: str = "hst.enriched"
    topic_diffusion: str = "hst.diffusion"
    topic_synthesis: str = Field(
        "hst.synthesis", description="Aggregate cells and trend alerts, keyed by series."
    )
    topic_acks: str = Field(
        "hst.acks", description="Acknowledgements to the sending gateways, keyed by source NCB."
    )
    ncbs: str = Field(
        "",
        description="NCBs with their own topics, comma-separated (e.g. FRA,ITA): each publishes to "
        "<inbound>.<NCB> (source binding: ACLs let it write only there) and reads <diffusion>.<NCB> "
        "and <acks>.<NCB>.",
    )
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    broker_session_timeout: float = Field(
        60.0, ge=6, le=90,
        description="Seconds without a heartbeat before the group gives a worker's partitions to "
        "the others (a killed worker; a stopped one too: Faust does not leave the group). At most "
        "90 (Faust's request timeout).",
    )  # fmt: skip

    # Gateway rules.
    max_narrative_chars: int = Field(20_000, ge=1)

    @property
    def topic_content(self) -> str:
        """Internal repartition topic keyed by content hash."""
        return f"{self.topic_inbound}.content"

    @property
    def topic_lineage(self) -> str:
        """Internal repartition topic keyed by the message_id an input concerns."""
        return f"{self.topic_inbound}.lineage"

    @property
    def topic_match(self) -> str:
        """Internal repartition topic keyed by identifier or name blocking key."""
        return f"{self.topic_inbound}.match"

    @property
    def topic_links(self) -> str:
        """Internal topic of new links (one partition: networks need one view)."""
        return f"{self.topic_inbound}.links"

    @property
    def topic_notify(self) -> str:
        """Internal topic of diffusion requests keyed by the message they concern."""
        return f"{self.topic_inbound}.notify"

    @property
    def topic_facts(self) -> str:
        """Internal topic of withdrawn messages for the synthesis (keyed by message_id)."""
        return f"{self.topic_inbound}.facts"

    @property
    def topic_cells(self) -> str:
        """Internal repartition topic of contributions, keyed by series."""
        return f"{self.topic_inbound}.cells"

    @property
    def ncb_list(self) -> list[str]:
        """The NCBs with their own topics (``HST_NCBS``), upper-case, in order."""
        return [n.strip().upper() for n in self.ncbs.split(",") if n.strip()]

    def _own(self, topic: str, ncb: str) -> str:
        return f"{topic}.{ncb}" if ncb in self.ncb_list else topic

    def inbound_topic_of(self, ncb: str) -> str:
        """The inbound topic an NCB publishes to: its own when it has one."""
        return self._own(self.topic_inbound, ncb)

    def diffusion_topic_of(self, ncb: str) -> str:
        """Where the notices of a recipient go: its own topic when it has one."""
        return self._own(self.topic_diffusion, ncb)

    def acks_topic_of(self, ncb: str) -> str:
        """Where the acknowledgements of an NCB go: its own topic when it has one."""
        return self._own(self.topic_acks, ncb)

    @property
    def kafka_bootstrap(self) -> str:
        """Bootstrap servers, defaulting to the embedded broker."""
        return self.bootstrap_servers or f"127.0.0.1:{self.kafka_port}"

    @property
    def search_endpoint(self) -> str:
        """Search URL, defaulting to the embedded server."""
        return self.search_url or f"http://127.0.0.1:{self.search_port}"

    @property
    def embedded_search(self) -> bool:
        """True when the search URL is the embedded server's."""
        return self.search_url is None

    def private(self, prefix: str, **update: Any) -> Settings:
        """A copy whose topics, indices and consumer group are this run's own.

        For a test or a benchmark beside others on one stack: ``<prefix>.<uid>.inbound``...,
        ``hst-<prefix>-<uid>`` (and ``hst-links-``, ``hst-synthesis-``); ``update`` adds
        or overrides settings. Creating the topics and indices is the caller's.
        """
        uid = uuid.uuid4().hex[:8]
        topics = ("inbound", "dlq", "enriched", "diffusion", "acks", "synthesis")
        named: dict[str, Any] = {f"topic_{t}": f"{prefix}.{uid}.{t}" for t in topics}
        named |= {
            "index_alias": f"hst-{prefix}-{uid}",
            "links_alias": f"hst-links-{prefix}-{uid}",
            "synthesis_alias": f"hst-synthesis-{prefix}-{uid}",
            "app_id": f"hst-{prefix}-{uid}",
        }
        return self.model_copy(update=named | update)

    def to_env(self) -> dict[str, str]:
        """These settings as ``HST_*`` variables, for a child process (a worker) to read."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"HST_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
        return env

    def kafka_client_config(self) -> dict[str, Any]:
        """Librdkafka settings shared by every producer, consumer and admin client."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.kafka_bootstrap,
            "client.id": self.client_id,
            "security.protocol": self.security_protocol,
            # librdkafka's own log lines go to Python logging, not raw to stderr: a retry it
            # recovers from ("Coordinator load in progress: retrying") is not a user's concern.
            "logger": logging.getLogger(KAFKA_CLIENT_LOGGER),
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location:
            conf["ssl.ca.location"] = str(self.ssl_ca_location)
        if self.ssl_certificate_location:
            conf["ssl.certificate.location"] = str(self.ssl_certificate_location)
        if self.ssl_key_location:
            conf["ssl.key.location"] = str(self.ssl_key_location)
        if self.ssl_key_password:
            conf["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return conf

    def producer_config(self) -> dict[str, Any]:
        """Librdkafka settings of every producer of the project (durable, idempotent).

        Keys are partitioned as the workers' aiokafka producers do (Java's murmur2):
        librdkafka's default partitioner (CRC32) would put a record written by the CLI
        (retention, dead-letter replay) on another partition than the state of its key.
        """
        return {
            **self.kafka_client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
        }

    def schema_registry_config(self) -> dict[str, Any] | None:
        """Schema Registry client settings, or None when no registry is configured."""
        if not self.schema_registry_url:
            return None
        conf: dict[str, Any] = {"url": self.schema_registry_url}
        if self.schema_registry_username and self.schema_registry_password:
            secret = self.schema_registry_password.get_secret_value()
            conf["basic.auth.user.info"] = f"{self.schema_registry_username}:{secret}"
        return conf


@cache
def get_settings() -> Settings:
    """Settings read once from the environment."""
    return Settings()
