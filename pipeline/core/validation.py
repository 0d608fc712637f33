"""Validation of HST messages: schema shape (via ``Coercer``) plus the semantic rules.

The same rules run in the gateway (``hst publish``) and in the stream's validate stage, so a
message refused at one door is refused at the other. Pure: the clock is injected.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.core.coerce import Coercer, FieldError
from pipeline.core.countries import currency_codes, is_alpha3, language_codes
from pipeline.errors import PermanentError

CLOCK_SKEW = dt.timedelta(minutes=5)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Limits:
    """Size limits a gateway must respect."""

    max_narrative_chars: int = 20_000
    max_persons: int = 500
    # Avro-encoded size of one message. Enrichment makes a document up to ~10-40 times its
    # encoded size (names keys, transliterations, geography), and the pipeline's own topics
    # take records of up to PIPELINE_RECORD_BYTES: every accepted message must fit them.
    max_record_bytes: int = 128 * 1024


def size_error(encoded_bytes: int, limits: Limits) -> FieldError | None:
    """The error of a record whose encoding is too large, or None."""
    if encoded_bytes <= limits.max_record_bytes:
        return None
    return FieldError(
        "",
        f"encoded record of {encoded_bytes:,} bytes exceeds the limit of {limits.max_record_bytes:,}",
    )


class ValidationError(PermanentError, ValueError):
    """A message broke one or more rules; ``errors`` lists every field at fault."""

    def __init__(self, errors: list[FieldError], message_id: str | None = None) -> None:
        self.errors = errors
        self.message_id = message_id
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} invalid field(s): {shown}{more}")


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def _countries(datum: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    """Every (path, code) that must be an ISO 3166-1 alpha-3 code."""
    yield "source_ncb", datum.get("source_ncb")
    handling = datum.get("handling") or {}
    for key in ("dissemination_allowlist", "dissemination_denylist"):
        for i, code in enumerate(handling.get(key) or []):
            yield f"handling.{key}[{i}]", code
    route = datum.get("route") or {}
    yield "route.origin_country", route.get("origin_country")
    yield "route.destination_country", route.get("destination_country")
    for i, code in enumerate(route.get("transit_countries") or []):
        yield f"route.transit_countries[{i}]", code
    for i, ev in enumerate(route.get("events") or []):
        yield f"route.events[{i}].country", (ev or {}).get("country")
    for p, person in enumerate(datum.get("persons") or []):
        person = person or {}
        for i, code in enumerate(person.get("nationalities") or []):
            yield f"persons[{p}].nationalities[{i}]", code
        for i, doc in enumerate(person.get("documents") or []):
            yield f"persons[{p}].documents[{i}].issuing_country", (doc or {}).get("issuing_country")
        for i, phone in enumerate(person.get("phones") or []):
            yield f"persons[{p}].phones[{i}].country", (phone or {}).get("country")
    for i, v in enumerate(datum.get("vehicles") or []):
        yield f"vehicles[{i}].country", (v or {}).get("country")
    for i, v in enumerate(datum.get("vessels") or []):
        yield f"vessels[{i}].flag", (v or {}).get("flag")


def _check_partial_date(pd: dict[str, Any], path: str, today: dt.date) -> list[FieldError]:
    errors: list[FieldError] = []
    year, month, day = pd.get("year"), pd.get("month"), pd.get("day")
    if year is None:
        return errors
    if not 1900 <= year <= today.year:
        errors.append(
            FieldError(f"{path}.year", f"year {year} is not between 1900 and {today.year}")
        )
        return errors
    if month is not None and not 1 <= month <= 12:
        errors.append(FieldError(f"{path}.month", f"month {month} is not 1-12"))
        return errors
    if day is not None:
        if month is None:
            errors.append(FieldError(f"{path}.day", "a day needs a month"))
        elif not 1 <= day <= calendar.monthrange(year, month)[1]:
            errors.append(FieldError(f"{path}.day", f"{year}-{month:02d} has no day {day}"))
        elif dt.date(year, month, day) > today:
            errors.append(FieldError(path, "birth date is in the future"))
    return errors


# Names are searched and matched: a control character (an escaped NUL, a terminal escape)
# makes a person unfindable and can corrupt what analysts see.
def _names(person: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    """Every text of a person's name and aliases, with its path."""
    name = person.get("name")
    if isinstance(name, dict):
        for key, value in name.items():
            yield f"{prefix}.name.{key}", value
    for i, alias in enumerate(person.get("aliases") or []):
        if isinstance(alias, dict):
            for key, value in alias.items():
                yield f"{prefix}.aliases[{i}].{key}", value
        else:
            yield f"{prefix}.aliases[{i}]", alias


