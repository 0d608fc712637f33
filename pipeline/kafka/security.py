"""Principals and ACLs on Apache Kafka: each NCB gets exactly what it needs, nothing else.

Through the admin API (as a super user): SCRAM-SHA-512 credentials, then ACLs.

| principal | may |
| --- | --- |
| ``ncb-<NCB>`` | write and describe ``<inbound>.<NCB>``; read and describe ``<diffusion>.<NCB>`` and ``<acks>.<NCB>``; use consumer groups ``hst-reader-*`` (readers assign partitions, never commit) |
| the workers' user | everything on every pipeline topic, on topics and groups prefixed with the app id (changelogs, Faust's leader topic), describe the cluster |

An NCB's principal names it: it can neither publish on another NCB's topic nor read another
NCB's notices or acknowledgements (authorisation errors; nothing is written).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from pipeline.kafka.admin import admin_client, pipeline_topics
from pipeline.settings import Settings

READER_GROUPS = "hst-reader-"  # prefix of the groups of hst inbox / hst acks readers


def ncb_principal(ncb: str) -> str:
    """The Kafka user of an NCB's gateway."""
    return f"ncb-{ncb.upper()}"


def _allow(principal: str, rtype: ResourceType, name: str, op: AclOperation,
           pattern: ResourcePatternType = ResourcePatternType.LITERAL) -> AclBinding:  # fmt: skip
    return AclBinding(rtype, name, pattern, f"User:{principal}", "*", op, AclPermissionType.ALLOW)


def ncb_acls(settings: Settings, ncb: str) -> list[AclBinding]:
    """What an NCB's gateway may do: publish as itself, read its own notices and acks."""
    user = ncb_principal(ncb)
    inbound = settings.inbound_topic_of(ncb)
    own = [settings.diffusion_topic_of(ncb), settings.acks_topic_of(ncb)]
    if inbound == settings.topic_inbound or settings.topic_diffusion in own:
        msg = f"{ncb} has no topics of its own: add it to HST_NCBS before granting it access"
        raise ValueError(msg)
    return [
        _allow(user, ResourceType.TOPIC, inbound, AclOperation.WRITE),
        _allow(user, ResourceType.TOPIC, inbound, AclOperation.DESCRIBE),
        *(_allow(user, ResourceType.TOPIC, t, op) for t in own
          for op in (AclOperation.READ, AclOperation.DESCRIBE)),
        _allow(user, ResourceType.GROUP, READER_GROUPS, AclOperation.READ, ResourcePatternType.PREFIXED),
    ]  # fmt: skip


def worker_acls(settings: Settings, user: str) -> list[AclBinding]:
    """What the workers may do: every pipeline topic, their changelogs and group."""
    topics = sorted({t.name for t in pipeline_topics(settings)})
    return [
        *(_allow(user, ResourceType.TOPIC, t, AclOperation.ALL) for t in topics),
        _allow(user, ResourceType.TOPIC, f"{settings.app_id}-", AclOperation.ALL, ResourcePatternType.PREFIXED),
        _allow(user, ResourceType.GROUP, settings.app_id, AclOperation.ALL, ResourcePatternType.PREFIXED),
        _allow(user, ResourceType.GROUP, READER_GROUPS, AclOperation.READ, ResourcePatternType.PREFIXED),
        _allow(user, ResourceType.BROKER, "kafka-cluster", AclOperation.DESCRIBE),
        _allow(user, ResourceType.BROKER, "kafka-cluster", AclOperation.IDEMPOTENT_WRITE),
    ]  # fmt: skip


def upsert_users(admin: AdminClient, passwords: dict[str, str], iterations: int = 8192) -> None:
    """Create or change SCRAM-SHA-512 users."""
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, iterations)
    alterations: list[Any] = [
        UserScramCredentialUpsertion(u, info, p.encode()) for u, p in passwords.items()
    ]
    for future in admin.alter_user_scram_credentials(alterations).values():
        future.result()  # raises KafkaException naming the failure


def grant(admin: AdminClient, bindings: list[AclBinding]) -> None:
    """Create ACLs (creating an existing one is harmless)."""
    for binding, future in admin.create_acls(bindings).items():
        try:
            future.result()
        except KafkaException as exc:
            msg = f"could not create ACL {binding}: {exc}"
            raise RuntimeError(msg) from exc


def provision(settings: Settings, worker: tuple[str, str], ncbs: dict[str, str]) -> None:
    """Users and ACLs for the workers and each NCB (``settings``: a super user's)."""
    admin = admin_client(settings)
    upsert_users(admin, {worker[0]: worker[1], **{ncb_principal(n): p for n, p in ncbs.items()}})
    grant(
        admin, worker_acls(settings, worker[0]) + [b for n in ncbs for b in ncb_acls(settings, n)]
    )
