"""The audit log of analyst searches: who searched for what, when, and which messages they saw.

Written before any result is shown; if it cannot be written the search shows nothing
(no audit, no search).

Who searched is the principal the search engine authenticated (Elasticsearch's
``_security/_authenticate``, the OpenSearch security plugin's ``authinfo``), never a name the
caller merely states: ``HST_ANALYST`` is kept beside it as a claim. Only an engine without
security (the embedded one, open on loopback) leaves the claim, or the OS user, unverified.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from pipeline.errors import HstError
from pipeline.search.mappings import AUDIT_FILTERS


class AuditError(HstError, RuntimeError):
    """The audit record could not be written."""


@dataclass(frozen=True)
class Analyst:
    """Who a search is attributed to.

    ``verified``: the name is the principal the search engine authenticated; ``claimed``:
    the name the caller gave (``HST_ANALYST``), recorded as a claim beside it.
    """

    name: str
    verified: bool
    claimed: str | None = None


def analyst_name(configured: str | None) -> str:
    """The name a caller states: ``HST_ANALYST``, else the OS user."""
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def search_principal(es: Elasticsearch) -> str | None:
    """The user the engine authenticated this client as; None when the engine has no security.

    Elasticsearch (and the embedded engine when it has users) answers
    ``_security/_authenticate``; OpenSearch's security plugin ``_plugins/_security/authinfo``.
    An engine without security answers neither (400/404). Any other refusal raises.
    """
    probes: tuple[Callable[[], Any], ...] = (
        lambda: es.security.authenticate()["username"],
        lambda: es.perform_request(
            "GET", "/_plugins/_security/authinfo", headers={"accept": "application/json"}
        ).body["user_name"],
    )
    for probe in probes:
        try:
            return str(probe())
        except ApiError as exc:
            if exc.meta.status not in (400, 404, 405):  # not "no such API": a refusal
                raise
    return None


def identify_analyst(es: Elasticsearch, configured: str | None) -> Analyst:
    """The analyst a search is attributed to (see the module's docstring)."""
    try:
        principal = search_principal(es)
    except Exception as exc:
        msg = f"the search could not be audited: who is searching is unknown ({exc})"
        raise AuditError(msg) from exc
    if principal is None:
        return Analyst(analyst_name(configured), verified=False)
    return Analyst(principal, verified=True, claimed=configured)


def audit_record(
    analyst: Analyst,
    filters: dict[str, Any],
    query: dict[str, Any],
    total: int,
    returned_ids: list[str],
    now: dt.datetime,
) -> dict[str, Any]:
    """One audit document."""
    given = {k: str(v) for k, v in filters.items() if k in AUDIT_FILTERS and v is not None}
    record = {
        "audit_id": uuid.uuid4().hex,
        "at": now.isoformat(),
        "analyst": analyst.name,
        "analyst_verified": analyst.verified,
        "host": socket.gethostname(),
        "command": "search",
        "filters": given,
        "query": json.dumps(query, sort_keys=True),
        "total": total,
        "returned_ids": returned_ids,
    }
    if analyst.claimed is not None:
        record["analyst_claimed"] = analyst.claimed
    return record


def write_audit(es: Elasticsearch, alias: str, record: dict[str, Any]) -> None:
    """Index the record (the audit index is created if needed) and wait until it is searchable.

    Any failure raises ``AuditError``.
    """
    from pipeline.search.index import ensure_audit_index

    try:
        ensure_audit_index(es, alias)
        resp = es.index(index=alias, id=record["audit_id"], document=record, refresh="wait_for")
    except Exception as exc:
        msg = f"the search could not be audited ({exc}); no results are shown"
        raise AuditError(msg) from exc
    if resp.get("result") not in ("created", "updated"):
        msg = f"the search could not be audited ({resp}); no results are shown"
        raise AuditError(msg)
