"""Mapping an IOM Missing Migrants row to an HST message (pure)."""

from __future__ import annotations

import datetime as dt

from pipeline.codec import HST_MESSAGE
from pipeline.codec.schemas import default_store
from pipeline.core.nearest import nearest_country
from pipeline.core.validation import MessageValidator
from pipeline.replay.missing_migrants import row_to_message

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ROW = {
    "Web ID": "52682", "Region of Incident": "Mediterranean", "Reported Date": "January 05, 2020",
    "Number Dead": "4", "Minimum Estimated Number of Missing": "1", "Number of Survivors": "51",
    "Number of Females": "", "Number of Males": "5", "Number of Children": "1",
    "Cause of Death": "Drowning", "Location Description": "Off the coast of Izmir, Turkey",
    "Information Source": "IOM Turkey", "Location Coordinates": "38.610762461670, 26.651187816406",
    "Migration Route": "Eastern Mediterranean", "URL": "https://bit.ly/2ZUlSS1", "Source Quality": "4",
}  # fmt: skip


def test_nearest_country_of_coordinates_at_sea_and_on_land() -> None:
    assert nearest_country(38.61, 26.65) == "TUR"  # off Izmir
    assert nearest_country(35.50, 12.60) == "ITA"  # Lampedusa
    assert nearest_country(31.77, -106.45) == "USA"  # El Paso
    assert nearest_country(-75.0, 0.0) is None  # nothing within range


def test_row_maps_to_a_valid_message_with_counts_place_and_handling() -> None:
    msg = row_to_message(ROW, NOW)
    MessageValidator(default_store().get(HST_MESSAGE).raw).validate(msg, now=NOW)
    assert (
        msg["message_id"] == row_to_message(ROW, NOW)["message_id"]
    )  # deterministic: re-replay = re-send
    assert msg["source_ncb"] == "TUR" and msg["case_refs"] == ["IOM-MMP-52682"]
    assert msg["incident"]["dead_count"] == 4 and msg["incident"]["missing_count"] == 1
    assert (
        msg["incident"]["survivor_count"] == 51 and msg["incident"]["cause_of_death"] == "Drowning"
    )
    event = msg["route"]["events"][0]
    assert (event["event_type"], event["country"], event["date"]) == (
        "DEATH_OR_MISSING",
        "TUR",
        "2020-01-05",
    )
    assert (event["latitude"], event["longitude"]) == (38.610762461670, 26.651187816406)
    assert (
        msg["handling"]["handling_codes"] == ["H0"] and msg["handling"]["source_reliability"] == "A"
    )
    assert msg["handling"]["contains_minor"] is True
    assert "children: 1" in msg["incident"]["narrative"]