def _control_character(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)


def normalise_ids(datum: dict[str, Any]) -> dict[str, Any]:
    """Message ids in their canonical lower-case form, in place (and returned).

    A UUID is case-insensitive: without this, the same id sent in two cases would be two
    messages to deduplication, to updates and to the index.
    """
    for name in ("message_id", "supersedes_message_id"):
        value = datum.get(name)
        if isinstance(value, str):
            datum[name] = value.lower()
    related = datum.get("related_message_ids")
    if isinstance(related, list):
        datum["related_message_ids"] = [r.lower() if isinstance(r, str) else r for r in related]
    return datum


def semantic_errors(
    datum: dict[str, Any],
    *,
    now: dt.datetime,
    expected_ncb: str | None = None,
    limits: Limits | None = None,
) -> list[FieldError]:
    """The rules beyond the schema's shape. ``now`` is injected (aware UTC)."""
    limits = limits or Limits()
    errors: list[FieldError] = []
    add = errors.append
    latest = now + CLOCK_SKEW
    today = latest.date()

    # Identity and envelope.
    if datum.get("message_id") is not None and not _is_uuid(datum["message_id"]):
        add(FieldError("message_id", f"{datum['message_id']!r} is not a canonical UUID"))
    for i, rid in enumerate(datum.get("related_message_ids") or []):
        if rid is not None and not _is_uuid(rid):
            add(FieldError(f"related_message_ids[{i}]", f"{rid!r} is not a canonical UUID"))
    for path, code in _countries(datum):
        if code is not None and not is_alpha3(code):
            add(FieldError(path, f"{code!r} is not an ISO 3166-1 alpha-3 country code"))
    ncb = datum.get("source_ncb")
    if expected_ncb is not None and ncb is not None and ncb != expected_ncb:
        add(FieldError("source_ncb", f"{ncb!r} does not match the sending NCB {expected_ncb!r}"))

    created, event = datum.get("created_at"), datum.get("event_time")
    for name, ts in (("created_at", created), ("event_time", event)):
        if ts is not None and ts > latest:
            add(FieldError(name, f"{ts.isoformat()} is in the future"))
    if created is not None and event is not None and event > created + CLOCK_SKEW:
        add(
            FieldError(
                "event_time", "is after created_at: an incident is reported after it happens"
            )
        )

    action, supersedes = datum.get("action"), datum.get("supersedes_message_id")
    if supersedes is not None and not _is_uuid(supersedes):
        add(FieldError("supersedes_message_id", f"{supersedes!r} is not a canonical UUID"))
    if action in ("UPDATE", "WITHDRAW") and supersedes is None:
        add(FieldError("supersedes_message_id", f"required when action is {action}"))
    if action == "CREATE" and supersedes is not None:
        add(FieldError("supersedes_message_id", "must be empty when action is CREATE"))
    if supersedes is not None and supersedes == datum.get("message_id"):
        add(FieldError("supersedes_message_id", "a message cannot supersede itself"))

    # Handling.
    handling = datum.get("handling") or {}
    accuracy = handling.get("information_accuracy")
    if accuracy is not None and not 1 <= accuracy <= 4:
        add(FieldError("handling.information_accuracy", f"{accuracy} is not 1-4"))
    both = set(handling.get("dissemination_allowlist") or []) & set(
        handling.get("dissemination_denylist") or []
    )
    if both:
        add(FieldError("handling", f"{sorted(both)} are in both the allowlist and the denylist"))

    # Incident.
    incident = datum.get("incident") or {}
    narrative = incident.get("narrative")
    if narrative is not None and len(narrative) > limits.max_narrative_chars:
        add(
            FieldError(
                "incident.narrative",
                f"{len(narrative)} characters exceed the limit of {limits.max_narrative_chars}",
            )
        )
    lang = incident.get("narrative_language")
    if lang is not None and lang not in language_codes():
        add(FieldError("incident.narrative_language", f"{lang!r} is not an ISO 639-1 code"))
    for key in ("dead_count", "missing_count", "survivor_count"):
        if (incident.get(key) or 0) < 0:
            add(FieldError(f"incident.{key}", "must not be negative"))

    # Route.
    for i, ev in enumerate((datum.get("route") or {}).get("events") or []):
        ev = ev or {}
        if ev.get("date") is not None and ev["date"] > today:
            add(FieldError(f"route.events[{i}].date", "is in the future"))
        lat, lon = ev.get("latitude"), ev.get("longitude")
        if (lat is None) != (lon is None):
            add(FieldError(f"route.events[{i}]", "latitude and longitude go together"))
        if lat is not None and not -90 <= lat <= 90:
            add(FieldError(f"route.events[{i}].latitude", f"{lat} is outside -90..90"))
        if lon is not None and not -180 <= lon <= 180:
            add(FieldError(f"route.events[{i}].longitude", f"{lon} is outside -180..180"))

    # Persons.
    persons = datum.get("persons") or []
    if len(persons) > limits.max_persons:
        add(
            FieldError(
                "persons", f"{len(persons)} persons exceed the limit of {limits.max_persons}"
            )
        )
    ids = [p.get("person_id") for p in persons if p]
    seen: set[str | None] = set()
    for p, person in enumerate(persons):
        person = person or {}
        pid = person.get("person_id")
        if pid in seen:
            add(FieldError(f"persons[{p}].person_id", f"{pid!r} is used twice"))
        seen.add(pid)
        if person.get("birth_date"):
            errors.extend(
                _check_partial_date(person["birth_date"], f"persons[{p}].birth_date", today)
            )
        for path, value in _names(person, f"persons[{p}]"):
            bad = _control_character(value)
            if bad is not None:
                add(FieldError(path, f"contains the control character U+{ord(bad):04X}"))
        for i, email in enumerate(person.get("emails") or []):
            if email is not None and not _EMAIL.match(email):
                add(FieldError(f"persons[{p}].emails[{i}]", f"{email!r} is not an e-mail address"))
        for i, doc in enumerate(person.get("documents") or []):
            if doc and not (doc.get("number") or "").strip():
                add(FieldError(f"persons[{p}].documents[{i}].number", "is empty"))
        for i, ph in enumerate(person.get("phones") or []):
            if ph and sum(c.isdigit() for c in ph.get("number") or "") < 5:
                add(FieldError(f"persons[{p}].phones[{i}].number", "has fewer than 5 digits"))
        for i, link in enumerate(person.get("links") or []):
            if link and link.get("person_id") not in ids:
                add(
                    FieldError(
                        f"persons[{p}].links[{i}].person_id", "names no person of this message"
                    )
                )

    # Objects.
    for i, vessel in enumerate(datum.get("vessels") or []):
        vessel = vessel or {}
        for key, n in (("imo", 7), ("mmsi", 9)):
            val = vessel.get(key)
            if val is not None and not (_DIGITS.match(val) and len(val) == n):
                add(FieldError(f"vessels[{i}].{key}", f"{val!r} is not {n} digits"))
    for i, pay in enumerate(datum.get("payments") or []):
        pay = pay or {}
        cur = pay.get("currency")
        if cur is not None and cur not in currency_codes():
            add(FieldError(f"payments[{i}].currency", f"{cur!r} is not an ISO 4217 code"))
        if (pay.get("amount") or 0) < 0:
            add(FieldError(f"payments[{i}].amount", "must not be negative"))
        for key in ("payer_person_id", "payee_person_id"):
            if pay.get(key) is not None and pay[key] not in ids:
                add(FieldError(f"payments[{i}].{key}", "names no person of this message"))
    return errors


class MessageValidator:
    """Turns one JSON object into a valid HST record, or raises ``ValidationError``."""

    def __init__(self, schema: dict[str, Any], limits: Limits | None = None) -> None:
        self.coercer = Coercer(schema)
        self.limits = limits or Limits()

    def validate(
        self, obj: Any, *, now: dt.datetime, expected_ncb: str | None = None
    ) -> dict[str, Any]:
        """Coerce and check; every error is collected before raising."""
        datum, errors = self.coercer.to_datum(obj)
        normalise_ids(datum)
        if not errors or datum:
            errors += semantic_errors(datum, now=now, expected_ncb=expected_ncb, limits=self.limits)
        message_id = obj.get("message_id") if isinstance(obj, dict) else None
        if errors:
            raise ValidationError(errors, message_id if isinstance(message_id, str) else None)
        return datum

    def check_record(
        self, datum: dict[str, Any], *, now: dt.datetime, expected_ncb: str | None = None
    ) -> None:
        """Semantic rules on an already decoded record (the stream's validate stage)."""
        errors = semantic_errors(datum, now=now, expected_ncb=expected_ncb, limits=self.limits)
        if errors:
            raise ValidationError(errors, datum.get("message_id"))
