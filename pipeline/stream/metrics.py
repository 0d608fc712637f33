"""Prometheus metrics of a worker (served on its web port at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

EVENTS = Counter(
    "hst_stage_events_total",
    "Events per stage and outcome",
    ["stage", "outcome"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "hst_dead_letters_total", "Dead letters per stage and error type", ["stage", "error_type"],
    registry=REGISTRY,
)  # fmt: skip
BULK_SECONDS = Histogram(
    "hst_bulk_seconds", "Time to write one bulk batch (retries included)", registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)  # fmt: skip
SEARCH_RETRIES = Counter(
    "hst_search_retries_total", "Bulk retries (search unavailable)", registry=REGISTRY
)
SEARCH_UP = Gauge(
    "hst_search_up", "1 when the last bulk succeeded, 0 while retrying", registry=REGISTRY
)
