"""Synthesis on the embedded stack: exact aggregates and trend alerts from a real worker."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.codec import SYNTHESIS, AvroCodec
from pipeline.core.networks import network_id_of
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.dlq import read_to_end
from pipeline.kafka.inbox import read_inbox
from pipeline.kafka.publisher import Publisher
from pipeline.search.client import sync_client
from pipeline.search.query import QueryError, SearchFilters, build_query
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    count,
    expected_outcome,
    isolated,
    search_all,
    settled,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration

SURGE = 30
HIDDEN_ROUTE = {"origin_country": "NPL", "transit_countries": ["QAT"], "destination_country": "ITA"}
HIDDEN = 6  # messages on that route, each denying FRA


@dataclass
class Run:
    """What one worker made of the data set."""

    cfg: Settings
    tmp: Path
    data: Any
    docs: list[dict[str, Any]]
    synthesis: list[dict[str, Any]]
    records: list[dict[str, Any]]
    route: str
    week: str


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _path(m: dict[str, Any]) -> str:
    r = m["route"]
    return ">".join(
        [r["origin_country"], *r.get("transit_countries", []), r["destination_country"]]
    )


def _surge(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str, str]:
    """SURGE new reports of incidents in one week on a route known for months before it."""
    last = max(_when(m["event_time"]) for m in messages if m.get("event_time"))
    monday = (last - dt.timedelta(days=last.weekday())).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    early = [m for m in messages if m["action"] == "CREATE" and m.get("event_time")
             and m.get("route", {}).get("destination_country")
             and _when(m["event_time"]) < monday - dt.timedelta(weeks=12)]  # fmt: skip
    route, _ = Counter(_path(m) for m in early).most_common(1)[0]
    model = next(m for m in early if _path(m) == route)
    clones = []
    for i in range(SURGE):
        when = monday + dt.timedelta(hours=i)
        clones.append({**model, "message_id": str(uuid.uuid4()), "event_time": when.isoformat(),
                       "created_at": max(_when(model["created_at"]), when + dt.timedelta(hours=1)).isoformat()})  # fmt: skip
    return clones, route, monday.date().isoformat()


def _hidden(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HIDDEN reports on a route nobody else reports, one per week, that FRA may not see."""
    model = next(m for m in messages if m["action"] == "CREATE" and m.get("event_time"))
    start = _when(model["event_time"])
    return [{**model, "message_id": str(uuid.uuid4()), "route": {**model["route"], **HIDDEN_ROUTE},
             "event_time": (start + dt.timedelta(weeks=i)).isoformat(),
             "created_at": (max(start + dt.timedelta(weeks=i), _when(model["created_at"]))
                            + dt.timedelta(hours=1)).isoformat(),
             "handling": {**model["handling"], "handling_codes": ["H1"], "dissemination_allowlist": [],
                          "dissemination_denylist": ["FRA"]}}
            for i in range(HIDDEN)]  # fmt: skip


