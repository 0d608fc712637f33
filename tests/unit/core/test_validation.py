"""Gateway validation: every bad field is named with its path and reason."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pipeline.codec import HST_MESSAGE
from pipeline.codec.schemas import default_store
from pipeline.core.validation import Limits, MessageValidator, ValidationError

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def valid_message() -> dict[str, Any]:
    return {
        "message_id": "0b5e7a52-8c1b-4d47-9a43-3f8f8d0f4a11",
        "source_ncb": "ITA",
        "created_at": "2026-10-02T09:30:00Z",
        "event_time": "2026-09-30T22:15:00+02:00",
        "action": "CREATE",
        "handling": {"handling_codes": ["H1"], "source_reliability": "B", "information_accuracy": 2},
        "incident": {"incident_type": "SMUGGLING", "narrative": "Boat intercepted.", "narrative_language": "en"},
        "route": {"origin_country": "LBY", "destination_country": "ITA",
                  "events": [{"event_type": "INTERCEPTION", "country": "ITA", "place": "Lampedusa",
                              "date": "2026-09-30", "latitude": 35.5, "longitude": 12.6}]},
        "persons": [
            {"person_id": "P1", "role": "SMUGGLER", "name": {"given_name": "Ali", "family_name": "Haddad"},
             "birth_date": {"year": 1988}, "nationalities": ["LBY"],
             "phones": [{"number": "+218 91 234 5678"}],
             "documents": [{"document_type": "PASSPORT", "number": "AB1234567", "issuing_country": "LBY"}]},
            {"person_id": "P2", "role": "SMUGGLED_MIGRANT", "name": {"given_name": "Joy", "family_name": "Eze"},
             "links": [{"person_id": "P1", "relation": "SMUGGLED_BY"}]},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def validator() -> MessageValidator:
    return MessageValidator(default_store().get(HST_MESSAGE).raw, Limits(max_narrative_chars=1000))


def errors_of(validator: MessageValidator, msg: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        validator.validate(msg, now=NOW, **kw)
    return {e.path: e.reason for e in info.value.errors}


def test_valid_message_passes_and_is_normalised(validator: MessageValidator) -> None:
    record = validator.validate(valid_message(), now=NOW, expected_ncb="ITA")
    assert record["event_time"] == dt.datetime(2026, 9, 30, 20, 15, tzinfo=dt.UTC)
    assert record["route"]["events"][0]["date"] == dt.date(2026, 9, 30)
    assert record["persons"][1]["sex"] == "UNKNOWN"  # schema default filled in
    assert record["handling"]["contains_minor"] is False


def mutate(path: str, value: Any) -> dict[str, Any]:
    msg = copy.deepcopy(valid_message())
    target: Any = msg
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    target[int(last) if last.isdigit() else last] = value
    return msg


@pytest.mark.parametrize(
    ("path", "value", "expected_path", "reason"),
    [
        ("incident.dead_count", "three", "incident.dead_count", "expected int, got string 'three'"),
        ("created_at", 12.5, "created_at", "expected an ISO-8601 timestamp"),
        ("created_at", "2026-10-02T09:30:00", "created_at", "has no time zone"),
        ("action", "DELETE", "action", "'DELETE' is not one of: CREATE, UPDATE, WITHDRAW"),
        ("persons.0.role", "BOSS", "persons[0].role", "'BOSS' is not one of"),
        ("route.origin_country", "LBA", "route.origin_country", "'LBA' is not an ISO 3166-1 alpha-3"),
        ("persons.0.documents.0.issuing_country", "ly", "persons[0].documents[0].issuing_country", "not an ISO 3166-1"),
        ("message_id", "not-a-uuid", "message_id", "not a canonical UUID"),
        ("created_at", "2027-01-01T00:00:00Z", "created_at", "is in the future"),
        ("event_time", "2026-10-05T00:00:00Z", "event_time", "is after created_at"),
        ("persons.0.birth_date", {"year": 1990, "month": 2, "day": 30}, "persons[0].birth_date.day", "has no day 30"),
        ("persons.1.links.0.person_id", "P9", "persons[1].links[0].person_id", "names no person"),
        ("route.events.0.latitude", 123.0, "route.events[0].latitude", "outside -90..90"),
        ("incident.narrative", "x" * 1001, "incident.narrative", "1001 characters exceed the limit of 1000"),
        ("incident.narrative_language", "english", "incident.narrative_language", "not an ISO 639-1"),
        ("handling.information_accuracy", 7, "handling.information_accuracy", "7 is not 1-4"),
        ("persons.0.surname", "X", "persons[0].surname", "unknown field"),
    ],
)  # fmt: skip
def test_bad_field_is_named_with_reason(
    validator: MessageValidator, path: str, value: Any, expected_path: str, reason: str
) -> None:
    errors = errors_of(validator, mutate(path, value))
    assert expected_path in errors, errors
    assert reason in errors[expected_path]


def test_missing_required_field(validator: MessageValidator) -> None:
    msg = valid_message()
    del msg["incident"]
    assert errors_of(validator, msg) == {"incident": "required field missing (Incident)"}


def test_source_ncb_must_be_the_sender(validator: MessageValidator) -> None:
    errors = errors_of(validator, valid_message(), expected_ncb="FRA")
    assert errors == {"source_ncb": "'ITA' does not match the sending NCB 'FRA'"}


def test_update_needs_what_it_supersedes(validator: MessageValidator) -> None:
    errors = errors_of(validator, mutate("action", "UPDATE"))
    assert errors == {"supersedes_message_id": "required when action is UPDATE"}


def test_all_errors_are_reported_at_once(validator: MessageValidator) -> None:
    msg = mutate("action", "NOPE")
    msg["source_ncb"] = "ZZZ"
    msg["persons"][0]["nationalities"] = ["QQQ"]
    errors = errors_of(validator, msg)
    assert set(errors) == {"action", "source_ncb", "persons[0].nationalities[0]"}


def test_not_an_object(validator: MessageValidator) -> None:
    assert errors_of(validator, ["a"]) == {"": "expected an object, got array"}


def test_check_record_applies_the_same_rules_to_decoded_records(
    validator: MessageValidator,
) -> None:
    record = validator.validate(valid_message(), now=NOW)
    record["source_ncb"] = "FRA"
    with pytest.raises(ValidationError, match="does not match the sending NCB 'ITA'"):
        validator.check_record(record, now=NOW, expected_ncb="ITA")


def test_message_ids_are_stored_in_lower_case(validator: MessageValidator) -> None:
    m = valid_message()
    m["message_id"] = m["message_id"].upper()
    m["action"] = "UPDATE"
    m["supersedes_message_id"] = "AAAAAAAA-8C1B-4D47-9A43-3F8F8D0F4A11"
    record = validator.validate(m, now=NOW)
    assert record["message_id"] == "0b5e7a52-8c1b-4d47-9a43-3f8f8d0f4a11"
    assert record["supersedes_message_id"] == "aaaaaaaa-8c1b-4d47-9a43-3f8f8d0f4a11"


def test_a_control_character_in_a_name_is_refused(validator: MessageValidator) -> None:
    m = valid_message()
    m["persons"][0]["name"]["family_name"] = "Zorg\x00lub"
    with pytest.raises(ValidationError) as info:
        validator.validate(m, now=NOW)
    assert [(e.path, e.reason) for e in info.value.errors] == [
        ("persons[0].name.family_name", "contains the control character U+0000")
    ]


def test_an_encoded_record_over_the_limit_is_refused() -> None:
    from pipeline.core.validation import size_error

    limits = Limits(max_record_bytes=1000)
    assert size_error(1000, limits) is None
    error = size_error(1001, limits)
    assert (
        error is not None
        and error.reason == "encoded record of 1,001 bytes exceeds the limit of 1,000"
    )


@pytest.mark.parametrize("millis", [67768036191676796000, 9223372036854775296000, -(10**20)])
def test_epoch_milliseconds_out_of_range_are_a_field_error_not_a_crash(
    validator: MessageValidator, millis: int
) -> None:
    # Found by the fuzz suite: the platform's time_t overflowed inside the coercer.
    msg = {**valid_message(), "created_at": millis}
    assert "out of range" in errors_of(validator, msg)["created_at"]
