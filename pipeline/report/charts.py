"""The bulletin's figures as inline SVG: the map of incident places and the weekly chart.

Pure functions of the bulletin's figures (no I/O besides the packaged basemap); every text
is escaped; a suppressed value is drawn as "< k", never as a number.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.report.basemap import View, countries, country_paths, crop

SEA, LAND, BORDER, ROUTE_LAND = "#e8f0f7", "#fbfaf7", "#a9b4bf", "#efe6d6"
SYMBOL, AXIS, GRID, INK, MUTED = "#c2410c", "#57606a", "#e5e9ee", "#1b1f24", "#8c959f"
FONT_PX = 11.0
CHAR_PX = 0.6 * FONT_PX
MAX_VALUE_LABELS = 15  # mean advance of a sans-serif character, for label boxes


def esc(text: Any) -> str:
    """Text made safe inside HTML and SVG (attributes included)."""
    return html.escape(str(text), quote=True)


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@dataclass(frozen=True)
class Box:
    """A label's rectangle in pixels."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        """Whether two rectangles share any area."""
        return not (
            self.x1 <= other.x0 or other.x1 <= self.x0 or self.y1 <= other.y0 or other.y1 <= self.y0
        )


def text_box(x: float, y: float, text: str, anchor: str = "start", pad: float = 2.0) -> Box:
    """The rectangle a one-line label takes (baseline at ``y``)."""
    width = len(text) * CHAR_PX
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(left - pad, y - FONT_PX - pad + 2, left + width + pad, y + pad)


