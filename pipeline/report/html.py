"""A bulletin as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

Every value is escaped; suppressed values are shown as "< k".
"""

from __future__ import annotations

import html
import math
from typing import Any

from pipeline.core.geo import reference_points
from pipeline.core.report import HEADLINE, MAP_CELL_DEGREES, Bulletin

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
svg text{font:10px system-ui,sans-serif}
"""


def _n(value: int | float | None, k: int) -> str:
    if value is None:
        return f'<span class="sup">&lt; {k}</span>'
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


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
    lats = [c["lat"] for c in b.map_cells]
    lons = [c["lon"] for c in b.map_cells]
    pad = max(5.0, MAP_CELL_DEGREES * 2)
    south, north = max(-90.0, min(lats) - pad), min(90.0, max(lats) + pad)
    west, east = max(-180.0, min(lons) - pad), min(180.0, max(lons) + pad)
    width, height = 900.0, max(260.0, min(560.0, 900.0 * (north - south) / max(east - west, 1)))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - west) / (east - west) * width, (north - lat) / (north - south) * height

    parts = [f'<rect width="{width:.0f}" height="{height:.0f}" fill="#f6f8fa"/>']
    step = 10 if max(east - west, north - south) > 30 else 5
    for lon in range(math.ceil(west / step) * step, int(east) + 1, step):
        x, _ = xy(0, lon)
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height:.0f}" stroke="#d0d7de"/>'
                     f'<text x="{x + 2:.1f}" y="{height - 3:.0f}" fill="#8c959f">{lon}°</text>')  # fmt: skip
    for lat in range(math.ceil(south / step) * step, int(north) + 1, step):
        _, y = xy(lat, 0)
        parts.append(f'<line x1="0" y1="{y:.1f}" x2="{width:.0f}" y2="{y:.1f}" stroke="#d0d7de"/>'
                     f'<text x="2" y="{y - 2:.1f}" fill="#8c959f">{lat}°</text>')  # fmt: skip
    # Countries' reference points, for orientation (no boundaries are shipped).
    for code, (plat, plon) in sorted(reference_points().items()):
        if south <= plat <= north and west <= plon <= east:
            x, y = xy(plat, plon)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5" fill="#8c959f"/>'
                         f'<text x="{x + 3:.1f}" y="{y + 3:.1f}" fill="#8c959f">{_e(code)}</text>')  # fmt: skip
    biggest = max(c["messages"] for c in b.map_cells)
    for c in b.map_cells:
        x, y = xy(c["lat"], c["lon"])
        r = 3 + 17 * math.sqrt(c["messages"] / biggest)
        title = f"{c['messages']} messages, {c['dead']} dead, {c['missing']} missing near {c['lat']:.0f}, {c['lon']:.0f}"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="#cf222e" fill-opacity=".45" '
                     f'stroke="#cf222e"><title>{_e(title)}</title></circle>')  # fmt: skip
    svg = (f'<svg role="img" aria-label="Incident places" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="100%">{"".join(parts)}</svg>')  # fmt: skip
    return svg + _definition(b, "map")


def _bars(rows: list[tuple[str, int | None]], k: int) -> str:
    top = max([v for _, v in rows if v is not None], default=1) or 1
    body = "".join(
        f"<tr><td>{_e(label)}</td><td class='n'>{_n(v, k)}</td>"
        f"<td><span class='bar' style='width:{(v or 0) / top * 300:.0f}px'></span></td></tr>"
        for label, v in rows
    )
    return f"<table>{body}</table>"


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _weeks(b: Bulletin, k: int) -> str:
    if not b.weeks:
        return '<p class="none">No message in scope.</p>'
    width, height, gap = 900.0, 180.0, 1.0
    bar = width / len(b.weeks)
    top = max([w["messages"] or 0 for w in b.weeks], default=1) or 1
    parts = []
    for i, w in enumerate(b.weeks):
        x = i * bar
        if w["messages"] is None:
            h, colour, label = height * 0.05, "#d0d7de", f"< {k}"
        else:
            h, colour, label = height * w["messages"] / top, "#0969da", str(w["messages"])
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{max(bar - gap, 1):.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>week of {_e(w["week"])}: '
                     f'{_e(label)} messages</title></rect>')  # fmt: skip
    first, last = b.weeks[0]["week"], b.weeks[-1]["week"]
    svg = (f'<svg role="img" aria-label="Messages per week" viewBox="0 0 {width:.0f} {height + 14:.0f}" '
           f'width="100%">{"".join(parts)}<text x="0" y="{height + 12:.0f}">{_e(first)}</text>'
           f'<text x="{width:.0f}" y="{height + 12:.0f}" text-anchor="end">{_e(last)}</text></svg>')  # fmt: skip
    rows = [[_e(w["week"]), *(f"<span class='n'>{_n(w[m], k)}</span>" for m in
             ("messages", "persons", "victims", "dead", "missing"))] for w in b.weeks]  # fmt: skip
    table = _table(["week", "messages", "persons", "victims", "dead", "missing"], rows)
    return (f"{svg}<details><summary>Weekly figures</summary>{table}</details>"
            f"{_definition(b, 'weeks')}")  # fmt: skip


def render(b: Bulletin) -> str:
    """The bulletin as a complete HTML document."""
    k = int(b.scope["k"])
    scope = b.scope
    where = _e(scope["region"] or "all regions")
    period = f"{_e(scope['since'] or 'the beginning')} to {_e(scope['until'] or 'today')}"
    routes = _bars([(r["path"], r["messages"]) for r in b.routes], k) if b.routes else (
        f'<p class="none">No route with {k} or more messages.</p>')  # fmt: skip
    flows = _bars([(f"{f['origin']} → {f['destination']}", f["messages"]) for f in b.flows], k) if b.flows else (
        f'<p class="none">No flow with {k} or more messages.</p>')  # fmt: skip
    networks = _table(
        ["network", "messages", "countries", "reporting NCBs"],
        [[_e(n["network_id"]), _n(n["messages"], k), _e(", ".join(n["countries"])),
          _e(", ".join(n["ncbs"]))] for n in b.networks],
    ) if b.networks else f'<p class="none">No network with {k} or more messages.</p>'  # fmt: skip
    alerts = _table(
        ["week", "series", "messages", f"previous {len(b.alerts[0]['baseline'])} weeks", "median", "robust z"],
        [[_e(a["week"]), _e(f"{a['dimension']} {a['value']}"), _n(a["messages"], k),
          ", ".join(_n(v, k) for v in a["baseline"]), _n(a["median"], k), f"{a['z']:.1f}"]
         for a in b.alerts],
    ) if b.alerts else '<p class="none">No alert.</p>'  # fmt: skip
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
<h2>Routes</h2>{routes}{_definition(b, "routes")}
<h2>Flows, origin to destination</h2>{flows}{_definition(b, "flows")}
<h2>Weekly trend</h2>{_weeks(b, k)}
<h2>Largest networks</h2>{networks}{_definition(b, "networks")}
<h2>Alerts</h2>{alerts}{_definition(b, "alerts")}
</body></html>
"""
