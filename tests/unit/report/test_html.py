"""The bulletin page: self-contained, escaped, suppressed values shown as "< k"."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pipeline.core.report import Scope, build
from pipeline.report.html import render

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


def doc(i: int, path: str, week: int) -> dict[str, Any]:
    day = dt.date(2026, 3, 2) + dt.timedelta(weeks=week)
    return {"message_id": f"m{i}", "source_ncb": "LBY", "event_time": f"{day}T08:00:00Z",
            "created_at": f"{day}T09:00:00Z", "incident_sub_region": "Northern Africa",
            "location": {"lat": 32.9, "lon": 13.2}, "route": {"path": path},
            "counts": {"persons": 1, "dead": 2}, "persons": [{"role": "MIGRANT"}]}  # fmt: skip


def test_page_is_self_contained_escaped_and_shows_suppression() -> None:
    docs = [doc(i, "LBY>ITA", 0) for i in range(6)] + [doc(10, "TUN>ITA", 1)]
    docs += [doc(20 + i, "<script>x</script>", 0) for i in range(5)]
    page = render(build(docs, Scope(recipient="ITA", region="Northern Africa"), NOW))
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert not re.search(r"<script|src=|href=", page)  # nothing to run or fetch
    assert "LBY → ITA" in page and "&lt;script" in page
    assert "TUN" not in page.split("Routes</h2>")[1]  # the 1-message route is not shown
    # The week of one message stays in the series with its values suppressed.
    assert "&lt; 5" in page and "2026-03-09" in page
    for heading in (
        "Headline figures",
        "Incident places",
        "Routes",
        "Weekly trend",
        "Largest networks",
        "Alerts",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert page.count('class="def"') >= 7  # every figure has its definition
