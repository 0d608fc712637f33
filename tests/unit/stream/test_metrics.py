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

    body, status = health("w1", {}, search_up=True)
    assert status == 200 and body["status"] == "ok"
    body, status = health("w1", {"match": "KeyError: 'key'"}, search_up=True)
    assert status == 503 and body["crashed_agents"] == {"match": "KeyError: 'key'"}
