"""Analytical bulletins: the figures a recipient NCB may see, small cells suppressed (pure).

A bulletin for a recipient is built only from the messages the source restrictions let it
see (``diffusion.bulletin_level``: deny/allow lists, ``H2``, minors as counts only), then
every aggregate cell built from fewer than ``k`` messages is suppressed (shown as
``None``, rendered "< k"), so no individual incident can be singled out.

Figures (each has its definition in ``DEFINITIONS``):

- headline: messages, persons, victims, minors, dead, missing, fraudulent documents;
- map: messages per cell of ``MAP_CELL_DEGREES`` degrees of the incident place;
- countries: messages whose route crosses each country (the map shades them);
- routes: messages per full country path, transits included; flows: per origin ->
  destination pair, whatever the transits (the page shows them as a matrix);
- weeks: per ISO week (Monday) of the incident;
- networks: the largest cross-matched networks (visible, non-minor messages only), each
  described by size, reporting NCBs, main route, first and last seen, roles and links by
  kind of evidence;
- alerts: the trend rule of ``core.synthesis`` (robust z-score and a minimum effect)
  recomputed on the visible messages per route and region, so no restricted message can
  raise or shape an alert; the ``MAX_ALERTS`` strongest, each with its baseline.

Known limit: suppression is primary only (no complementary suppression), so a figure
may in rare cases be inferred by subtracting shown figures from a shown total.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.core.diffusion import COUNTS, FULL, bulletin_level, route_countries
from pipeline.core.synthesis import (
    BASELINE_WINDOWS,
    MAX_ALERT_P,
    MIN_ALERT_COUNT,
    MIN_ALERT_EXCESS,
    WEEK,
    Z_THRESHOLD,
    incident_date,
    measures_of,
    trend,
    window_start,
)

K_DEFAULT = 5
MAP_CELL_DEGREES = 2.0
TOP = 10
MAX_ALERTS = 10
MAX_FLOWS = 64
HEADLINE = ("messages", "persons", "victims", "minors", "dead", "missing", "fraudulent_documents")
WEEKLY = ("messages", "persons", "victims", "dead", "missing")

DEFINITIONS: dict[str, str] = {
    "headline": "Totals over the messages in scope that the recipient may see: one per "
    "message as indexed (re-sends and content duplicates counted once, updates as their "
    "latest version, withdrawals removed); persons, victims and minors as reported; dead "
    "and missing from the incident counts; fraudulent documents flagged on persons.",
    "map": "Messages per {deg:g}-degree cell of the incident place (coordinates given by the "
    "message, else the country's reference point); cells of fewer than k messages are not drawn.",
    "countries": "Messages whose route (origin, transits, destination) crosses the "
    "country; countries of fewer than k messages are not shaded.",
    "routes": "Messages per full route (origin > transit countries > destination).",
    "flows": "Messages per origin -> destination pair, whatever the transits: rows are "
    "origins, columns destinations; a blank cell has fewer than k messages or none.",
    "weeks": "Messages, persons, victims, dead and missing per ISO week (Monday) of the "
    "incident date (event time, else the report's creation).",
    "networks": "Cross-matched networks (messages linked by shared identifiers or matched "
    "persons) by number of messages in scope: persons reported, reporting NCBs, the most "
    "frequent route, first and last incident, roles of the persons, and the links between "
    "their messages by kind of evidence. Messages involving minors are counted in figures "
    "but never listed here.",
    "alerts": "Weeks in which a route or region departs from its own baseline: robust "
    "z = (x - median) / max(1.4826 * MAD, 1) over the previous {n} weeks (missing weeks "
    "count as zero); an alert needs z >= {z}, at least {excess} messages more than the "
    "median, a count that chance gives at most {p:g} of the time at the baseline's rate "
    "(Poisson), x >= {count}, and a series known for the whole baseline. "
    "The {max_alerts} strongest by z; weeks of the baseline under k are shown as '< k' "
    "(and a median under k as 'below k'). Recomputed on the messages this bulletin may use.",
    "suppression": "Any figure built from fewer than k messages is shown as '< k' so no "
    "individual incident can be singled out.",
}


LinkLookup = Callable[[str, list[str]], Mapping[str, int]]


@dataclass(frozen=True)
class Scope:
    """What a bulletin covers and for whom."""

    recipient: str
    region: str | None = None  # UN sub-region of the incident place
    since: dt.date | None = None
    until: dt.date | None = None  # exclusive
    k: int = K_DEFAULT

    def covers(self, doc: Mapping[str, Any], *, baseline: bool = False) -> bool:
        """Whether a message is in scope (``baseline``: also the weeks before ``since``)."""
        if self.region and doc.get("incident_sub_region") != self.region:
            return False
        day = incident_date(doc)
        since = self.fetch_since() if baseline else self.since
        return not ((since and day < since) or (self.until and day >= self.until))

    def fetch_since(self) -> dt.date | None:
        """Earliest incident date a bulletin needs (its scope plus the alert baseline)."""
        if self.since is None:
            return None
        return window_start(self.since, WEEK) - dt.timedelta(weeks=BASELINE_WINDOWS)


@dataclass
class Bulletin:
    """Every figure of one bulletin; ``None`` marks a suppressed value."""

    bulletin_id: str
    scope: dict[str, Any]
    generated_at: str
    messages_used: int
    headline: dict[str, int | None]
    map_cells: list[dict[str, Any]] = field(default_factory=list)
    countries: list[dict[str, Any]] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0
    definitions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready figures."""
        return asdict(self)

    def figures(self) -> dict[str, Any]:
        """The figures alone, without when and for whom (equal inputs give equal figures)."""
        out = self.to_dict()
        for key in ("bulletin_id", "generated_at", "scope", "definitions"):
            out.pop(key)
        return out


