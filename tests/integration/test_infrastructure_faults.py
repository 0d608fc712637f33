"""Infrastructure failures are outages, never the message's fault: held, then delivered.

Each error class of the issue on real servers, with a worker process:
- the search engine refusing the worker's credentials (401) for a while: a second embedded
  OpenSearch that asks for basic credentials, whose users file is changed under it;
- the worker's watch-list directory unreadable while messages arrive;
- the schema registry unreachable for 30 s while Confluent-framed messages wait. No schema
  registry server can be installed on these machines (Confluent's is not on Maven Central,
  Karapace not on the package index), so a minimal registry speaking the two calls of its
  REST API the project makes stands in for it; the registry client is confluent-kafka's.
And the audit log names the user the engine authenticated, not the one the caller claims.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pipeline.settings import Settings
from pipeline.stack.servers import OpenSearchServer, free_ports, write_search_users
from pipeline.stream.metrics import worker_health
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    assert_nothing_rejected,
    count,
    isolated,
    plain_messages,
    publish_all,
    ready_status,
    search_all,
    settled,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration

USER, PASSWORD = "hst-worker", "first-password"


@pytest.fixture(scope="module")
def secured(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Path]]:
    """Settings on a second embedded OpenSearch that asks for credentials, and its users file."""
    if stack.search_username or stack.search_api_key:
        pytest.skip("an external search engine: the credentials cannot be revoked from here")
    root = tmp_path_factory.mktemp("secured-engine")
    port, transport = free_ports(2)
    engine = OpenSearchServer(
        root,
        port,
        transport,
        stack.opensearch_version,
        "512m",
        {"admin": "admin-password", USER: PASSWORD},
    )
    engine.start(lambda _m: None)
    try:
        engine.wait_ready(180)
        cfg = stack.model_copy(
            update={
                "search_url": engine.address,
                "search_compat_headers": True,
                "search_username": USER,
                "search_password": SecretStr(PASSWORD),
            }
        )
        yield cfg, root / "config" / "users"
    finally:
        engine.stop()


def _users(users_file: Path, worker_password: str) -> None:
    write_search_users(users_file, {"admin": "admin-password", USER: worker_password})


def test_the_audit_log_names_the_user_the_engine_authenticated(
    secured: tuple[Settings, Path], tmp_path: Path
) -> None:
    cfg = isolated(secured[0], tmp_path)
    cfg = cfg.model_copy(update={"audit_alias": f"hst-audit-{cfg.app_id}"})
    env = {**worker_env(cfg), "HST_ANALYST": "someone-else"}
    cli = [sys.executable, "-m", "pipeline.cli.main", "search", "--ncb", "ITA", "--json"]
    subprocess.run(cli, env=env, capture_output=True, text=True, check=True, timeout=120)
    (record,) = search_all(cfg, cfg.audit_alias)
    assert (record["analyst"], record["analyst_verified"]) == (USER, True)
    assert record["analyst_claimed"] == "someone-else"
    # Wrong credentials: no search, no audit record, a readable error.
    refused = subprocess.run(
        cli,
        env={**env, "HST_SEARCH_PASSWORD": "wrong"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and refused.stdout == ""
    assert "Traceback" not in refused.stderr
    assert len(search_all(cfg, cfg.audit_alias)) == 1


@pytest.mark.timeout(600)
def test_credentials_refused_for_a_while_hold_the_worker_and_reject_nothing(
    secured: tuple[Settings, Path], tmp_path: Path
) -> None:
    base, users_file = secured
    cfg = isolated(base, tmp_path)
    worker_cfg = cfg.model_copy(update={"search_timeout": 8.0, "search_write_timeout": 8.0})
    messages = plain_messages(400, seed=61)
    workers = Workers(worker_cfg, tmp_path)
    try:
        worker = workers.start("w1")
        publish_all(cfg, messages[:200])
        wait_for(lambda: count(cfg) >= 200, 180, "the first 200 messages indexed")
        assert ready_status(worker.web_port) == 200
        _users(users_file, "rotated-password")  # the worker's password no longer works
        try:
            publish_all(cfg, messages[200:])
            wait_for(lambda: ready_status(worker.web_port) == 503, 60, "the worker out of service")
            time.sleep(20)
            assert worker.proc.poll() is None, "the worker died while its credentials were refused"
        finally:
            _users(users_file, PASSWORD)
        wait_for(lambda: count(cfg) >= len(messages), 300, "every message indexed")
        settled(cfg)
        assert sorted(all_ids(cfg)) == sorted(m["message_id"] for m in messages)
        assert ready_status(worker.web_port) == 200
        log = worker.log.read_text(errors="replace")
        assert "refused our credentials" in log, (
            "the refusal was not noticed: the test proved nothing"
        )
        assert_nothing_rejected(cfg)
    finally:
        _users(users_file, PASSWORD)
        workers.stop_all()


def _first_document(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    for m in messages:
        for person in m.get("persons") or []:
            for doc in person.get("documents") or []:
                return m["message_id"], doc
    raise AssertionError("no identity document in the generated messages")


@pytest.mark.timeout(600)
def test_an_unreadable_watch_list_directory_rejects_nothing(
    stack: Settings, tmp_path: Path
) -> None:
    lists = tmp_path / "watchlists"
    lists.mkdir()
    cfg = isolated(stack, tmp_path).model_copy(update={"watchlist_dir": lists})
    messages = plain_messages(200, seed=62)
    first, second = messages[:100], messages[100:]
    watched = [_first_document(first), _first_document(second)]
    rows = "".join(f"document,{d['number']},{d['issuing_country']}\n" for _, d in watched)
    (lists / "sltd.csv").write_text("kind,value,country\n" + rows)
    workers = Workers(cfg, tmp_path)
    try:
        worker = workers.start("w1")
        publish_all(cfg, first)
        wait_for(lambda: count(cfg) >= len(first), 180, "the first messages indexed")
        # Root reads any directory whatever its mode: the path turns into a plain file, which
        # fails the worker's read (ENOTDIR) the way a directory made unreadable does.
        lists.rename(tmp_path / "watchlists.away")
        lists.write_text("not a directory")
        time.sleep(7)  # the worker looks at its lists every 5 s
        publish_all(cfg, second)
        wait_for(lambda: count(cfg) >= len(messages), 180, "every message indexed")
        settled(cfg)
        assert sorted(all_ids(cfg)) == sorted(m["message_id"] for m in messages)
        hits = {
            doc["message_id"]
            for doc in search_all(cfg, cfg.index_alias, {"exists": {"field": "screening.list"}})
        }
        # The previous lists keep screening while the directory cannot be read.
        assert {message_id for message_id, _ in watched} <= hits
        assert worker.proc.poll() is None
        log = worker.log.read_text(errors="replace")
        assert "watch lists not reloaded" in log, (
            "the failure was not noticed: the test proved nothing"
        )
        assert_nothing_rejected(cfg)
    finally:
        workers.stop_all()


class _Registry:
    """A registry answering the two calls the project makes (register, schema by id)."""

    def __init__(self, port: int = 0) -> None:
        self.schemas: dict[int, str] = {}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                schema_id = next(
                    (i for i, s in registry.schemas.items() if s == body["schema"]),
                    len(registry.schemas) + 1,
                )
                registry.schemas[schema_id] = body["schema"]
                self._answer(200, {"id": schema_id})

            def do_GET(self) -> None:
                schema_id = int(self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
                if schema_id not in registry.schemas:
                    self._answer(404, {"error_code": 40403, "message": "Schema not found"})
                    return
                self._answer(200, {"schema": registry.schemas[schema_id], "schemaType": "AVRO"})

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.timeout(600)
def test_a_registry_unreachable_for_30_s_holds_and_rejects_nothing(
    stack: Settings, tmp_path: Path
) -> None:
    registry = _Registry()
    cfg = isolated(stack, tmp_path).model_copy(
        update={"schema_registry_url": f"http://127.0.0.1:{registry.port}"}
    )
    messages = plain_messages(100, seed=63)
    publish_all(cfg, messages)  # Confluent-framed: the worker must ask the registry for the schema
    schemas = dict(registry.schemas)
    assert schemas, "the publisher did not use the registry: the test would prove nothing"
    registry.stop()
    workers = Workers(cfg, tmp_path)
    try:
        worker = workers.start("w1")
        time.sleep(30)
        assert count(cfg) == 0
        assert worker.proc.poll() is None
        # Out of service while it holds, and saying which stage holds.
        assert ready_status(worker.web_port) == 503
        assert "validate" in (worker_health(worker.web_port) or {}).get("held_stages", {})
        registry = _Registry(int(cfg.schema_registry_url.rsplit(":", 1)[1]))  # type: ignore[union-attr]
        registry.schemas.update(schemas)
        wait_for(lambda: count(cfg) >= len(messages), 240, "every message indexed")
        settled(cfg)
        assert sorted(all_ids(cfg)) == sorted(m["message_id"] for m in messages)
        log = worker.log.read_text(errors="replace")
        assert "held" in log, "the outage was not noticed: the test proved nothing"
        assert_nothing_rejected(cfg)
    finally:
        registry.stop()
        workers.stop_all()
