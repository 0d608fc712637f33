"""A bulletin as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

Every value is escaped; suppressed values are shown as "< k".
"""

from __future__ import annotations

from pipeline.core.report import HEADLINE, Bulletin
from pipeline.report.charts import esc as _e
from pipeline.report.charts import map_svg, weekly_svg

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:980px;color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;margin:2rem 0 .4rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.meta{color:#57606a}.def{color:#57606a;font-size:.85rem;margin:.3rem 0 0}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1rem}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:7.5rem}
.tile b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eaeef2}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#0969da;height:.7rem;display:inline-block;vertical-align:middle}
.sup{color:#8c959f}.none{color:#57606a;font-style:italic}
svg text{font:11px system-ui,sans-serif}svg text.value{font-weight:600;fill:#7c2d12}
svg text.country{font-style:italic;fill:#444c56;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg text.value{paint-order:stroke;stroke:#fff;stroke-width:3px}svg .tick{fill:#57606a}
.transit{color:#57606a}.meta{color:#57606a}code{font-size:.8rem}
table.matrix td,table.matrix th{text-align:right}table.matrix th:first-child{text-align:left}
"""


def _n(value: int | float | None, k: int) -> str:
    if value is None:
        return f'<span class="sup">&lt; {k}</span>'
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _definition(b: Bulletin, key: str) -> str:
    return f'<p class="def">{_e(b.definitions[key])}</p>'


def _headline(b: Bulletin, k: int) -> str:
    labels = {"fraudulent_documents": "fraudulent documents"}
    tiles = "".join(
        f'<div class="tile">{_e(labels.get(key, key))}<b>{_n(b.headline[key], k)}</b></div>'
        for key in HEADLINE
    )
    return f'<div class="tiles">{tiles}</div>{_definition(b, "headline")}'


def _map(b: Bulletin, k: int) -> str:
    if not b.map_cells:
        return f'<p class="none">No place with {k} or more messages.</p>{_definition(b, "map")}'
    countries = {str(c["country"]): int(c["messages"]) for c in b.countries}
    return (
        map_svg(b.map_cells, countries, k)
        + '<p class="def">Boundaries: Natural Earth 1:110m (public domain). Shaded: countries '
        f"on the routes of {k} or more messages.</p>" + _definition(b, "map")
    )


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _weeks(b: Bulletin, k: int) -> str:
    if not b.weeks:
        return '<p class="none">No message in scope.</p>'
    rows = [[_e(w["week"]), *(f"<span class='n'>{_n(w[m], k)}</span>" for m in
             ("messages", "persons", "victims", "dead", "missing"))] for w in b.weeks]  # fmt: skip
    table = _table(["week", "messages", "persons", "victims", "dead", "missing"], rows)
    return (
        f"{weekly_svg(b.weeks, k)}<details><summary>Weekly figures</summary>{table}</details>"
        f"{_definition(b, 'weeks')}"
    )


def _path(path: str) -> str:
    countries = path.split(">")
    if len(countries) < 3:
        return _e(" → ".join(countries))
    transit = " → ".join(countries[1:-1])
    return f"{_e(countries[0])} → <span class='transit'>{_e(transit)}</span> → {_e(countries[-1])}"


def _routes(b: Bulletin, k: int) -> str:
    if not b.routes:
        return f'<p class="none">No route with {k} or more messages.</p>'
    top = max(int(r["messages"]) for r in b.routes) or 1
    rows = [
        [
            _path(r["path"]),
            f"<span class='n'>{_n(r['messages'], k)}</span>",
            f"<span class='bar' style='width:{int(r['messages']) / top * 140:.0f}px'></span>",
            f"<span class='n'>{_n(r['persons'], k)}</span>",
            f"<span class='n'>{_n(r['dead'], k)}</span>",
            f"<span class='n'>{_n(r['missing'], k)}</span>",
        ]
        for r in b.routes
    ]
    return _table(["route (origin → transits → destination)", "messages", "", "persons", "dead",
                   "missing"], rows)  # fmt: skip


def _flows(b: Bulletin, k: int, size: int = 8) -> str:
    """Origins by destinations: the pairs as a matrix, the largest origins and destinations."""
    if not b.flows:
        return f'<p class="none">No flow with {k} or more messages.</p>'
    by_origin: dict[str, int] = {}
    by_destination: dict[str, int] = {}
    cell: dict[tuple[str, str], int] = {}
    for f in b.flows:
        n = int(f["messages"])
        cell[(f["origin"], f["destination"])] = n
        by_origin[f["origin"]] = by_origin.get(f["origin"], 0) + n
        by_destination[f["destination"]] = by_destination.get(f["destination"], 0) + n
    origins = sorted(by_origin, key=lambda c: (-by_origin[c], c))[:size]
    destinations = sorted(by_destination, key=lambda c: (-by_destination[c], c))[:size]
    top = max(cell.values()) or 1
    head = "".join(f"<th class='n'>{_e(d)}</th>" for d in destinations)
    body = []
    for o in origins:
        cells = []
        for d in destinations:
            pair = cell.get((o, d))
            if pair is None:
                cells.append("<td class='n'></td>")
            else:
                shade = 0.08 + 0.6 * pair / top
                cells.append(f"<td class='n' style='background:rgba(9,105,218,{shade:.2f})' "
                             f"title='{_e(o)} → {_e(d)}: {pair:,} messages'>{pair:,}</td>")  # fmt: skip
        body.append(f"<tr><th>{_e(o)}</th>{''.join(cells)}</tr>")
    return (
        f"<table class='matrix'><tr><th>origin ↓ · destination →</th>{head}</tr>"
        f"{''.join(body)}</table>"
    )


def _networks(b: Bulletin, k: int) -> str:
    if not b.networks:
        return f'<p class="none">No network with {k} or more messages.</p>'
    rows = []
    for n in b.networks:
        roles = ", ".join(f"{_e(r.lower().replace('_', ' '))} {c:,}" for r, c in n["roles"].items())
        links = ", ".join(f"{_e(kind.replace('_', ' '))} {c:,}" for kind, c in n["links"].items())
        route = (
            f"{_path(n['main_route'])} <span class='meta'>({n['main_route_messages']:,} of "
            f"{n['messages']:,}; {n['routes']} route(s))</span>"
            if n["main_route"]
            else "-"
        )
        rows.append([
            f"<code>{_e(n['network_id'])}</code>",
            f"<span class='n'>{n['messages']:,}</span>",
            f"<span class='n'>{n['persons']:,}</span>",
            _e(", ".join(n["ncbs"])),
            route,
            f"{_e(n['first_seen'])} – {_e(n['last_seen'])}",
            roles or "-",
            links or "-",
        ])  # fmt: skip
    return _table(["network", "messages", "persons", "reported by", "main route",
                   "first – last incident", "roles", "links by evidence"], rows)  # fmt: skip


def _alerts(b: Bulletin, k: int) -> str:
    if not b.alerts:
        return '<p class="none">No alert.</p>'
    rows = []
    for a in b.alerts:
        median = _n(a["median"], k) if a["median"] is not None else f"below {k}"
        baseline = " ".join(f"<span class='n'>{_n(v, k)}</span>" for v in a["baseline"])
        rows.append([
            _e(a["week"]), _e(f"{a['dimension']} "), _path(a["value"]) if a["dimension"] == "route"
            else _e(a["value"]), f"<b class='n'>{a['messages']:,}</b>", median, baseline,
            f"{a['z']:.1f}",
        ])  # fmt: skip
    weeks = len(b.alerts[0]["baseline"])
    return _table(["week", "series", "", "messages", "baseline median",
                   f"previous {weeks} weeks", "robust z"], rows)  # fmt: skip


def render(b: Bulletin) -> str:
    """The bulletin as a complete HTML document."""
    k = int(b.scope["k"])
    scope = b.scope
    where = _e(scope["region"] or "all regions")
    period = f"{_e(scope['since'] or 'the beginning')} to {_e(scope['until'] or 'today')}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="hst-bulletin-id" content="{_e(b.bulletin_id)}">
<title>HST bulletin for {_e(scope["recipient"])}: {where}</title><style>{_CSS}</style></head>
<body>
<h1>Migrant smuggling and human trafficking: analytical bulletin</h1>
<p class="meta">For NCB <b>{_e(scope["recipient"])}</b> · {where} · incidents from {period} ·
generated {_e(b.generated_at)} by the INTERPOL HST pipeline · bulletin {_e(b.bulletin_id)}</p>
<p class="meta">Built from {b.messages_used:,} messages this recipient may see under the source NCBs'
handling restrictions. {_e(b.definitions["suppression"])} (k = {k};
{b.suppressed:,} figures suppressed).</p>
<h2>Headline figures</h2>{_headline(b, k)}
<h2>Incident places</h2>{_map(b, k)}
<h2>Alerts</h2>{_alerts(b, k)}{_definition(b, "alerts")}
<h2>Weekly trend</h2>{_weeks(b, k)}
<h2>Routes</h2>{_routes(b, k)}{_definition(b, "routes")}
<h2>Flows, origin to destination</h2>{_flows(b, k)}{_definition(b, "flows")}
<h2>Largest networks</h2>{_networks(b, k)}{_definition(b, "networks")}
</body></html>
"""
