"""Security on the embedded Apache Kafka: SASL_SSL with SCRAM users, a private CA, ACLs.

A second broker, secured, is started for this module (KRaft ``StandardAuthorizer``,
``allow.everyone.if.no.acl.found=false``); users and ACLs are created through the admin
API as the super user. tansu cannot do any of this (no SCRAM users, TLS or ACLs).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.acks import read_acks
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.inbox import read_inbox
from pipeline.kafka.logread import LogReadError
from pipeline.kafka.publisher import Publisher
from pipeline.kafka.security import ncb_principal
from pipeline.search.client import sync_client
from pipeline.search.index import ensure_index, ensure_links_index, ensure_synthesis_index
from pipeline.settings import Settings
from pipeline.stack.certs import create_ca, issue
from pipeline.stack.servers import KafkaSecurity, KafkaServer, free_ports, java_major_version
from tests.integration.pipeline_helpers import Workers, worker_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        java_major_version() is None, reason="needs a JDK for Apache Kafka (tansu has no security)"
    ),
]


@dataclass
class Secure:
    """A secured broker, the super user's settings and the passwords of its users."""

    admin: Settings
    security: KafkaSecurity
    passwords: dict[str, str]
    root: Path

    def as_user(self, user: str, password: str | None = None, ca: Path | None = None) -> Settings:
        return self.admin.model_copy(update={
            "sasl_username": user, "sasl_password": SecretStr(password or self.passwords[user]),
            "ssl_ca_location": ca or self.security.certs / "ca.pem"})  # fmt: skip


@pytest.fixture(scope="module")
def secure(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    root = tmp_path_factory.mktemp("secure")
    certs = root / "certs"
    create_ca(certs)
    issue(certs, "kafka", ["127.0.0.1", "localhost"])
    security = KafkaSecurity(certs, secrets.token_urlsafe(16))
    port, controller = free_ports(2)
    server = KafkaServer(
        root / "kafka", port, controller, stack.kafka_version, "512m", security=security
    )
    server.start(lambda _m: None)
    try:
        server.wait_ready(120)
        admin = stack.private(
            "sec",
            bootstrap_servers=f"127.0.0.1:{port}",
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username="admin",
            sasl_password=SecretStr(security.admin_password),
            ssl_ca_location=certs / "ca.pem",
            ncbs="FRA,ITA",
            data_dir=root / "hst",
        )
        ensure_topics(admin)
        passwords = {"hst-worker": secrets.token_urlsafe(16), ncb_principal("FRA"): secrets.token_urlsafe(16),
                     ncb_principal("ITA"): secrets.token_urlsafe(16)}  # fmt: skip
        # Users and ACLs as an operator makes them: `hst security provision`, passwords in the env.
        env = {**worker_env(admin), "HST_WORKER_PASSWORD": passwords["hst-worker"],
               "HST_NCB_PASSWORD_FRA": passwords["ncb-FRA"], "HST_NCB_PASSWORD_ITA": passwords["ncb-ITA"]}  # fmt: skip
        subprocess.run([sys.executable, "-m", "pipeline.cli.main", "security", "provision", "--ncb", "FRA",
                        "--ncb", "ITA", "--worker", "hst-worker"], env=env, check=True, timeout=120)  # fmt: skip
        es = sync_client(admin)
        ensure_index(es, admin.index_alias)
        ensure_links_index(es, admin.links_alias)
        ensure_synthesis_index(es, admin.synthesis_alias)
        yield Secure(admin, security, passwords, root)
    finally:
        server.stop()
        shutil.rmtree(root / "kafka", ignore_errors=True)


def _metadata_error(cfg: Settings) -> KafkaError:
    admin = AdminClient({**cfg.kafka_client_config(), "socket.timeout.ms": 5000, "log_level": 0})
    with pytest.raises(KafkaException) as info:
        admin.list_topics(timeout=8)
    return info.value.args[0]  # type: ignore[no-any-return]


def test_a_wrong_password_is_refused(secure: Secure) -> None:
    err = _metadata_error(secure.as_user("ncb-FRA", password="not-the-password"))
    assert err.code() in (KafkaError._AUTHENTICATION, KafkaError._TRANSPORT), err


def test_an_unknown_user_is_refused(secure: Secure) -> None:
    err = _metadata_error(secure.as_user("ncb-XXX", password="anything"))
    assert err.code() in (KafkaError._AUTHENTICATION, KafkaError._TRANSPORT), err


def test_a_client_that_does_not_trust_the_ca_is_refused(secure: Secure) -> None:
    other = secure.root / "other-ca"
    create_ca(other, name="someone else")
    err = _metadata_error(secure.as_user("ncb-FRA", ca=other / "ca.pem"))
    assert err.code() in (KafkaError._SSL, KafkaError._TRANSPORT), err


def _end(cfg: Settings, topic: str) -> int:
    consumer = Consumer(
        {**cfg.kafka_client_config(), "group.id": f"hst-reader-{uuid.uuid4().hex[:6]}"}
    )
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts
        )
    finally:
        consumer.close()


