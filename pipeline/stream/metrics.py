"""Prometheus metrics of a worker (served on its web port at /metrics)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

REGISTRY = CollectorRegistry()

EVENTS = Counter(
    "hst_stage_events_total",
    "Events per stage and outcome",
    ["stage", "outcome"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "hst_dead_letters_total",
    "Dead letters per stage and error type",
    ["stage", "error_type"],
    registry=REGISTRY,
)
ACKS = Counter(
    "hst_acks_total", "Acknowledgements sent to gateways, per state", ["state"], registry=REGISTRY
)
BULK_SECONDS = Histogram(
    "hst_bulk_seconds",
    "Time to write one bulk batch (retries included)",
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
SEARCH_RETRIES = Counter(
    "hst_search_retries_total", "Bulk retries (search unavailable)", registry=REGISTRY
)
COMMIT_HOLES = Counter(
    "hst_commit_holes_total",
    "Partitions whose commit was held by an unacknowledged offset, per remedy (seek, skip)",
    ["action"],
    registry=REGISTRY,
)
UNDELIVERED = Counter(
    "hst_undelivered_records_total",
    "Records the broker did not take after they were sent (the worker stops committing)",
    ["error"],
    registry=REGISTRY,
)
AGENT_CRASHES = Counter(
    "hst_agent_crashes_total",
    "Exceptions that escaped an agent's guards (its events may be acknowledged unprocessed)",
    ["agent"],
    registry=REGISTRY,
)
DERIVED_PAUSED = Gauge(
    "hst_derived_stages_paused",
    "1 while cross-matching, diffusion and synthesis wait for the indexing backlog (index first)",
    registry=REGISTRY,
)
SEARCH_UP = Gauge(
    "hst_search_up", "1 when the last bulk succeeded, 0 while retrying", registry=REGISTRY
)


@dataclass(frozen=True)
class WorkerMetrics:
    """What a running worker reports on its /metrics endpoint."""

    stage_events: dict[tuple[str, str], float]  # (stage, outcome) -> events
    bulk_count: float
    bulk_seconds: float


def scrape_worker(port: int, timeout: float = 3.0) -> WorkerMetrics | None:
    """Read a worker's metrics on 127.0.0.1:port; None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    events: dict[tuple[str, str], float] = {}
    bulk = {"hst_bulk_seconds_count": 0.0, "hst_bulk_seconds_sum": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hst_stage_events_total":
                events[(sample.labels["stage"], sample.labels["outcome"])] = sample.value
            elif sample.name in bulk:
                bulk[sample.name] = sample.value
    return WorkerMetrics(events, bulk["hst_bulk_seconds_count"], bulk["hst_bulk_seconds_sum"])


def worker_health(port: int, timeout: float = 3.0) -> dict[str, Any] | None:
    """A worker's ``/health`` answer (also when it is 503); None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:  # 503 carries the same body: what has crashed
        body = exc.read()
    except OSError:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def describe_health(answer: dict[str, Any] | None) -> str:
    """One line for an operator: ok, crashed agents, held stages, or not answering."""
    if answer is None:
        return "not answering"
    parts = []
    if answer.get("crashed_agents"):
        parts.append("crashed: " + ", ".join(sorted(answer["crashed_agents"])))
    held = answer.get("held_stages") or {}
    if held:
        parts.append("holding " + ", ".join(f"{s} for {t:.0f} s" for s, t in held.items()))
    if answer.get("search_up") is False:
        parts.append("search engine unavailable")
    return "; ".join(parts) or "ok"
