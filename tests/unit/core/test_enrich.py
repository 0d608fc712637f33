"""Enrichment: the fields analysts search and map on are derived correctly."""

from __future__ import annotations

import datetime as dt

from pipeline.codec import HST_MESSAGE
from pipeline.codec.schemas import default_store
from pipeline.core.coerce import to_json
from pipeline.core.enrich import (
    age_range,
    content_hash,
    enrich,
    normalise_document_number,
    normalise_phone,
    route_path,
)
from pipeline.core.geo import country_info
from pipeline.core.validation import MessageValidator
from tests.unit.core.test_validation import valid_message

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def record(**changes: object) -> dict:
    msg = valid_message()
    msg.update(changes)
    validator = MessageValidator(default_store().get(HST_MESSAGE).raw)
    return to_json(validator.validate(msg, now=NOW))


def test_countries_get_names_codes_and_un_regions() -> None:
    info = country_info("LBY")
    assert (info.alpha2, info.name, info.region, info.sub_region) == (
        "LY",
        "Libya",
        "Africa",
        "Northern Africa",
    )
    assert info.lat is not None and 30 < info.lat < 35  # Tripoli
    assert country_info("DEU").sub_region == "Western Europe"


def test_phones_in_national_format_become_e164() -> None:
    assert normalise_phone("091 234 5678", "LBY") == ("+218912345678", "LBY")
    assert normalise_phone("+39 312 345 6789") == ("+393123456789", "ITA")
    assert normalise_phone("12", "ITA") == (None, None)


def test_document_numbers_and_route_path() -> None:
    assert normalise_document_number("ab 123-4567") == "AB1234567"
    assert route_path({"origin_country": "SYR", "transit_countries": ["TUR", "GRC", "GRC"],
                       "destination_country": "DEU"}) == ["SYR", "TUR", "GRC", "DEU"]  # fmt: skip
    assert route_path({"events": [{"country": "NGA"}, {"country": "NER"}]}) == ["NGA", "NER"]


def test_partial_birth_dates_give_an_age_range() -> None:
    on = dt.date(2026, 6, 15)
    assert age_range({"year": 2009}, on) == (16, 17)
    assert age_range({"year": 2008, "month": 6}, on) == (17, 18)
    assert age_range({"year": 2000, "month": 1, "day": 1}, on) == (26, 26)
    assert age_range(None, on) == (None, None)


def test_document_fields() -> None:
    doc = enrich(record())
    assert doc["route"]["path"] == "LBY>ITA"
    assert doc["route"]["sub_regions"] == ["Northern Africa", "Southern Europe"]
    assert doc["location"] == {"lat": 35.5, "lon": 12.6} and doc["location_source"] == "message"
    smuggler = doc["persons"][0]
    assert smuggler["phones"][0]["e164"] == "+218912345678"
    assert smuggler["documents"][0]["number_normalised"] == "AB1234567"
    assert "doc:LBY:AB1234567" in doc["identifiers"] and "phone:+218912345678" in doc["identifiers"]
    assert smuggler["name_keys"] == ["al", "hd"]  # Ali Haddad: doubled consonants collapse


def test_minor_and_priority() -> None:
    msg = valid_message()
    msg["persons"][1]["birth_date"] = {"year": 2011}
    msg["incident"]["dead_count"] = 3
    doc = enrich(record(persons=msg["persons"], incident=msg["incident"]))
    assert doc["persons"][1]["is_minor"] and doc["contains_minor_effective"]
    assert doc["counts"]["minors"] == 1 and doc["counts"]["dead"] == 3
    assert doc["priority_score"] == 30 + 20 + 3
    assert doc["priority_reasons"] == ["minor(s) involved: 1", "3 dead"]


def test_country_reference_point_when_no_coordinates() -> None:
    msg = valid_message()
    del msg["route"]["events"][0]["latitude"], msg["route"]["events"][0]["longitude"]
    doc = enrich(record(route=msg["route"]))
    rome = country_info("ITA")
    assert doc["location"] == {"lat": rome.lat, "lon": rome.lon}
    assert doc["location_source"] == "country"


def test_content_hash_ignores_delivery_fields_only() -> None:
    a = record()
    b = {
        **a,
        "message_id": "9a8b7c6d-1111-4222-8333-444455556666",
        "created_at": "2026-10-03T00:00:00.000Z",
    }
    assert content_hash(a) == content_hash(b)
    c = {**a, "operation_name": "ORION"}
    assert content_hash(a) != content_hash(c)
