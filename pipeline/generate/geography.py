"""Routes and places for synthetic data (real geography, invented incidents)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RouteTemplate:
    """A known migration corridor."""

    countries: tuple[str, ...]
    incident_type: str  # SMUGGLING | TRAFFICKING | BOTH
    sea_leg: bool
    exploitation: tuple[str, ...] = ()


ROUTES: list[RouteTemplate] = [
    RouteTemplate(("NGA", "NER", "LBY", "ITA"), "SMUGGLING", True),
    RouteTemplate(("ERI", "SDN", "LBY", "ITA", "FRA"), "SMUGGLING", True),
    RouteTemplate(("GIN", "MLI", "DZA", "MAR", "ESP"), "SMUGGLING", True),
    RouteTemplate(("SEN", "ESP"), "SMUGGLING", True),
    RouteTemplate(("SYR", "TUR", "GRC", "MKD", "SRB", "HUN", "AUT", "DEU"), "SMUGGLING", True),
    RouteTemplate(("AFG", "IRN", "TUR", "BGR", "SRB", "HUN", "AUT", "DEU"), "SMUGGLING", False),
    RouteTemplate(("IRQ", "TUR", "GRC", "ITA"), "SMUGGLING", True),
    RouteTemplate(("EGY", "LBY", "ITA"), "SMUGGLING", True),
    RouteTemplate(("TUN", "ITA"), "SMUGGLING", True),
    RouteTemplate(("VNM", "CHN", "RUS", "POL", "DEU", "FRA", "GBR"), "TRAFFICKING", False,
                  ("FORCED_LABOUR", "SERVITUDE")),
    RouteTemplate(("UKR", "POL", "DEU"), "TRAFFICKING", False, ("SEXUAL_EXPLOITATION",)),
    RouteTemplate(("NGA", "NER", "LBY", "ITA", "FRA"), "BOTH", True,
                  ("SEXUAL_EXPLOITATION", "FORCED_BEGGING")),
    RouteTemplate(("ETH", "DJI", "YEM", "SAU"), "BOTH", True, ("FORCED_LABOUR",)),
    RouteTemplate(("SOM", "ETH", "SDN", "LBY", "MLT"), "SMUGGLING", True),
]  # fmt: skip

# Country → places with WGS84 coordinates (lat, lon).
PLACES: dict[str, list[tuple[str, float, float]]] = {
    "NGA": [("Benin City", 6.335, 5.627), ("Lagos", 6.455, 3.394), ("Kano", 12.0, 8.517)],
    "NER": [("Agadez", 16.974, 7.987), ("Niamey", 13.512, 2.113)],
    "LBY": [("Tripoli", 32.887, 13.191), ("Zuwara", 32.931, 12.082), ("Sabha", 27.037, 14.426)],
    "ITA": [
        ("Lampedusa", 35.508, 12.601),
        ("Catania", 37.502, 15.087),
        ("Ventimiglia", 43.79, 7.608),
    ],
    "FRA": [("Calais", 50.951, 1.858), ("Menton", 43.775, 7.497), ("Paris", 48.857, 2.352)],
    "ERI": [("Asmara", 15.322, 38.925)],
    "SDN": [("Khartoum", 15.5, 32.56), ("Kassala", 15.45, 36.4)],
    "GIN": [("Conakry", 9.641, -13.578)],
    "MLI": [("Gao", 16.272, -0.044), ("Bamako", 12.639, -8.003)],
    "DZA": [("Tamanrasset", 22.785, 5.523), ("Oran", 35.697, -0.633)],
    "MAR": [("Nador", 35.168, -2.933), ("Tangier", 35.76, -5.834)],
    "ESP": [("Ceuta", 35.889, -5.321), ("Melilla", 35.292, -2.938), ("Las Palmas", 28.124, -15.43)],
    "SEN": [("Dakar", 14.716, -17.467), ("Saint-Louis", 16.018, -16.489)],
    "SYR": [("Aleppo", 36.202, 37.134), ("Idlib", 35.931, 36.632)],
    "TUR": [("Izmir", 38.423, 27.143), ("Van", 38.501, 43.373), ("Edirne", 41.677, 26.556)],
    "GRC": [("Lesbos", 39.1, 26.55), ("Evros", 41.3, 26.3), ("Athens", 37.984, 23.728)],
    "MKD": [("Gevgelija", 41.14, 22.5)],
    "SRB": [("Subotica", 46.1, 19.667), ("Belgrade", 44.787, 20.457)],
    "HUN": [("Röszke", 46.187, 20.038)],
    "AUT": [("Nickelsdorf", 47.94, 17.07), ("Vienna", 48.208, 16.373)],
    "DEU": [("Passau", 48.574, 13.461), ("Berlin", 52.52, 13.405), ("Frankfurt", 50.11, 8.682)],
    "AFG": [("Herat", 34.352, 62.204), ("Kabul", 34.555, 69.207)],
    "IRN": [("Tehran", 35.689, 51.389), ("Urmia", 37.553, 45.076)],
    "BGR": [("Sofia", 42.698, 23.322), ("Svilengrad", 41.767, 26.2)],
    "IRQ": [("Erbil", 36.191, 44.009)],
    "EGY": [("Alexandria", 31.2, 29.918), ("Salloum", 31.553, 25.159)],
    "TUN": [("Sfax", 34.74, 10.76)],
    "VNM": [("Nghe An", 18.67, 105.69), ("Hanoi", 21.028, 105.834)],
    "CHN": [("Beijing", 39.904, 116.407)],
    "RUS": [("Moscow", 55.756, 37.617)],
    "POL": [("Warsaw", 52.23, 21.012), ("Terespol", 52.076, 23.616)],
    "GBR": [("Dover", 51.128, 1.313), ("London", 51.507, -0.128)],
    "UKR": [("Kyiv", 50.45, 30.523), ("Lviv", 49.84, 24.03)],
    "ETH": [("Addis Ababa", 9.03, 38.74), ("Dire Dawa", 9.6, 41.86)],
    "DJI": [("Obock", 11.963, 43.289)],
    "YEM": [("Aden", 12.8, 45.033)],
    "SAU": [("Jizan", 16.889, 42.57)],
    "SOM": [("Bosaso", 11.284, 49.182)],
    "MLT": [("Valletta", 35.899, 14.514)],
}
