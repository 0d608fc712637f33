"""IOM Missing Migrants Project CSV -> HST messages (``hst replay missing-migrants``).

Each incident becomes one CREATE message with a DEATH_OR_MISSING route event at its
coordinates. Choices (documented in the README):

- ``message_id`` is a UUIDv5 of the IOM Web ID: replaying the file again is an exact re-send.
- ``source_ncb`` is the country of the incident (nearest GeoNames city to the coordinates),
  as the NCB that would report it; the data is public, so handling is H0.
- IOM "Source Quality" (1 lowest .. 5 official) maps to source reliability and accuracy.
- Counts (dead, missing, survivors) and the cause of death go to the incident; women, men
  and children counts to the narrative; ``contains_minor`` when children are counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.core.nearest import nearest_country

IOM_NAMESPACE = uuid.UUID("3f1d6c8e-2b7a-4e59-9c31-5a0b7e2d4f60")
RELIABILITY = {"5": "A", "4": "A", "3": "B", "2": "C", "1": "C"}
ACCURACY = {"5": 1, "4": 2, "3": 3, "2": 3, "1": 4}


def _int(value: str) -> int | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    try:
        return max(0, round(float(value)))
    except ValueError:
        return None


def row_to_message(row: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    """One CSV row as an HST message in friendly JSON."""
    web_id = row["Web ID"].strip()
    reported = dt.datetime.strptime(row["Reported Date"].strip(), "%B %d, %Y").replace(
        tzinfo=dt.UTC
    )
    event_time = min(reported, now)
    created = min(reported + dt.timedelta(days=1), now)
    lat_text, _, lon_text = row["Location Coordinates"].partition(",")
    lat, lon = float(lat_text), float(lon_text)
    country = nearest_country(lat, lon) or "XXX"
    quality = row.get("Source Quality", "").strip()
    children = _int(row.get("Number of Children", ""))
    parts = [row.get("Location Description", "").strip()]
    counts = [f"{label}: {n}" for label, key in (("women", "Number of Females"), ("men", "Number of Males"),
                                                  ("children", "Number of Children")) if (n := _int(row.get(key, "")))]  # fmt: skip
    if counts:
        parts.append("; ".join(counts))
    if row.get("Migration Route"):
        parts.append(f"route: {row['Migration Route']}")
    parts.append(
        f"source: {row.get('Information Source', '').strip()} {row.get('URL', '').strip()}".strip()
    )
    parts.append("IOM Missing Migrants Project (CC BY 4.0)")
    incident: dict[str, Any] = {
        "incident_type": "SMUGGLING",
        "narrative": ". ".join(p for p in parts if p)[:20_000],
        "narrative_language": "en",
        "dead_count": _int(row.get("Number Dead", "")),
        "missing_count": _int(row.get("Minimum Estimated Number of Missing", "")),
        "survivor_count": _int(row.get("Number of Survivors", "")),
        "cause_of_death": row.get("Cause of Death", "").strip() or None,
    }
    return {
        "message_id": str(uuid.uuid5(IOM_NAMESPACE, f"mmp:{web_id}")),
        "source_ncb": country,
        "created_at": created.isoformat(),
        "event_time": event_time.isoformat(),
        "action": "CREATE",
        "case_refs": [f"IOM-MMP-{web_id}"],
        "operation_name": row.get("Migration Route") or None,
        "handling": {
            "handling_codes": ["H0"],
            "source_reliability": RELIABILITY.get(quality, "X"),
            "information_accuracy": ACCURACY.get(quality, 4),
            "contains_minor": bool(children),
        },
        "incident": {k: v for k, v in incident.items() if v is not None},
        "route": {
            "events": [
                {
                    "event_type": "DEATH_OR_MISSING",
                    "country": country,
                    "date": event_time.date().isoformat(),
                    "place": row.get("Location Description", "").strip()[:300] or None,
                    "latitude": lat,
                    "longitude": lon,
                }
            ]
        },
        "persons": [],
    }


def read_incidents(path: Path, now: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every incident of the CSV as an HST message."""
    now = now or dt.datetime.now(tz=dt.UTC)
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            yield row_to_message(row, now)