def _measures(doc: Mapping[str, Any]) -> Counter[str]:
    return Counter(measures_of(doc))


def _cell(total: Counter[str], keys: Iterable[str], k: int) -> dict[str, int | None]:
    shown = total["messages"] >= k or total["messages"] == 0  # nothing to single out in none
    return {key: (int(total[key]) if shown else None) for key in keys}


def bulletin_id(scope: Scope, generated_at: dt.datetime) -> str:
    """Deterministic id of a bulletin: recipient, scope and generation time."""
    raw = f"{scope.recipient}|{scope.region}|{scope.since}|{scope.until}|{scope.k}|{generated_at.isoformat()}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:24]


def build(
    docs: Iterable[Mapping[str, Any]],
    scope: Scope,
    generated_at: dt.datetime,
    links: LinkLookup | None = None,
) -> Bulletin:
    """The bulletin of ``scope`` from indexed message documents (any superset of the scope).

    ``links(network_id, message_ids)``: the links between those messages by kind of
    evidence, asked for the listed networks only, with their listable messages only.
    """
    k = max(1, scope.k)
    visible: list[tuple[Mapping[str, Any], str]] = []
    for doc in docs:
        level = bulletin_level(dict(doc), scope.recipient)
        if level is not None and scope.covers(doc, baseline=True):
            visible.append((doc, level))
    in_scope = [(d, lv) for d, lv in visible if scope.covers(d)]
    suppressed = 0

    def cells(
        groups: Mapping[Any, Counter[str]], keys: Iterable[str]
    ) -> list[tuple[Any, dict[str, int | None]]]:
        nonlocal suppressed
        out = []
        for key, total in groups.items():
            shown = _cell(total, keys, k)
            if shown["messages"] is None:
                suppressed += 1
            out.append((key, shown))
        return out

    total: Counter[str] = Counter()
    for d, _ in in_scope:
        total.update(_measures(d))
    headline = _cell(total, HEADLINE, k)
    if headline["messages"] is None and in_scope:
        suppressed += 1

    # Map, routes, flows: cells under k are left out entirely (not even their place).
    by_cell: dict[tuple[float, float], Counter[str]] = defaultdict(Counter)
    by_route: dict[str, Counter[str]] = defaultdict(Counter)
    by_flow: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    by_week: dict[str, Counter[str]] = defaultdict(Counter)
    by_country: dict[str, Counter[str]] = defaultdict(Counter)
    for d, _ in in_scope:
        m = _measures(d)
        for code in set(_countries(d)):
            by_country[code].update(m)
        loc = d.get("location")
        if isinstance(loc, Mapping) and loc.get("lat") is not None and loc.get("lon") is not None:
            cell = (
                math.floor(float(loc["lat"]) / MAP_CELL_DEGREES) * MAP_CELL_DEGREES,
                math.floor(float(loc["lon"]) / MAP_CELL_DEGREES) * MAP_CELL_DEGREES,
            )
            by_cell[cell].update(m)
        path = (d.get("route") or {}).get("path")
        if path:
            by_route[path].update(m)
            countries = path.split(">")
            if len(countries) > 1:
                by_flow[(countries[0], countries[-1])].update(m)
        by_week[window_start(incident_date(d), WEEK).isoformat()].update(m)

    map_cells = [
        {"lat": lat + MAP_CELL_DEGREES / 2, "lon": lon + MAP_CELL_DEGREES / 2, **shown}
        for (lat, lon), shown in cells(by_cell, ("messages", "dead", "missing"))
        if shown["messages"] is not None
    ]
    crossed = [
        {"country": code, **shown}
        for code, shown in cells(by_country, ("messages",))
        if shown["messages"] is not None
    ]
    routes = [
        {"path": path, **shown}
        for path, shown in cells(by_route, ("messages", "persons", "dead", "missing"))
        if shown["messages"] is not None
    ]
    flows = [
        {"origin": o, "destination": dst, **shown}
        for (o, dst), shown in cells(by_flow, ("messages", "persons"))
        if shown["messages"] is not None
    ]
    # Weeks stay in the series (a gap would mislead), their values suppressed.
    weeks = [{"week": w, **shown} for w, shown in sorted(cells(by_week, WEEKLY))]

    # Networks: only fully visible, non-minor messages may be listed.
    by_network: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for d, level in in_scope:
        if level == FULL and d.get("network_id"):
            by_network[str(d["network_id"])].append(d)
    networks: list[dict[str, Any]] = []
    for nid, members in sorted(by_network.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(members) < k:
            suppressed += 1
        elif len(networks) < TOP:
            evidence = links(nid, [str(d["message_id"]) for d in members]) if links else {}
            networks.append(describe_network(nid, members, evidence))

    alerts = _alerts([d for d, _ in visible], scope, k)
    scope_dict: dict[str, Any] = {
        "recipient": scope.recipient,
        "region": scope.region,
        "since": scope.since.isoformat() if scope.since else None,
        "until": scope.until.isoformat() if scope.until else None,
        "k": k,
    }
    return Bulletin(
        bulletin_id=bulletin_id(scope, generated_at),
        scope=scope_dict,
        generated_at=generated_at.isoformat(),
        messages_used=len(in_scope),
        headline=headline,
        map_cells=sorted(map_cells, key=lambda c: (-(c["messages"] or 0), c["lat"], c["lon"])),
        countries=sorted(crossed, key=lambda c: (-c["messages"], c["country"])),
        routes=sorted(routes, key=lambda r: (-(r["messages"] or 0), r["path"]))[:TOP],
        flows=sorted(flows, key=lambda f: (-(f["messages"] or 0), f["origin"], f["destination"]))[
            :MAX_FLOWS
        ],
        weeks=weeks,
        networks=networks,
        alerts=alerts,
        suppressed=suppressed,
        definitions={
            key: text.format(
                deg=MAP_CELL_DEGREES,
                n=BASELINE_WINDOWS,
                z=Z_THRESHOLD,
                excess=MIN_ALERT_EXCESS,
                p=MAX_ALERT_P,
                count=MIN_ALERT_COUNT,
                max_alerts=MAX_ALERTS,
            )
            for key, text in DEFINITIONS.items()
        },
    )


def describe_network(
    network_id: str, members: list[Mapping[str, Any]], links: Mapping[str, int]
) -> dict[str, Any]:
    """What an analyst asks of a network.

    Its size, who reported it, its main route, when it was active, the roles of its
    persons and what evidence links its messages.
    """
    routes = Counter(str((d.get("route") or {}).get("path") or "") for d in members)
    routes.pop("", None)
    main_route, main_count = routes.most_common(1)[0] if routes else (None, 0)
    days = sorted(incident_date(d) for d in members)
    roles: Counter[str] = Counter()
    persons = 0
    for d in members:
        persons += int((d.get("counts") or {}).get("persons") or len(d.get("persons") or []))
        roles.update(str(p.get("role") or "UNKNOWN") for p in d.get("persons") or [])
    return {
        "network_id": network_id,
        "messages": len(members),
        "persons": persons,
        "ncbs": sorted({str(d["source_ncb"]) for d in members}),
        "main_route": main_route,
        "main_route_messages": main_count,
        "routes": len(routes),
        "countries": sorted({c for d in members for c in _countries(d)}),
        "first_seen": days[0].isoformat(),
        "last_seen": days[-1].isoformat(),
        "roles": dict(roles.most_common()),
        "links": dict(sorted(links.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _countries(doc: Mapping[str, Any]) -> list[str]:
    path = (doc.get("route") or {}).get("path")
    return str(path).split(">") if path else route_countries(dict(doc))


def _alerts(docs: list[Mapping[str, Any]], scope: Scope, k: int) -> list[dict[str, Any]]:
    """Trend alerts per route and region, on visible messages, for weeks in scope."""
    series: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for d in docs:
        week = window_start(incident_date(d), WEEK).isoformat()
        path = (d.get("route") or {}).get("path")
        if path:
            series[("route", path)][week] += 1
        if d.get("incident_sub_region"):
            series[("region", str(d["incident_sub_region"]))][week] += 1
    out: list[dict[str, Any]] = []
    for (dimension, value), counts in sorted(series.items()):
        first = min(counts)
        for week in sorted(counts):
            day = dt.date.fromisoformat(week)
            in_scope = not (
                (scope.since and day < window_start(scope.since, WEEK))
                or (scope.until and day >= scope.until)
            )
            if not in_scope or counts[week] < k:
                continue
            t = trend(counts, week, first)
            if t.alert:
                out.append({
                    "dimension": dimension, "value": value, "week": week, "messages": t.count,
                    "baseline": [b if b >= k else None for b in t.baseline],
                    # A median under k would tell how small the baseline weeks are.
                    "median": t.median if t.median >= k else None, "z": t.z,
                })  # fmt: skip
    ranked = sorted(out, key=lambda a: (-float(a["z"]), -int(a["messages"]), a["week"], a["value"]))
    return ranked[:MAX_ALERTS]


def notice(b: Bulletin, created_at: dt.datetime) -> dict[str, Any]:
    """The bulletin as an Avro ``DiffusionNotice`` datum (kind and reason ``SYNTHESIS``).

    Only the recipient the bulletin was built for receives it: its figures already obey
    the source restrictions for that recipient, so it must not be re-addressed.
    """
    recipient = str(b.scope["recipient"])
    raw = f"{recipient}|SYNTHESIS|{b.bulletin_id}"
    return {
        "notice_id": hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:24],
        "recipient": recipient, "kind": "SYNTHESIS", "reasons": ["SYNTHESIS"], "level": FULL,
        "source_message_id": b.bulletin_id, "source_ncb": "GS", "network_id": None, "links": [],
        "content_json": json.dumps(b.to_dict(), ensure_ascii=False), "created_at": created_at,
    }  # fmt: skip


__all__ = ["COUNTS", "DEFINITIONS", "FULL", "K_DEFAULT", "Bulletin", "Scope", "build", "notice"]
