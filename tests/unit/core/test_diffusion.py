"""Diffusion policy: the source's restrictions bind every notice (property-based)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.diffusion import (
    FULL,
    GS,
    HIT,
    HIT_ON_YOUR_MESSAGE,
    ROUTE_COUNTRY,
    LinkedOwner,
    decide,
    minimise,
    withdrawal,
)

NCBS = ["ITA", "LBY", "TUR", "GRC", "DEU", "SYR", "NGA", "FRA", "ESP", "MAR"]
ncb = st.sampled_from(NCBS)

PERSON_DETAILS = ("Amina", "P1234567", "+393331234567", "1990-05-17")


def person(minor: bool) -> dict[str, Any]:
    return {
        "person_id": "P1",
        "role": "VICTIM",
        "full_name": "Amina Yusuf",
        "is_minor": minor,
        "birth_date": "1990-05-17",
        "phones": [{"e164": "+393331234567"}],
        "documents": [{"number_normalised": "P1234567", "issuing_country": "NGA"}],
    }


@st.composite
def messages(draw: Any) -> dict[str, Any]:
    route = draw(st.lists(ncb, min_size=1, max_size=5, unique=True))
    minor = draw(st.booleans())
    return {
        "message_id": "m-new",
        "source_ncb": draw(ncb),
        # As enriched: ``path`` is a string, ``countries`` the list (a bug once iterated the path).
        "route": {
            "origin_country": route[0],
            "transit_countries": route[1:-1],
            "destination_country": route[-1],
            "path": ">".join(route),
            "countries": route,
        },
        "handling": {
            "handling_codes": draw(
                st.lists(st.sampled_from(["H0", "H1", "H2", "H3"]), max_size=2, unique=True)
            ),
            "dissemination_denylist": draw(st.lists(ncb, max_size=3, unique=True)),
            "dissemination_allowlist": draw(st.lists(ncb, max_size=3, unique=True)),
            "contains_minor": draw(st.booleans()) and minor,
        },
        "contains_minor_effective": minor,
        "incident": {
            "incident_type": "TRAFFICKING",
            "narrative": "Amina, 15, recruited in Benin City",
        },
        "persons": [person(draw(st.booleans()) and minor)],
    }


owners = st.lists(st.builds(LinkedOwner, ncb, st.just("m-old"), st.just(("L1",))), max_size=3)
LINKS = [
    {
        "link_id": "L1",
        "kind": "strong_identifier",
        "score": 1.0,
        "message_ids": ["m-old", "m-new"],
        "evidence": ["same travel document NGA:P1234567"],
        "a": "m-old/P1",
        "b": "m-new/P1",
    }
]


@settings(max_examples=400, deadline=None)
@given(messages(), owners, st.booleans())
def test_no_notice_reaches_an_excluded_recipient(
    doc: dict[str, Any], linked: list[LinkedOwner], screening: bool
) -> None:
    handling = doc["handling"]
    decisions = decide(doc, linked, screening)
    ncb_recipients = {d.recipient for d in decisions} - {GS}
    assert doc["source_ncb"] not in ncb_recipients
    assert not ncb_recipients & set(handling["dissemination_denylist"])
    if handling["dissemination_allowlist"]:
        assert ncb_recipients <= set(handling["dissemination_allowlist"])
    if "H2" in handling["handling_codes"]:
        for d in decisions:
            if d.recipient != GS:
                assert d.level == HIT and d.reasons == (HIT_ON_YOUR_MESSAGE,)
    assert len({d.recipient for d in decisions}) == len(decisions)  # one notice per recipient
    assert decisions[0].recipient == GS and decisions[0].level == FULL
    assert ncb_recipients <= set(NCBS)  # real NCB codes only


@settings(max_examples=400, deadline=None)
@given(messages(), owners)
def test_minors_details_never_leave(doc: dict[str, Any], linked: list[LinkedOwner]) -> None:
    for d in decide(doc, linked):
        if d.recipient == GS:
            continue
        content = orjson.dumps(minimise(doc, d.level, LINKS)).decode()
        if doc["contains_minor_effective"] or doc["handling"]["contains_minor"]:
            assert d.level == HIT
            assert not any(detail in content for detail in PERSON_DETAILS)
        if d.level == HIT:
            assert (
                "persons" not in content
                and "evidence" not in content
                and "narrative" not in content
            )


def test_route_countries_and_owners_receive_with_their_reasons() -> None:
    doc = {
        "message_id": "m",
        "source_ncb": "ITA",
        "handling": {"handling_codes": ["H1"]},
        "route": {
            "origin_country": "NGA",
            "transit_countries": ["LBY"],
            "destination_country": "ITA",
        },
        "persons": [person(False)],
    }
    got = {
        d.recipient: (d.reasons, d.level)
        for d in decide(doc, [LinkedOwner("LBY", "m0"), LinkedOwner("FRA", "m1")])
    }
    assert got == {
        GS: (("GENERAL_SECRETARIAT",), FULL),
        "NGA": ((ROUTE_COUNTRY,), FULL),
        "LBY": ((ROUTE_COUNTRY, HIT_ON_YOUR_MESSAGE), FULL),
        "FRA": ((HIT_ON_YOUR_MESSAGE,), FULL),
    }
    full = minimise(doc, FULL, LINKS)
    assert "handling" not in full and full["links"] == LINKS


def test_withdrawal_reaches_exactly_the_previous_recipients() -> None:
    assert [d.recipient for d in withdrawal(["NGA", GS, "LBY", "NGA"])] == [GS, "LBY", "NGA"]


def test_full_content_names_no_linked_message_the_notice_does_not_carry() -> None:
    # The indexed document lists every message it is linked to, including other NCBs'
    # messages under their own restrictions: a notice names only those of its own links.
    doc = {
        "message_id": "m-new",
        "source_ncb": "ITA",
        "handling": {"handling_codes": ["H1"]},
        "linked_message_ids": ["m-old", "m-restricted"],
    }
    assert minimise(doc, FULL, LINKS)["linked_message_ids"] == ["m-old"]
    assert minimise(doc, FULL, [])["linked_message_ids"] == []
    assert "linked_message_ids" not in minimise(doc, HIT, LINKS)


def test_a_notice_keeps_its_id_when_sent_again_and_a_counts_level_carries_no_content() -> None:
    import datetime as dt

    from pipeline.core.diffusion import FULL, HIT, Decision, build_notice

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    doc = {"message_id": "m1", "source_ncb": "ITA", "network_id": "NET-1", "persons": []}
    link = {
        "link_id": "L",
        "kind": "x",
        "score": 1,
        "message_ids": ["m1", "m2"],
        "ncbs": ["ITA", "FRA"],
        "reason": "same phone",
        "evidence": ["+1"],
    }
    full = build_notice(Decision("FRA", ("HIT_ON_YOUR_MESSAGE",), FULL), "LINK", doc, [link], now)
    assert full == build_notice(
        Decision("FRA", ("HIT_ON_YOUR_MESSAGE",), FULL), "LINK", doc, [link], now
    )
    hit = build_notice(Decision("FRA", ("HIT_ON_YOUR_MESSAGE",), HIT), "LINK", doc, [link], now)
    assert full["content_json"] and full["network_id"] == "NET-1" and full["links"][0]["evidence"]
    assert (
        hit["content_json"] is None
        and hit["network_id"] is None
        and hit["links"][0]["evidence"] == []
    )
    assert (
        hit["notice_id"]
        != build_notice(Decision("GS", (), HIT), "LINK", doc, [link], now)["notice_id"]
    )
