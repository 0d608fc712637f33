"""A worker's /metrics, as `hst run`, `hst stats` and `hst bench` read it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from prometheus_client import generate_latest

from pipeline.stack.servers import free_port
from pipeline.stream import metrics


def test_scrape_reads_stage_events_and_bulk_figures() -> None:
    metrics.EVENTS.labels("dedupe", "resend").inc(3)
    metrics.BULK_SECONDS.observe(0.5)
    body = generate_latest(metrics.REGISTRY)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        scraped = metrics.scrape_worker(server.server_address[1])
    finally:
        server.shutdown()
    assert scraped is not None
    assert scraped.stage_events[("dedupe", "resend")] >= 3
    assert scraped.bulk_count >= 1 and scraped.bulk_seconds >= 0.5


def test_scrape_of_an_absent_worker_is_none() -> None:
    assert metrics.scrape_worker(free_port(), timeout=1) is None


def test_health_fails_once_an_agent_has_crashed() -> None:
    from pipeline.stream.app import health

    body, status = health("w1", {}, search_up=True, held={})
    assert status == 200 and body["status"] == "ok"
    body, status = health("w1", {"match": "KeyError: 'key'"}, search_up=True, held={})
    assert status == 503 and body["crashed_agents"] == {"match": "KeyError: 'key'"}
    # A stage held through an outage is reported; a restart would not help, so still 200.
    body, status = health("w1", {}, search_up=True, held={"validate": 31.0})
    assert status == 200 and body["held_stages"] == {"validate": 31.0}


def test_a_worker_is_not_ready_while_search_is_down_or_a_stage_holds_events() -> None:
    from pipeline.stream.app import readiness

    assert readiness("w1", search_up=True, held={})[1] == 200
    assert readiness("w1", search_up=False, held={})[1] == 503
    body, status = readiness("w1", search_up=True, held={"validate": 4.0})
    assert status == 503 and body["held_stages"] == {"validate": 4.0}


def test_an_operator_reads_a_workers_health_in_one_line() -> None:
    assert metrics.describe_health(None) == "not answering"
    assert metrics.describe_health({"status": "ok", "search_up": True, "held_stages": {}}) == "ok"
    line = metrics.describe_health(
        {
            "crashed_agents": {"match": "KeyError"},
            "held_stages": {"validate": 31.4},
            "search_up": False,
        }
    )
    assert line == "crashed: match; holding validate for 31 s; search engine unavailable"


def test_the_health_of_an_absent_worker_is_none() -> None:
    assert metrics.worker_health(free_port(), timeout=1) is None
