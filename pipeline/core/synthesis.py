"""Synthesis: what a message adds to the aggregates, and when a series departs from its baseline.

Pure functions. A message contributes one vector of measures to one cell per granularity
and dimension: ``(granularity, series, window)`` where the series is e.g. ``route:SYR>TUR>GRC``
and the window is the day or ISO week (Monday) of the incident. Aggregates are kept as
the set of contributions per cell (message id -> measures), so a re-processed message
replaces its own contribution and a withdrawn one removes it: counts always equal a
recomputation from the index.

Trend signal: a robust z-score of a weekly cell against the same series' previous
``BASELINE_WINDOWS`` weeks (missing weeks count as zero):
``z = (x - median) / max(1.4826 * MAD, 1)``; an alert needs ``x >= MIN_ALERT_COUNT``,
``z >= Z_THRESHOLD``, an effect large enough to matter, and a series known for at least
the whole baseline (its first message is ``BASELINE_WINDOWS`` weeks or more before the
window), so a route seen for the first time does not alert on its own history arriving.

The effect: ``x - median >= MIN_ALERT_EXCESS`` messages, and ``x`` unlikely under the
baseline's own rate, ``P(X >= x) <= MAX_ALERT_P`` for ``X ~ Poisson(max(mean, median, 1))``.
On sparse series the MAD is floored at 1, so z alone alerted on weeks of 5-6 messages
against a baseline of 1-2; and with some twenty series over a year and a half of weeks,
steady counts pass a z threshold by chance many times. The Poisson tail asks for a count
that chance would give about once in ten thousand weeks of a steady series.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DAY = "day"
WEEK = "week"
GRANULARITIES = (DAY, WEEK)
BASELINE_WINDOWS = 8
Z_THRESHOLD = 3.5
MIN_ALERT_COUNT = 5
MIN_ALERT_EXCESS = 8
MAX_ALERT_P = 1e-4

MEASURES = (
    "messages",
    "persons",
    "victims",
    "minors",
    "dead",
    "missing",
    "fraudulent_documents",
    "networks_new",
    "networks_merged",
)


def incident_date(doc: Mapping[str, Any]) -> dt.date:
    """The day a message's incident happened (``event_time``, else when it was reported)."""
    text = doc.get("event_time") or doc["created_at"]
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(dt.UTC).date()


def window_start(day: dt.date, granularity: str) -> dt.date:
    """First day of the window holding ``day``: itself, or the Monday of its ISO week."""
    return day if granularity == DAY else day - dt.timedelta(days=day.weekday())


def window_end(start: dt.date, granularity: str) -> dt.date:
    """First day after the window."""
    return start + dt.timedelta(days=1 if granularity == DAY else 7)


def series_of(doc: Mapping[str, Any]) -> list[str]:
    """Dimensions a message counts in: route path, incident sub-region, types, and all."""
    out = ["all:all"]
    path = (doc.get("route") or {}).get("path")
    if path:
        out.append(f"route:{path}")
    if doc.get("incident_sub_region"):
        out.append(f"region:{doc['incident_sub_region']}")
    incident = doc.get("incident") or {}
    if incident.get("incident_type"):
        out.append(f"incident_type:{incident['incident_type']}")
    out += [f"exploitation:{t}" for t in sorted(set(incident.get("exploitation_types") or []))]
    return out


def measures_of(doc: Mapping[str, Any]) -> dict[str, int]:
    """What one message adds to a cell: counts, and persons by role (``role:VICTIM``...)."""
    counts = doc.get("counts") or {}
    out = {
        "messages": 1,
        "persons": int(counts.get("persons") or 0),
        "victims": int(counts.get("victims") or 0),
        "minors": int(counts.get("minors") or 0),
        "dead": int(counts.get("dead") or 0),
        "missing": int(counts.get("missing") or 0),
        "fraudulent_documents": int(counts.get("suspicious_documents") or 0),
    }
    for person in doc.get("persons") or []:
        key = f"role:{person.get('role') or 'UNKNOWN'}"
        out[key] = out.get(key, 0) + 1
    return out


@dataclass(frozen=True)
class Contribution:
    """One message's measures in one series and window."""

    series: str  # "<granularity>|<dimension>:<value>"
    window: str  # ISO date of the window start
    measures: dict[str, int]


def contributions(
    doc: Mapping[str, Any], granularities: Iterable[str] = GRANULARITIES
) -> list[Contribution]:
    """Every cell a message counts in, with what it adds."""
    day = incident_date(doc)
    measures = measures_of(doc)
    return [
        Contribution(f"{g}|{s}", window_start(day, g).isoformat(), measures)
        for g in granularities
        for s in series_of(doc)
    ]


