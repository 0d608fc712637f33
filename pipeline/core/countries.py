"""ISO 3166-1 country codes (pycountry ships the data; nothing is fetched at run time)."""

from __future__ import annotations

from functools import cache

import pycountry

# Codes in use by INTERPOL/ICAO that ISO 3166-1 does not assign: Kosovo and the ICAO
# Doc 9303 codes for stateless persons and refugees.
EXTRA_ALPHA3 = {
    "XKX": "Kosovo",
    "XXA": "Stateless person",
    "XXB": "Refugee (1951 Convention)",
    "XXC": "Refugee (other)",
    "XXX": "Unspecified nationality",
}


@cache
def alpha3_codes() -> frozenset[str]:
    """Every accepted alpha-3 code."""
    return frozenset({c.alpha_3 for c in pycountry.countries} | set(EXTRA_ALPHA3))


def is_alpha3(code: str) -> bool:
    """True for an accepted upper-case ISO 3166-1 alpha-3 code (or an EXTRA_ALPHA3 one)."""
    return code in alpha3_codes()


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 currency codes."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def language_codes() -> frozenset[str]:
    """ISO 639-1 two-letter language codes."""
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
