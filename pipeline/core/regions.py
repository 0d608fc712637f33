"""UN M49 regions and sub-regions by ISO 3166-1 alpha-3 (UNSD standard country codes).

Shipped with the code so nothing is fetched at run time. Kosovo (XKX) is grouped with
Southern Europe as UNSD data sets do; Taiwan (TWN) with Eastern Asia.
"""

from __future__ import annotations

_SUB_REGIONS: dict[tuple[str, str], str] = {
    ("Africa", "Northern Africa"): "DZA EGY LBY MAR SDN TUN ESH",
    ("Africa", "Eastern Africa"): "IOT BDI COM DJI ERI ETH ATF KEN MDG MWI MUS MYT MOZ REU RWA SYC SOM SSD UGA TZA ZMB ZWE",
    ("Africa", "Middle Africa"): "AGO CMR CAF TCD COG COD GNQ GAB STP",
    ("Africa", "Southern Africa"): "BWA SWZ LSO NAM ZAF",
    ("Africa", "Western Africa"): "BEN BFA CPV CIV GMB GHA GIN GNB LBR MLI MRT NER NGA SHN SEN SLE TGO",
    ("Americas", "Caribbean"): "AIA ATG ABW BHS BRB BES VGB CYM CUB CUW DMA DOM GRD GLP HTI JAM MTQ MSR PRI BLM KNA LCA MAF VCT SXM TTO TCA VIR",
    ("Americas", "Central America"): "BLZ CRI SLV GTM HND MEX NIC PAN",
    ("Americas", "South America"): "ARG BOL BVT BRA CHL COL ECU FLK GUF GUY PRY PER SGS SUR URY VEN",
    ("Americas", "Northern America"): "BMU CAN GRL SPM USA",
    ("Asia", "Central Asia"): "KAZ KGZ TJK TKM UZB",
    ("Asia", "Eastern Asia"): "CHN HKG MAC PRK JPN MNG KOR TWN",
    ("Asia", "South-eastern Asia"): "BRN KHM IDN LAO MYS MMR PHL SGP THA TLS VNM",
    ("Asia", "Southern Asia"): "AFG BGD BTN IND IRN MDV NPL PAK LKA",
    ("Asia", "Western Asia"): "ARM AZE BHR CYP GEO IRQ ISR JOR KWT LBN OMN QAT SAU PSE SYR TUR ARE YEM",
    ("Europe", "Eastern Europe"): "BLR BGR CZE HUN POL MDA ROU RUS SVK UKR",
    ("Europe", "Northern Europe"): "ALA DNK EST FRO FIN GGY ISL IRL IMN JEY LVA LTU NOR SJM SWE GBR",
    ("Europe", "Southern Europe"): "ALB AND BIH HRV GIB GRC VAT ITA MLT MNE MKD PRT SMR SRB SVN ESP XKX",
    ("Europe", "Western Europe"): "AUT BEL FRA DEU LIE LUX MCO NLD CHE",
    ("Oceania", "Australia and New Zealand"): "AUS CXR CCK HMD NZL NFK",
    ("Oceania", "Melanesia"): "FJI NCL PNG SLB VUT",
    ("Oceania", "Micronesia"): "GUM KIR MHL FSM NRU MNP PLW UMI",
    ("Oceania", "Polynesia"): "ASM COK PYF NIU PCN WSM TKL TON TUV WLF",
}  # fmt: skip

REGION_OF: dict[str, tuple[str, str]] = {
    code: key for key, codes in _SUB_REGIONS.items() for code in codes.split()
}


def un_region(alpha3: str) -> tuple[str | None, str | None]:
    """(region, sub-region) of a country, (None, None) when it has none (e.g. Antarctica)."""
    return REGION_OF.get(alpha3, (None, None))