def total(members: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Sum of contributions (every measure present, zeros included)."""
    out = dict.fromkeys(MEASURES, 0)
    for m in members:
        for k, v in m.items():
            out[k] = out.get(k, 0) + int(v)
    return out


def cell_id(series: str, window: str) -> str:
    """Document id of a cell in the synthesis index."""
    return hashlib.sha1(f"{series}|{window}".encode(), usedforsecurity=False).hexdigest()[:24]


@dataclass(frozen=True)
class Trend:
    """A weekly cell against its baseline."""

    count: int
    baseline: list[int]
    median: float
    mad: float
    z: float
    alert: bool
    p: float = 1.0  # P(X >= count) under the baseline's Poisson rate


def poisson_tail(x: int, rate: float) -> float:
    """``P(X >= x)`` for ``X ~ Poisson(rate)``."""
    if x <= 0:
        return 1.0
    below, term = 0.0, math.exp(-rate)
    for i in range(x):
        below += term
        term *= rate / (i + 1)
    return max(0.0, 1.0 - below)


def trend(series_windows: Mapping[str, int], window: str, first_seen: str) -> Trend:
    """Robust z-score of ``window`` against the previous ``BASELINE_WINDOWS`` weeks."""
    start = dt.date.fromisoformat(window)
    previous = [(start - dt.timedelta(weeks=i)).isoformat() for i in range(BASELINE_WINDOWS, 0, -1)]
    baseline = [int(series_windows.get(w, 0)) for w in previous]
    x = int(series_windows.get(window, 0))
    median = float(statistics.median(baseline))
    mad = float(statistics.median(abs(b - median) for b in baseline))
    z = (x - median) / max(1.4826 * mad, 1.0)
    known = first_seen <= previous[0]
    p = poisson_tail(x, max(statistics.fmean(baseline), median, 1.0))
    large = x - median >= MIN_ALERT_EXCESS and p <= MAX_ALERT_P
    alert = known and large and x >= MIN_ALERT_COUNT and z >= Z_THRESHOLD
    return Trend(x, baseline, median, mad, round(z, 3), alert, p)


def alert_id(series: str, window: str) -> str:
    """Deterministic alert id: one alert per series and window."""
    return hashlib.sha1(f"alert|{series}|{window}".encode(), usedforsecurity=False).hexdigest()[:24]


def expired(window: str, newest: str, granularity: str, retention_days: int) -> bool:
    """Whether a window is older than the retention, counted back from the series' newest."""
    end = window_end(dt.date.fromisoformat(window), granularity)
    return (dt.date.fromisoformat(newest) - end).days > retention_days


def cell_record(
    series: str, window: str, measures: dict[str, int], now: dt.datetime
) -> dict[str, Any]:
    """An Avro ``SynthesisRecord`` datum (and search document) of one cell."""
    granularity, _, dim = series.partition("|")
    dimension, _, value = dim.partition(":")
    start = dt.date.fromisoformat(window)
    return {
        "record_id": cell_id(series, window),
        "kind": "CELL",
        "granularity": granularity,
        "series": series,
        "dimension": dimension,
        "value": value,
        "window_start": window,
        "window_end": window_end(start, granularity).isoformat(),
        "measures": measures,
        "z": None,
        "median": None,
        "mad": None,
        "baseline": [],
        "reason": None,
        "created_at": now,
    }


def alert_record(cell: dict[str, Any], t: Trend) -> dict[str, Any]:
    """The alert on a weekly cell, with the numbers behind it."""
    reason = (
        f"{t.count} messages in the week of {cell['window_start']} on {cell['dimension']} "
        f"{cell['value']}; previous {len(t.baseline)} weeks {t.baseline} "
        f"(median {t.median:g}, MAD {t.mad:g}): robust z = {t.z:.1f}"
    )
    record_id = alert_id(cell["series"], cell["window_start"])
    return {
        **cell,
        "record_id": record_id,
        "kind": "ALERT",
        "z": t.z,
        "median": t.median,
        "mad": t.mad,
        "baseline": t.baseline,
        "reason": reason,
    }


@dataclass
class SeriesUpdate:
    """What new totals did to one series: records to write, ids to delete, its new state."""

    state: dict[str, Any]
    records: list[dict[str, Any]]  # cells with messages, and alerts raised or updated
    deleted: list[
        str
    ]  # record ids that leave the index (emptied or expired cells, retracted alerts)
    expired: list[str]  # windows past the retention: their members are dropped
    raised: int = 0
    retracted: int = 0


def update_series(
    series: str,
    state: Mapping[str, Any] | None,
    cells: Mapping[str, dict[str, int]],
    retention_days: int,
    now: dt.datetime,
) -> SeriesUpdate:
    """Apply the new totals of some windows of ``series`` (``cells``: window -> totals).

    Windows past the retention expire; a window whose contributions were all withdrawn
    leaves the index; on weekly series an alert is raised (or re-written with the window's
    current numbers) when the trend says so, and retracted when withdrawals take it back.
    """
    state = state or {"windows": {}, "first": None, "alerted": []}
    counts: dict[str, int] = dict(state["windows"])
    current = dict(cells)
    for window, measures in current.items():
        if measures["messages"]:
            counts[window] = measures["messages"]
        else:
            counts.pop(window, None)
    granularity = series.partition("|")[0]
    newest = max(counts, default=None)
    gone = [w for w in counts if newest and expired(w, newest, granularity, retention_days)]
    deleted = []
    for window in gone:
        counts.pop(window)
        current.pop(window, None)
        deleted.append(cell_id(series, window))
    first = min([w for w in (state["first"], *counts) if w], default=None)
    alerted = list(state["alerted"])
    update = SeriesUpdate({}, [], deleted, gone)
    for window, measures in sorted(current.items()):
        record = cell_record(series, window, measures, now)
        if measures["messages"]:
            update.records.append(record)
        else:  # every contribution withdrawn
            deleted.append(record["record_id"])
        if granularity != WEEK or first is None:
            continue
        t = trend(counts, window, first)
        if t.alert:  # raised, or updated with the window's current numbers
            if window not in alerted:
                alerted.append(window)
                update.raised += 1
            update.records.append(alert_record(record, t))
        elif window in alerted:  # withdrawals took the window back under the bar
            alerted.remove(window)
            deleted.append(alert_id(series, window))
            update.retracted += 1
    update.state = {"windows": counts, "first": first, "alerted": alerted}
    return update
