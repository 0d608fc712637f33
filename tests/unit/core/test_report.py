"""Bulletins: only what the recipient may see, no figure under k, figures that add up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.diffusion import bulletin_level
from pipeline.core.report import Bulletin, Scope, build, notice

NCBS = ["ITA", "LBY", "TUR", "GRC", "FRA", "DEU"]
ROUTES = ["LBY>ITA", "TUR>GRC", "TUR>GRC>DEU", "LBY>ITA>FRA"]
REGIONS = ["Northern Africa", "Southern Europe", "Western Asia"]
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
ncb = st.sampled_from(NCBS)


@st.composite
def documents(draw: Any, i: int = 0) -> dict[str, Any]:
    """An indexed message document, with random restrictions and counts."""
    minor = draw(st.booleans())
    persons = draw(st.integers(0, 4))
    day = dt.date(2026, 1, 5) + dt.timedelta(days=draw(st.integers(0, 120)))
    return {
        "message_id": f"m-{draw(st.uuids())}",
        "source_ncb": draw(ncb),
        "event_time": f"{day.isoformat()}T10:00:00+00:00",
        "created_at": f"{day.isoformat()}T12:00:00+00:00",
        "incident_sub_region": draw(st.sampled_from(REGIONS)),
        "location": {"lat": draw(st.sampled_from([32.9, 35.5, 37.9])), "lon": draw(st.sampled_from([13.2, 12.6, 23.7]))},
        "route": {"path": draw(st.sampled_from(ROUTES))},
        "handling": {
            "handling_codes": draw(st.lists(st.sampled_from(["H1", "H2", "H3"]), max_size=2, unique=True)),
            "dissemination_denylist": draw(st.lists(ncb, max_size=2, unique=True)),
            "dissemination_allowlist": draw(st.lists(ncb, max_size=2, unique=True)),
            "contains_minor": minor,
        },
        "counts": {"persons": persons, "victims": draw(st.integers(0, persons)), "minors": int(minor),
                   "dead": draw(st.integers(0, 3)), "missing": draw(st.integers(0, 3)),
                   "suspicious_documents": draw(st.integers(0, 1))},
        "persons": [{"role": draw(st.sampled_from(["VICTIM", "SMUGGLER", "MIGRANT"])), "is_minor": minor and j == 0}
                    for j in range(persons)],
        "network_id": draw(st.sampled_from([None, "net-a", "net-b"])),
    }  # fmt: skip


corpora = st.lists(documents(), min_size=0, max_size=60)
scopes = st.builds(Scope, recipient=st.sampled_from([*NCBS, "GS"]),
                   region=st.sampled_from([None, *REGIONS]), k=st.integers(1, 8))  # fmt: skip
strict = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shown_counts(b: Bulletin) -> list[int]:
    """Every message count a bulletin shows (cells built from that many messages)."""
    out = [b.headline["messages"]] + [c["messages"] for c in b.map_cells]
    out += [r["messages"] for r in b.routes] + [f["messages"] for f in b.flows]
    out += [w["messages"] for w in b.weeks] + [n["messages"] for n in b.networks]
    out += [a["messages"] for a in b.alerts]
    out += [v for a in b.alerts for v in a["baseline"]]
    return [v for v in out if v is not None]


@strict
@given(corpora, scopes, st.data())
def test_excluded_messages_leave_no_trace(
    docs: list[dict[str, Any]], scope: Scope, data: Any
) -> None:
    """Changing or removing any message the recipient may not see changes nothing."""
    excluded = [d for d in docs if bulletin_level(d, scope.recipient) is None]
    allowed = [d for d in docs if bulletin_level(d, scope.recipient) is not None]
    reference = build(allowed, scope, NOW).figures()
    assert build(docs, scope, NOW).figures() == reference
    # Excluded messages with other content (more dead, other routes and places) still leave none.
    altered = [{**d, "route": {"path": data.draw(st.sampled_from(ROUTES))},
                "counts": {**d["counts"], "dead": d["counts"]["dead"] + 50},
                "location": {"lat": -33.9, "lon": 18.4}} for d in excluded]  # fmt: skip
    assert build(allowed + altered, scope, NOW).figures() == reference


@strict
@given(corpora, scopes)
def test_no_figure_is_built_from_fewer_than_k_messages(
    docs: list[dict[str, Any]], scope: Scope
) -> None:
    b = build(docs, scope, NOW)
    assert all(v >= scope.k or v == 0 for v in shown_counts(b))
    # Every week with a message stays in the series; small ones only lose their values.
    for w in b.weeks:
        if w["messages"] is None:
            assert all(w[m] is None for m in ("persons", "victims", "dead", "missing"))


@strict
@given(corpora, st.sampled_from(NCBS))
def test_minors_messages_are_counted_but_never_listed(
    docs: list[dict[str, Any]], recipient: str
) -> None:
    scope = Scope(recipient=recipient, k=1)
    b = build(docs, scope, NOW)
    for n in b.networks:
        members = [d for d in docs if d["network_id"] == n["network_id"]
                   and bulletin_level(d, recipient) == "FULL"]  # fmt: skip
        assert n["messages"] == len(members)
    counted = [d for d in docs if bulletin_level(d, recipient) is not None]
    assert b.messages_used == len(counted)
    assert b.headline["minors"] == sum(d["counts"]["minors"] for d in counted)


def test_figures_add_up_and_the_gs_sees_everything() -> None:
    docs = [
        {"message_id": f"m{i}", "source_ncb": "LBY", "event_time": f"2026-03-{2 + i % 3:02d}T08:00:00Z",
         "created_at": "2026-03-09T00:00:00Z", "incident_sub_region": "Northern Africa",
         "location": {"lat": 32.9, "lon": 13.2}, "route": {"path": "LBY>ITA"},
         "handling": {"handling_codes": ["H2"] if i < 2 else []},
         "counts": {"persons": 2, "victims": 1, "minors": 0, "dead": 1, "missing": 0, "suspicious_documents": 0},
         "persons": [{"role": "VICTIM"}, {"role": "SMUGGLER"}], "network_id": "net-x"}
        for i in range(7)
    ]  # fmt: skip
    asked: list[tuple[str, list[str]]] = []

    def links(network_id: str, message_ids: list[str]) -> dict[str, int]:
        asked.append((network_id, sorted(message_ids)))
        return {"shared_phone": 4, "person_match": 9}

    gs = build(docs, Scope(recipient="GS", region="Northern Africa"), NOW, links)
    assert asked == [("net-x", sorted(d["message_id"] for d in docs))]
    assert gs.headline == {"messages": 7, "persons": 14, "victims": 7, "minors": 0, "dead": 7,
                           "missing": 0, "fraudulent_documents": 0}  # fmt: skip
    assert gs.routes == [{"path": "LBY>ITA", "messages": 7, "persons": 14, "dead": 7, "missing": 0}]
    assert gs.flows[0] | {} == {"origin": "LBY", "destination": "ITA", "messages": 7, "persons": 14}
    assert gs.networks == [{
        "network_id": "net-x", "messages": 7, "persons": 14, "ncbs": ["LBY"],
        "main_route": "LBY>ITA", "main_route_messages": 7, "routes": 1,
        "countries": ["ITA", "LBY"], "first_seen": "2026-03-02", "last_seen": "2026-03-04",
        "roles": {"VICTIM": 7, "SMUGGLER": 7},
        "links": {"person_match": 9, "shared_phone": 4},  # most frequent evidence first
    }]  # fmt: skip
    assert gs.countries == [{"country": "ITA", "messages": 7}, {"country": "LBY", "messages": 7}]
    assert [w["week"] for w in gs.weeks] == ["2026-03-02"] and gs.weeks[0]["messages"] == 7
    assert len(gs.map_cells) == 1 and gs.map_cells[0]["messages"] == 7
    # ITA may not see the two H2 messages: 5 left, still at k = 5; at k = 6 all is suppressed.
    ita = build(docs, Scope(recipient="ITA"), NOW)
    assert ita.headline["messages"] == 5 and ita.networks[0]["messages"] == 5
    ita6 = build(docs, Scope(recipient="ITA", k=6), NOW)
    assert ita6.headline["messages"] is None and not ita6.routes and not ita6.map_cells
    assert not ita6.networks and ita6.suppressed > 0
    # The source sees its own H2 messages.
    assert build(docs, Scope(recipient="LBY"), NOW).headline["messages"] == 7


def test_a_surge_in_scope_alerts_on_visible_messages_only() -> None:
    def doc(i: int, day: dt.date, h2: bool = False) -> dict[str, Any]:
        return {"message_id": f"m{i}", "source_ncb": "TUR", "event_time": f"{day}T08:00:00Z",
                "created_at": f"{day}T09:00:00Z", "incident_sub_region": "Western Asia",
                "route": {"path": "TUR>GRC"}, "handling": {"handling_codes": ["H2"] if h2 else []},
                "counts": {"persons": 1}, "persons": [{"role": "MIGRANT"}]}  # fmt: skip

    start = dt.date(2026, 1, 5)
    steady = [doc(w, start + dt.timedelta(weeks=w)) for w in range(12)]
    surge_day = start + dt.timedelta(weeks=12)
    surge = [doc(100 + i, surge_day, h2=i >= 4) for i in range(12)]
    scope = Scope(recipient="GS", since=surge_day)
    gs = build(steady + surge, scope, NOW)
    assert {(a["dimension"], a["week"], a["messages"]) for a in gs.alerts} == {
        ("route", surge_day.isoformat(), 12), ("region", surge_day.isoformat(), 12)}  # fmt: skip
    # The baseline before --since was read; baseline weeks of one message are suppressed.
    assert gs.alerts[0]["baseline"] == [None] * 8 and gs.headline["messages"] == 12
    # GRC may not see the 8 H2 reports: 4 left in the week, under k, no alert at all.
    assert build(steady + surge, Scope(recipient="GRC", since=surge_day), NOW).alerts == []


def test_a_bulletin_is_diffused_only_to_its_recipient() -> None:
    b = build([], Scope(recipient="ITA"), NOW)
    n = notice(b, NOW)
    assert n["recipient"] == "ITA" and n["kind"] == "SYNTHESIS" and n["reasons"] == ["SYNTHESIS"]
    assert n["source_message_id"] == b.bulletin_id and '"recipient": "ITA"' in n["content_json"]
