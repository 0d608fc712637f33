"""Synthesis rules: windows, what a message adds, and the trend signal (pure)."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.synthesis import (
    BASELINE_WINDOWS,
    DAY,
    MAX_ALERT_P,
    MIN_ALERT_COUNT,
    MIN_ALERT_EXCESS,
    WEEK,
    contributions,
    expired,
    measures_of,
    series_of,
    total,
    trend,
    window_end,
    window_start,
)

DOC = {
    "message_id": "m1",
    "created_at": "2026-03-20T10:00:00Z",
    "event_time": "2026-03-18T23:30:00-02:00",  # 19 March in UTC
    "route": {"path": "SYR>TUR>GRC"},
    "incident_sub_region": "Southern Europe",
    "incident": {
        "incident_type": "TRAFFICKING",
        "exploitation_types": ["FORCED_LABOUR", "FORCED_LABOUR"],
    },
    "counts": {
        "persons": 3,
        "victims": 2,
        "minors": 1,
        "dead": 0,
        "missing": 1,
        "suspicious_documents": 1,
    },
    "persons": [{"role": "VICTIM"}, {"role": "VICTIM"}, {"role": "TRAFFICKER"}],
}


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
def test_a_day_lies_in_exactly_one_week_starting_on_monday(day: dt.date) -> None:
    start = window_start(day, WEEK)
    assert start.weekday() == 0 and start <= day < window_end(start, WEEK)
    assert window_start(day, DAY) == day and window_end(day, DAY) == day + dt.timedelta(days=1)


def test_a_message_counts_once_per_granularity_and_dimension() -> None:
    cells = contributions(DOC)
    assert {c.window for c in cells} == {"2026-03-19", "2026-03-16"}  # the UTC day; its Monday
    assert sorted(series_of(DOC)) == sorted(
        [
            "all:all",
            "route:SYR>TUR>GRC",
            "region:Southern Europe",
            "incident_type:TRAFFICKING",
            "exploitation:FORCED_LABOUR",
        ]
    )
    assert len(cells) == 2 * 5
    m = measures_of(DOC)
    assert m == {
        "messages": 1,
        "persons": 3,
        "victims": 2,
        "minors": 1,
        "dead": 0,
        "missing": 1,
        "fraudulent_documents": 1,
        "role:VICTIM": 2,
        "role:TRAFFICKER": 1,
    }


def test_totals_add_up_and_keep_every_measure() -> None:
    t = total([measures_of(DOC), measures_of(DOC)])
    assert t["messages"] == 2 and t["role:VICTIM"] == 4 and t["dead"] == 0


def _weeks(counts: list[int], start: str = "2026-01-05") -> dict[str, int]:
    first = dt.date.fromisoformat(start)
    return {(first + dt.timedelta(weeks=i)).isoformat(): c for i, c in enumerate(counts) if c}


def test_a_surge_on_a_known_series_alerts_with_its_numbers() -> None:
    series = _weeks([1, 2, 1, 0, 2, 1, 1, 2, 30])
    t = trend(series, "2026-03-02", first_seen="2026-01-05")
    assert t.alert and t.count == 30 and t.baseline == [1, 2, 1, 0, 2, 1, 1, 2] and t.z > 10


def test_no_alert_on_a_steady_series_a_new_one_or_a_small_count() -> None:
    steady = _weeks([6, 7, 5, 6, 8, 6, 7, 6, 8])
    assert not trend(steady, "2026-03-02", "2026-01-05").alert
    new = _weeks([0] * BASELINE_WINDOWS + [30])  # its history may not have arrived yet
    assert not trend(new, "2026-03-02", "2026-03-02").alert
    small = _weeks([0] * BASELINE_WINDOWS + [MIN_ALERT_COUNT - 1])
    assert not trend(small, "2026-03-02", "2025-01-06").alert


def test_no_alert_without_an_effect_an_analyst_would_act_on() -> None:
    # A sparse series: z is large (the MAD is floored at 1) but 6 against 1-2 is noise.
    sparse = _weeks([1, 2, 1, 0, 2, 1, 1, 2, 6])
    t = trend(sparse, "2026-03-02", "2025-01-06")
    assert t.z >= 3.5 and not t.alert
    # A busy, very steady series: +12 % is beyond its tiny spread but within chance.
    busy = _weeks([100, 101, 100, 99, 100, 101, 100, 100, 112])
    t = trend(busy, "2026-03-02", "2025-01-06")
    assert t.z >= 3.5 and not t.alert
    # A steady series of about 6 a week: 14 happens by chance over a year of weeks.
    chance = trend(_weeks([6, 5, 7, 6, 4, 6, 8, 6, 14]), "2026-03-02", "2025-01-06")
    assert chance.z >= 3.5 and chance.count - chance.median >= MIN_ALERT_EXCESS
    assert not chance.alert and chance.p > MAX_ALERT_P
    # Those series doubling or more are surges.
    assert trend(_weeks([1, 2, 1, 0, 2, 1, 1, 2, 12]), "2026-03-02", "2025-01-06").alert
    assert trend(_weeks([6, 5, 7, 6, 4, 6, 8, 6, 24]), "2026-03-02", "2025-01-06").alert


def test_the_poisson_tail() -> None:
    from pipeline.core.synthesis import poisson_tail

    assert poisson_tail(0, 3.0) == 1.0
    assert abs(poisson_tail(1, 3.0) - (1 - math.exp(-3))) < 1e-12
    assert poisson_tail(18, 6.0) <= 1e-4 < poisson_tail(17, 6.0)


@given(st.lists(st.integers(0, 50), min_size=BASELINE_WINDOWS + 1, max_size=BASELINE_WINDOWS + 1))
def test_an_alert_needs_a_count_above_every_robust_bound(counts: list[int]) -> None:
    t = trend(_weeks(counts), "2026-03-02", "2025-01-06")
    if t.alert:
        assert t.count >= MIN_ALERT_COUNT and t.count > t.median and t.z >= 3.5
        assert t.count - t.median >= MIN_ALERT_EXCESS and t.p <= MAX_ALERT_P


def test_windows_expire_counted_back_from_the_newest() -> None:
    assert expired("2024-01-01", "2026-03-02", WEEK, 730)
    assert not expired("2025-01-06", "2026-03-02", WEEK, 730)


def test_update_series_raises_an_alert_with_its_baseline_and_retracts_it_when_the_week_falls_back() -> (
    None
):
    import datetime as dt

    from pipeline.core.synthesis import alert_id, update_series

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    series = "week|route:NGA>ITA"
    weeks = [(dt.date(2025, 1, 6) + dt.timedelta(weeks=i)).isoformat() for i in range(10)]
    state = {"windows": {w: 1 for w in weeks[:9]}, "first": weeks[0], "alerted": []}
    spike = update_series(series, state, {weeks[9]: {"messages": 12}}, 365, now)
    [alert] = [r for r in spike.records if r["kind"] == "ALERT"]
    assert alert["baseline"] == [1] * 8 and "12 messages" in alert["reason"]
    assert spike.raised == 1 and spike.state["alerted"] == [weeks[9]]
    back = update_series(series, spike.state, {weeks[9]: {"messages": 1}}, 365, now)
    assert alert_id(series, weeks[9]) in back.deleted and back.retracted == 1
    assert back.state["alerted"] == []


def test_update_series_expires_windows_past_the_retention_and_deletes_emptied_cells() -> None:
    import datetime as dt

    from pipeline.core.synthesis import cell_id, update_series

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    series = "day|all"
    state = {"windows": {"2025-01-01": 3, "2025-06-01": 2}, "first": "2025-01-01", "alerted": []}
    update = update_series(
        series, state, {"2025-06-02": {"messages": 1}, "2025-06-01": {"messages": 0}}, 30, now
    )
    assert update.expired == ["2025-01-01"]
    assert set(update.deleted) == {cell_id(series, "2025-01-01"), cell_id(series, "2025-06-01")}
    assert update.state["windows"] == {"2025-06-02": 1}
    assert [r["window_start"] for r in update.records] == ["2025-06-02"]
