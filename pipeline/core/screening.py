"""Reference screening: watch lists of documents, vessels, phones, plates... (pure: no I/O).

A watch list is a CSV file with a header, or a JSON array of objects, with these fields:

| field | required | meaning |
|-------|----------|---------|
| ``kind`` | yes | ``document``, ``vessel_imo``, ``vessel_mmsi``, ``phone``, ``email``, ``plate``, ``account`` |
| ``value`` | yes | the number, address or handle, in any usual format (normalised like messages) |
| ``country`` | for ``document`` and ``plate``; hint for national ``phone`` | ISO 3166-1 alpha-3 |
| ``platform`` | for ``account`` | e.g. ``telegram`` |
| ``reference`` | no | the list owner's reference (e.g. an SLTD record id) |
| ``note`` | no | free text shown with a hit |

The list's name is the file name without extension (``sltd.csv`` -> ``sltd``). A hit adds a
screening result to the document and raises its priority by ``HIT_PRIORITY``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pipeline.core.countries import is_alpha3
from pipeline.core.enrich import normalise_document_number, normalise_phone
from pipeline.errors import HstError

KINDS = ("document", "vessel_imo", "vessel_mmsi", "phone", "email", "plate", "account")
HIT_PRIORITY = 30


class WatchListError(HstError, ValueError):
    """A watch-list entry that cannot be used, naming the file, line and field."""


class _FieldError(HstError, ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class WatchEntry:
    """One watched identifier."""

    list_name: str
    kind: str
    value: str
    identifier: str  # the ``kind:value`` key messages carry in ``identifiers``
    reference: str | None = None
    note: str | None = None


def identifier_of(kind: str, value: str, country: str | None, platform: str | None) -> str:
    """The message identifier key a watch-list entry matches, or raise ``ValueError``."""
    value = value.strip()
    if kind not in KINDS:
        raise _FieldError(field="kind", reason=f"kind must be one of {', '.join(KINDS)}")
    if not value:
        raise _FieldError(field="value", reason="value is empty")
    if kind in ("document", "plate"):
        if not country:
            raise _FieldError(field="country", reason=f"country is required for a {kind}")
        prefix = "doc" if kind == "document" else "plate"
        return f"{prefix}:{country}:{normalise_document_number(value)}"
    if kind == "vessel_imo":
        return f"imo:{value}"
    if kind == "vessel_mmsi":
        return f"mmsi:{value}"
    if kind == "phone":
        e164, _ = normalise_phone(value, country)
        if e164 is None:
            raise _FieldError(field="value", reason=f"'{value}' is not a valid phone number")
        return f"phone:{e164}"
    if kind == "email":
        return f"email:{value.lower()}"
    if kind == "account":
        if not platform:
            raise _FieldError(field="platform", reason="platform is required for an account")
        return f"account:{platform.strip().lower()}:{value.lstrip('@').lower()}"
    raise _FieldError(field="kind", reason=f"kind must be one of {', '.join(KINDS)}")


def parse_entries(rows: list[dict[str, Any]], list_name: str, source: str) -> list[WatchEntry]:
    """Entries from rows (CSV lines or JSON objects); errors name ``source``, row and field."""
    out = []
    for n, row in enumerate(rows, start=1):
        where = f"{source}, entry {n}"
        if not isinstance(row, dict):
            msg = f"{where}: expected an object"
            raise WatchListError(msg)
        kind = str(row.get("kind") or "").strip().lower()
        country = str(row.get("country") or "").strip().upper() or None
        if country and not is_alpha3(country):
            msg = f"{where}, field 'country': '{country}' is not an ISO 3166-1 alpha-3 code"
            raise WatchListError(msg)
        try:
            identifier = identifier_of(kind, str(row.get("value") or ""), country,
                                       str(row.get("platform") or "") or None)  # fmt: skip
        except _FieldError as exc:
            msg = f"{where}, field '{exc.field}': {exc}"
            raise WatchListError(msg) from None
        out.append(WatchEntry(list_name, kind, str(row["value"]).strip(), identifier,
                              str(row.get("reference") or "") or None, str(row.get("note") or "") or None))  # fmt: skip
    return out


def parse_watchlist(text: str, list_name: str, source: str, fmt: str) -> list[WatchEntry]:
    """Parse a CSV (``fmt='csv'``) or JSON (``fmt='json'``) watch list."""
    if fmt == "json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"{source}: not JSON ({exc})"
            raise WatchListError(msg) from None
        if not isinstance(rows, list):
            msg = f"{source}: expected a JSON array of entries"
            raise WatchListError(msg)
        return parse_entries(rows, list_name, source)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"kind", "value"} <= set(reader.fieldnames):
        msg = f"{source}: the header must name at least 'kind' and 'value'"
        raise WatchListError(msg)
    return parse_entries(list(reader), list_name, source)


class WatchIndex:
    """Watched identifiers, looked up by the keys messages carry."""

    def __init__(self, entries: list[WatchEntry]) -> None:
        self.by_identifier: dict[str, list[WatchEntry]] = {}
        for e in entries:
            self.by_identifier.setdefault(e.identifier, []).append(e)

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_identifier.values())

    def screen(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """Screening results of an enriched message (one per watched identifier it carries)."""
        hits = []
        for identifier in doc.get("identifiers") or []:
            for e in self.by_identifier.get(identifier, []):
                hits.append({"list": e.list_name, "kind": e.kind, "value": e.value,
                             "identifier": identifier, "reference": e.reference, "note": e.note})  # fmt: skip
        return hits


def apply_screening(doc: dict[str, Any], hits: list[dict[str, Any]]) -> None:
    """Record hits on the document and raise its priority, with the reason."""
    doc["screening"] = hits
    if hits:
        lists = sorted({h["list"] for h in hits})
        doc["priority_score"] = min(100, doc.get("priority_score", 0) + HIT_PRIORITY)
        doc["priority_reasons"] = [
            *doc.get("priority_reasons", []),
            f"watch-list hit: {', '.join(lists)}",
        ]