class Labels:
    """Greedy label placement: a label is drawn only where it collides with none drawn."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.placed: list[Box] = []
        self.svg: list[str] = []

    def try_place(
        self,
        text: str,
        spots: Sequence[tuple[float, float, str]],
        css: str,
        blocked: Sequence[Box] = (),
    ) -> bool:
        """Draw ``text`` at the first spot (x, y, anchor) free of other labels; False if none."""
        for x, y, anchor in spots:
            box = text_box(x, y, text, anchor)
            inside = box.x0 >= 0 and box.y0 >= 0 and box.x1 <= self.width and box.y1 <= self.height
            if inside and not any(box.overlaps(b) for b in (*self.placed, *blocked)):
                self.placed.append(box)
                self.svg.append(
                    f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
                    f"{esc(text)}</text>"
                )
                return True
        return False


def map_svg(
    cells: Sequence[Mapping[str, Any]],
    route_countries: Mapping[str, int],
    k: int,
    width: float = 900.0,
) -> str:
    """Incident places as proportional symbols on the basemap, cropped to the data.

    ``cells``: shown map cells (lat, lon, messages, dead, missing); ``route_countries``:
    ISO alpha-3 -> messages whose route crosses it (shaded and named on the map).
    """
    centres = {c.iso3: c.label_at for c in countries() if c.iso3}
    points = [(float(c["lon"]), float(c["lat"])) for c in cells]
    points += [centres[code] for code in route_countries if code in centres]
    view = crop(points, width=width)
    parts = [
        f'<rect width="{view.width:.0f}" height="{view.height:.0f}" fill="{SEA}"/>',
        f'<clipPath id="map-clip"><rect width="{view.width:.0f}" height="{view.height:.0f}"/>'
        "</clipPath>",
        '<g clip-path="url(#map-clip)">',
    ]
    shown = country_paths(view)
    for country, d in shown:
        fill = ROUTE_LAND if country.iso3 in route_countries else LAND
        parts.append(
            f'<path class="country" d="{d}" fill="{fill}" stroke="{BORDER}" stroke-width=".6">'
            f"<title>{esc(country.name)}</title></path>"
        )
    parts.append("</g>")
    biggest = max((int(c["messages"]) for c in cells), default=1) or 1

    def radius(v: float) -> float:
        return 3.0 + 21.0 * math.sqrt(v / biggest)  # area proportional to the messages

    labels = Labels(view.width, view.height)
    symbols: list[Box] = []
    for c in sorted(cells, key=lambda c: -int(c["messages"])):  # small symbols on top
        x, y = view.px(float(c["lon"]), float(c["lat"]))
        if not view.contains((x, y)):
            continue
        r = radius(int(c["messages"]))
        title = (
            f"{c['messages']:,} messages, {c.get('dead', 0) or 0:,} dead, "
            f"{c.get('missing', 0) or 0:,} missing near {float(c['lat']):.0f}°, "
            f"{float(c['lon']):.0f}°"
        )
        parts.append(
            f'<circle class="symbol" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{SYMBOL}" '
            f'fill-opacity=".55" stroke="#fff" stroke-width=".8"><title>{esc(title)}</title>'
            "</circle>"
        )
        symbols.append(Box(x - r, y - r, x + r, y + r))
        if len(symbols) > MAX_VALUE_LABELS:  # the largest places carry their value
            continue
        labels.try_place(
            f"{int(c['messages']):,}",
            [(x + r + 2, y + 4, "start"), (x - r - 2, y + 4, "end"), (x, y - r - 3, "middle")],
            "value",
        )
    # Country names after the values, around the symbols, most concerned countries first.
    by_code = {country.iso3: country for country, _ in shown if country.iso3}
    for code, _n in sorted(route_countries.items(), key=lambda kv: (-kv[1], kv[0])):
        named = by_code.get(code)
        if named is None:
            continue
        x, y = view.px(*named.label_at)
        labels.try_place(
            named.name,
            [(x, y, "middle"), (x, y + 13, "middle"), (x, y - 13, "middle")],
            "country",
            blocked=symbols,
        )
    parts += labels.svg
    parts.append(_legend(view, biggest, radius))
    return (
        f'<svg class="map" role="img" aria-label="Incident places on a map" '
        f'viewBox="0 0 {view.width:.0f} {view.height:.0f}" width="100%">{"".join(parts)}</svg>'
    )


def _legend(view: View, biggest: int, radius: Any) -> str:
    values = sorted(
        {biggest, max(1, round(biggest / 4)), max(1, round(biggest / 16))}, reverse=True
    )
    r_max = radius(biggest)
    x0, base = 14 + r_max, view.height - 12
    parts = [
        f'<rect x="4" y="{base - 2 * r_max - 22:.1f}" width="{2 * r_max + 70:.1f}" '
        f'height="{2 * r_max + 30:.1f}" fill="#fff" fill-opacity=".85" rx="3"/>',
        f'<text class="legend" x="8" y="{base - 2 * r_max - 9:.1f}">messages</text>',
    ]
    for v in values:
        r = radius(v)
        parts.append(
            f'<circle cx="{x0:.1f}" cy="{base - r:.1f}" r="{r:.1f}" fill="none" stroke="{AXIS}"/>'
            f'<text class="legend" x="{x0 + r_max + 6:.1f}" y="{base - 2 * r + 4:.1f}">{v:,}</text>'
        )
    return f'<g class="legend">{"".join(parts)}</g>'


def weekly_svg(weeks: Sequence[Mapping[str, Any]], k: int, width: float = 900.0) -> str:
    """Messages per week as bars, with a value axis, month ticks and every value on hover.

    A suppressed week is an outlined bar up to k labelled "< k".
    """
    height, left, bottom, top_pad = 220.0, 44.0, 26.0, 14.0
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    values = [w["messages"] for w in weeks]
    top = max([v for v in values if v is not None] + [k])
    ticks = nice_ticks(top)
    scale = plot_h / ticks[-1]
    step = plot_w / max(len(weeks), 1)
    parts = []
    for t in ticks:
        y = top_pad + plot_h - t * scale
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8:.0f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>'
        )
    previous_month = None
    free_from = 0.0  # where the previous month's label ends
    for i, w in enumerate(weeks):
        x = left + i * step
        v = w["messages"]
        label = f"week of {w['week']}: " + (
            f"{v:,} messages" if v is not None else f"< {k} messages"
        )
        if v is None:
            h = k * scale
            parts.append(
                f'<rect class="week suppressed" x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" '
                f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" fill="none" stroke="{MUTED}" '
                f'stroke-dasharray="2 2"><title>{esc(label)}</title></rect>'
            )
        else:
            h = v * scale
            parts.append(
                f'<rect class="week" x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" '
                f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" fill="#0969da">'
                f"<title>{esc(label)}</title></rect>"
            )
        day = dt.date.fromisoformat(str(w["week"]))
        month = (day.year, day.month)
        if month != previous_month:
            name = day.strftime("%b %Y" if previous_month is None or day.month == 1 else "%b")
            parts.append(
                f'<line x1="{x:.1f}" y1="{top_pad + plot_h:.1f}" x2="{x:.1f}" '
                f'y2="{top_pad + plot_h + 4:.1f}" stroke="{AXIS}"/>'
            )
            if x >= free_from:  # no label over the previous one
                parts.append(
                    f'<text class="tick" x="{x + 2:.1f}" y="{height - 8:.0f}">{esc(name)}</text>'
                )
                free_from = x + 2 + len(name) * CHAR_PX + 4
            previous_month = month
    # The last and the largest shown weeks carry their value on the chart itself.
    shown = [(i, v) for i, v in enumerate(values) if v is not None]
    marked = {shown[-1][0], max(shown, key=lambda iv: iv[1])[0]} if shown else set()
    for i in sorted(marked):
        v = values[i]
        assert v is not None
        x = left + i * step + step / 2
        y = top_pad + plot_h - v * scale - 4
        parts.append(
            f'<text class="value" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{v:,}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top_pad + plot_h:.1f}" x2="{width - 8:.0f}" '
        f'y2="{top_pad + plot_h:.1f}" stroke="{AXIS}"/>'
        f'<text class="tick" x="4" y="{top_pad - 4:.0f}">messages</text>'
    )
    return (
        f'<svg class="chart" role="img" aria-label="Messages per week" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%">{"".join(parts)}</svg>'
    )
