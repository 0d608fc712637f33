"""The bulletin's basemap: Natural Earth 1:110m countries, Equal Earth projection, cropped.

The boundaries ship with the package (``data/countries-110m.json``, TopoJSON from the npm
package ``world-atlas``; Natural Earth is public domain, see ``data/NOTICE.md``), so the
page needs nothing from the network. Equal Earth keeps areas true, which proportional
symbols rely on, and reads well from a region to the whole world.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pycountry

LonLat = tuple[float, float]
Point = tuple[float, float]

# Equal Earth (Šavrič, Patterson, Jenny 2018).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(lon: float, lat: float) -> Point:
    """Projected (x, y) of a point in degrees; y grows northwards, unit: Earth radius."""
    theta = math.asin(_M * math.sin(math.radians(lat)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = (2 * math.sqrt(3) * math.radians(lon) * math.cos(theta)) / (
        3 * (9 * _A4 * t6 * t2 + 7 * _A3 * t6 + 3 * _A2 * t2 + _A1)
    )
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


@dataclass(frozen=True)
class Country:
    """One country's outline: rings in degrees, and where its name goes."""

    iso3: str | None
    name: str
    rings: tuple[tuple[LonLat, ...], ...]
    label_at: LonLat  # the centroid of its largest ring


def _ring_area_centroid(ring: Sequence[LonLat]) -> tuple[float, LonLat]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-12:
        return 0.0, ring[0]
    return abs(area) / 2, (cx / (3 * area), cy / (3 * area))


def _normalised(p: LonLat) -> LonLat:
    return ((p[0] + 180) % 360 - 180, p[1])


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every country of the data set, decoded from TopoJSON once per process."""
    text = (resources.files("pipeline.report") / "data" / "countries-110m.json").read_text()
    topo = json.loads(text)
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[list[LonLat]] = []
    for quantised in topo["arcs"]:  # delta-encoded integer positions
        x = y = 0
        points = []
        for dx, dy in quantised:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: Iterable[int]) -> tuple[LonLat, ...]:
        out: list[LonLat] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            out.extend(arc if not out else arc[1:])  # arcs share their end points
        # A ring across the antimeridian (Russia, Fiji) jumps from 180 to -180: unwrap it so
        # it is drawn as one shape (past the edge) instead of a line across the world.
        for j in range(1, len(out)):
            step = out[j][0] - out[j - 1][0]
            if abs(step) > 180:
                out[j] = (out[j][0] - math.copysign(360, step), out[j][1])
        return tuple(out)

    result = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        polygons = geometry.get("arcs") or []
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = tuple(ring(r) for polygon in polygons for r in polygon)
        if not rings:
            continue
        largest = max(rings, key=lambda r: _ring_area_centroid(r)[0])
        code = geometry.get("id")
        match = pycountry.countries.get(numeric=code) if code else None
        result.append(
            Country(
                iso3=match.alpha_3 if match else None,
                name=str(geometry.get("properties", {}).get("name", "")),
                rings=rings,
                label_at=_normalised(_ring_area_centroid(largest)[1]),
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class View:
    """A crop of the projected world onto ``width`` x ``height`` pixels."""

    west: float
    south: float
    east: float
    north: float
    width: float
    height: float

    def px(self, lon: float, lat: float) -> Point:
        """Pixel position of a point in degrees."""
        x, y = equal_earth(lon, lat)
        return (
            (x - self.west) / (self.east - self.west) * self.width,
            (self.north - y) / (self.north - self.south) * self.height,
        )

    def contains(self, p: Point) -> bool:
        """Whether a pixel position lies inside the view."""
        return 0 <= p[0] <= self.width and 0 <= p[1] <= self.height


def _at_least(lo: float, hi: float, span: float) -> tuple[float, float]:
    """The interval widened evenly to ``span`` when it is narrower."""
    grow = max(0.0, (span - (hi - lo)) / 2)
    return lo - grow, hi + grow


def crop(
    points: Iterable[LonLat],
    width: float = 900.0,
    min_height: float = 320.0,
    max_height: float = 600.0,
    min_span: float = 0.45,
) -> View:
    """The view that holds every point with a margin, widened to the page's aspect ratio.

    At least ``min_span`` wide and high (about 25 degrees of longitude at the equator).
    """
    projected = [equal_earth(lon, lat) for lon, lat in points] or [equal_earth(0, 20)]
    xs, ys = [p[0] for p in projected], [p[1] for p in projected]
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    pad = 0.12 * max(east - west, north - south, min_span)
    west, east = _at_least(west - pad, east + pad, min_span)
    south, north = _at_least(south - pad, north + pad, min_span)
    height = min(max_height, max(min_height, width * (north - south) / (east - west)))
    # Widen the narrow side so that one unit is as long across as down.
    want = (east - west) * height / width
    if want > north - south:
        grow = (want - (north - south)) / 2
        south, north = south - grow, north + grow
    else:
        grow = ((north - south) * width / height - (east - west)) / 2
        west, east = west - grow, east + grow
    return View(west, south, east, north, width, height)


def country_paths(view: View) -> list[tuple[Country, str]]:
    """Each country that shows in the view with its SVG path (pixels, one decimal)."""
    out = []
    for country in countries():
        parts = []
        visible = False
        for ring in country.rings:
            pts = [view.px(lon, lat) for lon, lat in ring]
            if not visible:
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                visible = not (
                    max(xs) < 0 or min(xs) > view.width or max(ys) < 0 or min(ys) > view.height
                )
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
        if visible:
            out.append((country, "".join(parts)))
    return out
