"""Watch lists: documented formats, per-field errors, hits on the identifiers messages carry."""

from __future__ import annotations

import pytest

from pipeline.core.screening import (
    HIT_PRIORITY,
    WatchIndex,
    WatchListError,
    apply_screening,
    parse_watchlist,
)

CSV = """kind,value,country,platform,reference,note
document,ab 123-4567,NGA,,SLTD-991,reported stolen 2025
vessel_imo,9123456,,,,
phone,333 123 4567,ITA,,,
account,@Smuggler_Joe,,Telegram,,
plate,AB-123-CD,FRA,,,
"""


def test_csv_entries_match_the_normalised_identifiers_of_messages() -> None:
    index = WatchIndex(parse_watchlist(CSV, "sltd", "sltd.csv", "csv"))
    assert len(index) == 5
    doc = {"identifiers": ["doc:NGA:AB1234567", "imo:9123456", "phone:+393331234567",
                           "account:telegram:smuggler_joe", "plate:FRA:AB123CD", "email:x@y.z"]}  # fmt: skip
    hits = index.screen(doc)
    assert {h["identifier"] for h in hits} == set(doc["identifiers"]) - {"email:x@y.z"}
    stolen = next(h for h in hits if h["kind"] == "document")
    assert stolen["list"] == "sltd" and stolen["reference"] == "SLTD-991"


def test_json_lists_work_the_same() -> None:
    text = '[{"kind": "email", "value": "Boss@Example.org", "note": "coordinator"}]'
    [entry] = parse_watchlist(text, "wanted", "wanted.json", "json")
    assert entry.identifier == "email:boss@example.org"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("document,P123,,,,", "entry 1, field 'country': country is required for a document"),
        ("document,P123,XX,,,", "entry 1, field 'country': 'XX' is not an ISO 3166-1 alpha-3 code"),
        ("passport,P123,ITA,,,", "entry 1, field 'kind': kind must be one of"),
        ("phone,12,ITA,,,", "entry 1, field 'value': '12' is not a valid phone number"),
        ("account,joe,,,,", "entry 1, field 'platform': platform is required"),
        ("email,,,,,", "entry 1, field 'value': value is empty"),
    ],
)
def test_bad_entries_name_the_file_entry_and_field(row: str, message: str) -> None:
    with pytest.raises(WatchListError) as info:
        parse_watchlist(
            f"kind,value,country,platform,reference,note\n{row}\n", "l", "lists/l.csv", "csv"
        )
    assert str(info.value).startswith("lists/l.csv, ") and message in str(info.value)


def test_a_header_without_kind_and_value_is_refused() -> None:
    with pytest.raises(WatchListError, match="header must name"):
        parse_watchlist("type,number\nx,y\n", "l", "l.csv", "csv")


def test_a_hit_raises_priority_with_its_reason() -> None:
    doc = {"priority_score": 20, "priority_reasons": ["trafficking in persons"]}
    apply_screening(doc, [{"list": "sltd"}])
    assert doc["priority_score"] == 20 + HIT_PRIORITY
    assert doc["priority_reasons"][-1] == "watch-list hit: sltd"
    clean = {"priority_score": 20, "priority_reasons": []}
    apply_screening(clean, [])
    assert clean == {"priority_score": 20, "priority_reasons": [], "screening": []}