def test_fra_cannot_write_to_italys_inbound_topic(secure: Secure) -> None:
    fra = secure.as_user("ncb-FRA")
    errors: list[Any] = []
    producer = Producer({**fra.kafka_client_config(), "acks": "all", "message.timeout.ms": 15000})
    topic = fra.inbound_topic_of("ITA")
    producer.produce(
        topic, key=b"k", value=b"forged", on_delivery=lambda err, _m: errors.append(err)
    )
    producer.flush(30)
    assert errors and errors[0] is not None
    assert errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, errors[0]
    assert _end(secure.admin, topic) == 0  # nothing written


def _read(cfg: Settings, topic: str, wait: float) -> tuple[list[bytes], KafkaError | None]:
    """(values read, the topic's metadata error) for a reader of ``topic``: the first
    record, or none after ``wait`` seconds."""
    consumer = Consumer({**cfg.kafka_client_config(), "group.id": f"hst-reader-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest"})  # fmt: skip
    values: list[bytes] = []
    try:
        error = consumer.list_topics(topic, timeout=10).topics[topic].error
        consumer.assign([TopicPartition(topic, p, 0) for p in range(cfg.partitions)])
        deadline = time.monotonic() + wait
        while not values and time.monotonic() < deadline:
            values += [m.value() for m in consumer.consume(10, timeout=0.5) if m.error() is None]
    finally:
        consumer.close()
    return values, error


def test_fra_cannot_read_italys_notices_or_acknowledgements(secure: Secure) -> None:
    fra, ita = secure.as_user("ncb-FRA"), secure.as_user("ncb-ITA")
    topics = (fra.diffusion_topic_of("ITA"), fra.acks_topic_of("ITA"))
    producer = Producer({**secure.admin.kafka_client_config(), "acks": "all"})
    for topic in topics:
        producer.produce(topic, key=b"ITA", value=b"for Italy only")
    assert producer.flush(30) == 0
    for topic in topics:
        values, error = _read(fra, topic, wait=5)
        assert values == [] and error is not None, topic
        assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (topic, error)
        assert _read(ita, topic, wait=20) == ([b"for Italy only"], None)  # its owner reads it
    # The project's readers say so, rather than show an empty inbox.
    with pytest.raises(LogReadError, match=r"(?i)authori"):
        list(read_acks(fra, "ITA", timeout=10))
    with pytest.raises(LogReadError, match=r"(?i)authori"):
        list(read_inbox(fra, "ITA", timeout=10))


def test_the_worker_principal_does_its_job_and_fra_reads_its_own_acknowledgements(
    secure: Secure,
) -> None:
    worker = secure.as_user("hst-worker")
    fra = secure.as_user("ncb-FRA")
    data = generate(GeneratorConfig(count=10, seed=93, resend_share=0, content_duplicate_share=0,
                                    update_share=0, withdraw_share=0))  # fmt: skip
    workers = Workers(worker, secure.root)
    try:
        w = workers.start("w1")
        with Publisher(fra) as gateway:
            for m in data.messages:
                gateway.publish_json({**m, "source_ncb": "FRA"})
            acks = gateway.wait_for_acks(timeout=240)
        assert {a["state"] for a in acks.values()} == {"PROCESSED"}, acks
        assert len(acks) == len(data.messages)
        assert "AUTHORIZATION" not in w.log.read_text(errors="replace").upper()
    finally:
        workers.stop_all()
