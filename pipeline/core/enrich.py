"""Enrichment: a validated HST record (JSON form) -> the analyst's search document.

Pure: no I/O. Reference data (ISO codes, UN M49 regions, GeoNames reference points,
libphonenumber metadata) ships with the packages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache
from typing import Any

import orjson
import phonenumbers

from pipeline.core.geo import country_info
from pipeline.core.names import name_keys, normalise, transliterate

FRAUD_STATUSES = {"FRAUDULENT", "COUNTERFEIT", "STOLEN"}
VICTIM_ROLES = {"VICTIM", "SMUGGLED_MIGRANT"}
# Fields that identify a delivery, not the reported content (content hashing ignores them).
_DELIVERY_FIELDS = ("message_id", "created_at", "schema_version")


def content_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the canonical content: the record without its delivery fields.

    A gateway retry that minted a new ``message_id`` (and a new ``created_at``) has the
    same hash as the original.
    """
    content = {k: v for k, v in record.items() if k not in _DELIVERY_FIELDS}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def normalise_document_number(number: str) -> str:
    """``'ab 123-4567'`` -> ``'AB1234567'``."""
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


@lru_cache(maxsize=65536)
def normalise_phone(number: str, *region_hints: str | None) -> tuple[str | None, str | None]:
    """(E.164, country alpha-3) of a phone written in any format; (None, None) if invalid."""
    hints: list[str | None] = [h for h in region_hints if h] or [None]
    for hint in hints:
        region = country_info(hint).alpha2 if hint else None
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            iso2 = phonenumbers.region_code_for_number(parsed)
            return e164, _alpha3_of(iso2)
    return None, None


@lru_cache(maxsize=512)
def _alpha3_of(alpha2: str | None) -> str | None:
    if not alpha2:
        return None
    import pycountry

    country = pycountry.countries.get(alpha_2=alpha2)
    return str(country.alpha_3) if country else ("XKX" if alpha2 == "XK" else None)


def age_range(birth: dict[str, Any] | None, on: dt.date) -> tuple[int | None, int | None]:
    """(youngest, oldest) possible age on ``on`` for a possibly partial birth date."""
    if not birth or birth.get("year") is None:
        return None, None
    year, month, day = birth["year"], birth.get("month"), birth.get("day")
    earliest = dt.date(year, month or 1, day or 1)
    if month is None:
        latest = dt.date(year, 12, 31)
    elif day is None:
        latest = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    else:
        latest = earliest

    def age(born: dt.date) -> int:
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    return age(latest), age(earliest)


def _birth_text(birth: dict[str, Any] | None) -> str | None:
    if not birth:
        return None
    parts = [f"{birth['year']:04d}"]
    if birth.get("month"):
        parts.append(f"{birth['month']:02d}")
        if birth.get("day"):
            parts.append(f"{birth['day']:02d}")
    return "-".join(parts)


def _point(lat: float | None, lon: float | None) -> dict[str, float] | None:
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else None


def route_path(route: dict[str, Any]) -> list[str]:
    """Ordered country path: origin, transits, destination, else the events' countries."""
    seq = [
        route.get("origin_country"),
        *(route.get("transit_countries") or []),
        route.get("destination_country"),
    ]
    if not any(seq):
        seq = [e.get("country") for e in route.get("events") or []]
    path: list[str] = []
    for c in seq:
        if c and (not path or path[-1] != c):
            path.append(c)
    return path


def _person(p: dict[str, Any], event_date: dt.date, source_ncb: str) -> dict[str, Any]:
    name = p.get("name") or {}
    given, family = name.get("given_name"), name.get("family_name")
    original = name.get("original_script_name")
    latin_full = " ".join(x for x in (given, family) if x) or (
        transliterate(original) if original else ""
    )
    young, old = age_range(p.get("birth_date"), event_date)
    nationalities = p.get("nationalities") or []
    phones = []
    for ph in p.get("phones") or []:
        e164, country = normalise_phone(ph["number"], ph.get("country"), *nationalities, source_ncb)
        phones.append({"raw": ph["number"], "e164": e164, "country": country})
    documents = [
        {
            **d,
            "number_normalised": normalise_document_number(d["number"]),
            "suspicious": d.get("status") in FRAUD_STATUSES,
        }
        for d in p.get("documents") or []
    ]
    aliases = p.get("aliases") or []
    return {
        "person_id": p["person_id"],
        "role": p["role"],
        "given_name": given,
        "family_name": family,
        "full_name": latin_full,
        "original_script_name": original,
        "script": name.get("script"),
        "name_latin": transliterate(original) if original else latin_full,
        "name_normalised": normalise(latin_full),
        "name_keys": name_keys(given, family, original, *aliases),
        "aliases": aliases,
        "aliases_normalised": [normalise(a) for a in aliases],
        "sex": p.get("sex"),
        "birth_date": _birth_text(p.get("birth_date")),
        "birth_year": (p.get("birth_date") or {}).get("year"),
        "age_min": young,
        "age_max": old,
        "is_minor": young is not None and young < 18,
        "nationalities": nationalities,
        "phones": phones,
        "emails": [e.strip().lower() for e in p.get("emails") or []],
        "online_accounts": [
            {**a, "handle_normalised": a["handle"].strip().lstrip("@").lower()}
            for a in p.get("online_accounts") or []
        ],
        "documents": documents,
        "links": p.get("links") or [],
    }


