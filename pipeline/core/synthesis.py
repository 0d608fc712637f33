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
``z >= Z_THRESHOLD`` and a series known for at least the whole baseline (its first
message is ``BASELINE_WINDOWS`` weeks or more before the window), so a route seen for the
first time does not alert on its own history arriving.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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

MEASURES = ("messages", "persons", "victims", "minors", "dead", "missing", "fraudulent_documents",
            "networks_new", "networks_merged")  # fmt: skip


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


def contributions(doc: Mapping[str, Any]) -> list[Contribution]:
    """Every cell a message counts in, with what it adds."""
    day = incident_date(doc)
    measures = measures_of(doc)
    return [
        Contribution(f"{g}|{s}", window_start(day, g).isoformat(), measures)
        for g in GRANULARITIES
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
    return Trend(
        x, baseline, median, mad, round(z, 3), known and x >= MIN_ALERT_COUNT and z >= Z_THRESHOLD
    )


def alert_id(series: str, window: str) -> str:
    """Deterministic alert id: one alert per series and window."""
    return hashlib.sha1(f"alert|{series}|{window}".encode(), usedforsecurity=False).hexdigest()[:24]


def expired(window: str, newest: str, granularity: str, retention_days: int) -> bool:
    """Whether a window is older than the retention, counted back from the series' newest."""
    end = window_end(dt.date.fromisoformat(window), granularity)
    return (dt.date.fromisoformat(newest) - end).days > retention_days