@pytest.fixture(scope="module")
def run(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """500 messages with re-sends, updates and withdrawals, then a surge on one route."""
    tmp = tmp_path_factory.mktemp("synthesis")
    cfg = isolated(stack, tmp)
    data = generate(GeneratorConfig(count=500, seed=81, resend_share=0.05, update_share=0.05,
                                    withdraw_share=0.05))  # fmt: skip
    clones, route, week = _surge(data.messages)
    messages = data.messages + clones + _hidden(data.messages)
    expected = expected_outcome(messages, dt.datetime.now(tz=dt.UTC))
    workers = Workers(cfg, tmp)
    try:
        workers.start("w1")
        with Publisher(cfg) as publisher:
            for m in messages:
                publisher.publish_json(m)
        wait_for(lambda: count(cfg) >= expected.live_count, 300, "every message indexed")
        settled(cfg)
        docs = search_all(cfg, cfg.index_alias)
        synthesis = search_all(cfg, cfg.synthesis_alias)
        codec = AvroCodec(SYNTHESIS)
        records = [codec.decode(m.value()) for m in read_to_end(cfg, cfg.topic_synthesis)]
        return Run(cfg, tmp, data, docs, synthesis, records, route, week)
    finally:
        workers.stop_all()


def _recompute(docs: list[dict[str, Any]], dimension: str) -> dict[tuple[str, str], Counter[str]]:
    """Weekly cells recomputed from the message index, independently of the pipeline's code."""
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for d in docs:
        day = _when(d.get("event_time") or d["created_at"]).date()
        week = (day - dt.timedelta(days=day.weekday())).isoformat()
        values = {"route": [d["route"].get("path")], "region": [d.get("incident_sub_region")],
                  "all": ["all"]}[dimension]  # fmt: skip
        for value in filter(None, values):
            c = cells[(value, week)]
            c["messages"] += 1
            for k in ("persons", "victims", "minors", "dead", "missing"):
                c[k] += d["counts"][k]
            for p in d["persons"]:
                c[f"role:{p['role']}"] += 1
    return cells


@pytest.mark.parametrize("dimension", ["route", "region", "all"])
def test_counts_equal_a_recomputation_from_the_index(run: Run, dimension: str) -> None:
    data, docs, synthesis = run.data, run.docs, run.synthesis
    assert data.kinds["withdraw"] > 0 and data.kinds["update"] > 0 and data.kinds["resend"] > 0
    mine = {(s["value"], s["window_start"][:10]): Counter({k: v for k, v in s["measures"].items() if v})
            for s in synthesis
            if s["kind"] == "CELL" and s["granularity"] == "week" and s["dimension"] == dimension}  # fmt: skip
    expected = {
        k: Counter({m: n for m, n in v.items() if n})
        for k, v in _recompute(docs, dimension).items()
    }
    assert set(mine) == set(expected)
    wrong = {
        k: (mine[k], expected[k])
        for k in expected
        if {m: mine[k][m] for m in expected[k]} != expected[k]
    }
    assert not wrong
    assert sum(c["messages"] for c in mine.values()) == len(docs)


def test_new_networks_count_in_their_founders_cells(run: Run) -> None:
    """A live network counts once, in the cells of the message whose id names it."""
    founders = [d for d in run.docs if d.get("network_id") == network_id_of(d["message_id"])]
    assert len(founders) >= 5, "the data set should link messages into networks"
    cells = [
        s for s in run.synthesis if s["kind"] == "CELL" and s["series"].startswith("week|all:")
    ]
    assert sum(c["measures"].get("networks_new", 0) for c in cells) == len(founders)
    weeks = Counter(_week(d) for d in founders)
    assert {c["window_start"][:10]: c["measures"].get("networks_new", 0) for c in cells
            if c["measures"].get("networks_new")} == dict(weeks)  # fmt: skip


def _week(d: dict[str, Any]) -> str:
    day = _when(d.get("event_time") or d["created_at"]).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def test_a_surge_on_one_route_alerts_and_steady_routes_do_not(run: Run) -> None:
    synthesis, records, route, week = run.synthesis, run.records, run.route, run.week
    alerts = [s for s in synthesis if s["kind"] == "ALERT" and s["dimension"] == "route"]
    assert [(a["value"], a["window_start"][:10]) for a in alerts] == [(route, week)]
    alert = alerts[0]
    cell = next(s for s in synthesis if s["kind"] == "CELL" and s["series"] == alert["series"]
                and s["window_start"] == alert["window_start"])  # fmt: skip
    # The alert carries the window's final numbers, not those of the batch that crossed the bar.
    assert alert["measures"] == cell["measures"] and alert["measures"]["messages"] >= SURGE
    assert alert["z"] >= 3.5 and len(alert["baseline"]) == 8
    assert str(alert["measures"]["messages"]) in alert["reason"]
    # The synthesis topic carries it too; its latest version has the same numbers.
    latest = [r for r in records if r["kind"] == "ALERT" and r["record_id"] == alert["record_id"]]
    assert latest and latest[-1]["measures"] == alert["measures"]


def _visible_to(ncb: str) -> dict[str, Any]:
    """The source restrictions as a search query, written independently of the policy module."""
    hidden = [
        {"term": {"handling.dissemination_denylist": ncb}},
        {"term": {"handling.handling_codes": "H2"}},
        {"bool": {"filter": [{"exists": {"field": "handling.dissemination_allowlist"}}],
                  "must_not": [{"term": {"handling.dissemination_allowlist": ncb}}]}},
    ]  # fmt: skip
    return {"bool": {"should": [{"term": {"source_ncb": ncb}}, {"bool": {"must_not": hidden}}],
                     "minimum_should_match": 1}}  # fmt: skip


def _report(run: Run, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli.main", "report", *args],
                          env=worker_env(run.cfg), capture_output=True, text=True, timeout=300,
                          check=True, cwd=run.tmp)  # fmt: skip


def test_bulletin_figures_equal_the_index_and_restricted_messages_leave_no_trace(run: Run) -> None:
    hidden_path = "NPL>QAT>ITA"
    for ncb in ("FRA", "ITA"):
        figures = json.loads(_report(run, "--for", ncb, "--json").stdout)
        visible = search_all(run.cfg, run.cfg.index_alias, _visible_to(ncb))
        assert 0 < len(visible) < len(run.docs)
        head = figures["headline"]
        assert head["messages"] == len(visible) == figures["messages_used"]
        for key in ("persons", "victims", "minors", "dead", "missing"):
            assert head[key] == sum(d["counts"][key] for d in visible), key
        by_route = Counter(d["route"]["path"] for d in visible)
        for r in figures["routes"]:
            assert r["messages"] == by_route[r["path"]] >= 5
        top = by_route.most_common(1)[0][1]
        assert figures["routes"][0]["messages"] == top  # the busiest visible route leads
        if ncb == "FRA":  # denied: not counted, not named anywhere in the figures
            assert by_route[hidden_path] == 0 and hidden_path not in json.dumps(figures)
        else:  # allowed: counted in the figures checked above
            assert by_route[hidden_path] == HIDDEN


def test_bulletin_page_and_its_diffusion_to_the_recipient(run: Run) -> None:
    out = run.tmp / "bulletin-ITA.html"
    _report(run, "--for", "ITA", "--out", str(out), "--diffuse")
    page = out.read_text(encoding="utf-8")
    figures = json.loads(_report(run, "--for", "ITA", "--json").stdout)
    assert f"Built from {figures['messages_used']:,} messages" in page and "<h2>Alerts</h2>" in page
    bulletin_id = re.search(r'name="hst-bulletin-id" content="([0-9a-f]+)"', page)
    assert bulletin_id
    notices = [n for n in read_inbox(run.cfg, "ITA", timeout=30.0) if n["kind"] == "SYNTHESIS"]
    assert [n["source_message_id"] for n in notices] == [bulletin_id.group(1)]
    assert json.loads(notices[0]["content_json"])["scope"]["recipient"] == "ITA"
    # Nobody else received it.
    assert not [n for n in read_inbox(run.cfg, "FRA", timeout=30.0) if n["kind"] == "SYNTHESIS"]


def test_search_input_cannot_widen_a_query(run: Run) -> None:
    """On the populated index: wildcards and query syntax in any filter match nothing."""
    es = sync_client(run.cfg)
    assert es.count(index=run.cfg.index_alias)["count"] == len(run.docs)
    for value in ("*", "*:*", "source_ncb:*", '") OR ("*'):
        for field in ("person", "network", "ncb", "country", "text"):
            try:
                query = build_query(SearchFilters(**{field: value}))
            except QueryError:
                continue
            assert es.count(index=run.cfg.index_alias, query=query)["count"] == 0, (field, value)


def test_every_analyst_search_is_audited_before_results_are_shown(run: Run) -> None:
    person = next(d["persons"][0]["full_name"] for d in run.docs if d["persons"])
    env = {**worker_env(run.cfg), "HST_ANALYST": "analyst-7"}
    cli = [sys.executable, "-m", "pipeline.cli.main", "search", "--person", person, "--json"]
    out = subprocess.run(
        cli, env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    shown = [json.loads(line)["message_id"] for line in out.splitlines()]
    assert shown
    (record,) = [a for a in search_all(run.cfg, run.cfg.audit_alias) if a["analyst"] == "analyst-7"]
    assert record["filters"] == {"person": person} and record["returned_ids"] == shown
    assert record["total"] >= len(shown) and record["command"] == "search"
    # No audit, no results: with an audit index that cannot be written, nothing is shown.
    failed = subprocess.run(cli, env={**env, "HST_AUDIT_ALIAS": "_not-an-index"}, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert failed.returncode == 3 and failed.stdout == "" and "audited" in failed.stderr
