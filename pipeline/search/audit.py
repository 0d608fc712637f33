"""The audit log of analyst searches: who searched for what, when, and which messages they saw.

Written before any result is shown; if it cannot be written the search shows nothing
(no audit, no search).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import socket
import uuid
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.errors import HstError
from pipeline.search.mappings import AUDIT_FILTERS


class AuditError(HstError, RuntimeError):
    """The audit record could not be written."""


def analyst_name(configured: str | None) -> str:
    """The analyst a search is attributed to: ``HST_ANALYST``, else the OS user."""
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def audit_record(analyst: str, filters: dict[str, Any], query: dict[str, Any], total: int,
                 returned_ids: list[str], now: dt.datetime) -> dict[str, Any]:  # fmt: skip
    """One audit document."""
    given = {k: str(v) for k, v in filters.items() if k in AUDIT_FILTERS and v is not None}
    return {"audit_id": uuid.uuid4().hex, "at": now.isoformat(), "analyst": analyst,
            "host": socket.gethostname(), "command": "search", "filters": given,
            "query": json.dumps(query, sort_keys=True), "total": total, "returned_ids": returned_ids}  # fmt: skip


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