def identifiers(doc: dict[str, Any]) -> list[str]:
    """Strong identifiers as ``kind:value`` keywords (documents, phones, e-mails, vessels...)."""
    out: list[str] = []
    for p in doc["persons"]:
        out += [f"doc:{d['issuing_country']}:{d['number_normalised']}" for d in p["documents"]]
        out += [f"phone:{ph['e164']}" for ph in p["phones"] if ph["e164"]]
        out += [f"email:{e}" for e in p["emails"]]
        out += [
            f"account:{a['platform'].lower()}:{a['handle_normalised']}"
            for a in p["online_accounts"]
        ]
    for v in doc.get("vessels") or []:
        out += [f"imo:{v['imo']}"] if v.get("imo") else []
        out += [f"mmsi:{v['mmsi']}"] if v.get("mmsi") else []
    for v in doc.get("vehicles") or []:
        out.append(f"plate:{v.get('country') or '?'}:{normalise_document_number(v['plate'])}")
    for pay in doc.get("payments") or []:
        for key in ("payer_account", "payee_account"):
            if pay.get(key):
                out.append(f"account:bank:{normalise_document_number(pay[key])}")
    return sorted(set(out))


def priority(doc: dict[str, Any]) -> tuple[int, list[str]]:
    """A 0-100 score and the reasons behind it, for triage."""
    score, reasons = 0, []
    minors = sum(p["is_minor"] for p in doc["persons"])
    if minors or doc["handling"].get("contains_minor"):
        score += 30
        reasons.append(f"minor(s) involved: {max(minors, 1)}")
    dead = doc["incident"].get("dead_count") or 0
    missing = doc["incident"].get("missing_count") or 0
    if dead:
        score += 20 + min(20, dead)
        reasons.append(f"{dead} dead")
    if missing:
        score += 10
        reasons.append(f"{missing} missing")
    frauds = sum(d["suspicious"] for p in doc["persons"] for d in p["documents"])
    if frauds:
        score += 15
        reasons.append(f"{frauds} fraudulent/counterfeit/stolen document(s)")
    if len(doc["persons"]) >= 10:
        score += 10
        reasons.append(f"{len(doc['persons'])} persons")
    if doc["incident"]["incident_type"] in ("TRAFFICKING", "BOTH"):
        score += 10
        reasons.append("trafficking in persons")
    return min(score, 100), reasons


def enrich(record: dict[str, Any]) -> dict[str, Any]:
    """The search document for a validated record in JSON form (ISO timestamps and dates)."""
    event_date = dt.date.fromisoformat(record["event_time"][:10])
    route = record.get("route") or {}
    path = route_path(route)
    events = []
    for ev in route.get("events") or []:
        info = country_info(ev["country"])
        given = _point(ev.get("latitude"), ev.get("longitude"))
        events.append(
            {
                **ev,
                "country_name": info.name,
                "location": given or _point(info.lat, info.lon),
                "location_source": "message" if given else "country",
            }
        )
    primary = next((e for e in reversed(events) if e["location_source"] == "message"), None)
    if primary is None and events:
        primary = events[-1]
    if primary is None and path:
        last = country_info(path[-1])
        primary = {
            "location": _point(last.lat, last.lon),
            "location_source": "country",
            "country": path[-1],
        }
    countries = sorted({*path, *(e["country"] for e in events)})
    infos = [country_info(c) for c in countries]
    persons = [_person(p, event_date, record["source_ncb"]) for p in record.get("persons") or []]
    source = country_info(record["source_ncb"])
    doc: dict[str, Any] = {
        **{k: v for k, v in record.items() if k not in ("route", "persons")},
        "source_ncb_name": source.name,
        "route": {
            **{k: v for k, v in route.items() if k != "events"},
            "events": events,
            "path": ">".join(path),
            "countries": countries,
            "country_names": [i.name for i in infos],
            "regions": sorted({i.region for i in infos if i.region}),
            "sub_regions": sorted({i.sub_region for i in infos if i.sub_region}),
        },
        "location": primary["location"] if primary else None,
        "location_source": primary["location_source"] if primary else None,
        "incident_sub_region": country_info(primary["country"]).sub_region if primary else None,
        "persons": persons,
    }
    minors = sum(p["is_minor"] for p in persons)
    doc["contains_minor_effective"] = bool(record["handling"].get("contains_minor") or minors)
    doc["counts"] = {
        "persons": len(persons),
        "victims": sum(p["role"] in VICTIM_ROLES for p in persons),
        "minors": minors,
        "dead": record["incident"].get("dead_count") or 0,
        "missing": record["incident"].get("missing_count") or 0,
        "suspicious_documents": sum(d["suspicious"] for p in persons for d in p["documents"]),
    }
    doc["identifiers"] = identifiers(doc)
    doc["priority_score"], doc["priority_reasons"] = priority(doc)
    return doc


def with_provenance(
    doc: dict[str, Any],
    *,
    absorbed: list[str],
    source: tuple[str, int, int],
    timestamp_ms: int,
    received_at: str,
    worker: str,
) -> dict[str, Any]:
    """Add where a document came from: the ids it absorbed, its inbound record, who processed it."""
    topic, partition, offset = source
    doc["absorbed_message_ids"] = absorbed
    doc["kafka"] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": timestamp_ms,
    }
    doc["processing"] = {"received_at": received_at, "worker": worker}
    return doc
