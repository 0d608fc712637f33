"""``hst stack up | down | status``: the embedded broker and search server as one unit."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.settings import Settings
from pipeline.stack.servers import (
    KafkaServer,
    OpenSearchServer,
    OsmemServer,
    Say,
    SearchServer,
    Server,
    StackError,
    TansuServer,
    java_major_version,
)


@dataclass(frozen=True)
class ServerChoice:
    """Which server (broker or search engine) the stack runs, and why."""

    kind: str
    reason: str


def _choose(setting: str, variable: str, with_jdk: str, without: str, lacks: str) -> ServerChoice:
    """``with_jdk`` wherever a JDK 17+ is present, else the fallback; ``setting`` may force one."""
    if setting in (with_jdk, without):
        return ServerChoice(setting, f"{variable}={setting}")
    major = java_major_version()
    if major is not None and major >= 17:
        return ServerChoice(with_jdk, f"JDK {major} found")
    found = "no JDK found" if major is None else f"JDK {major} is older than 17"
    return ServerChoice(without, f"{found}: falling back to {without} ({lacks})")


def choose_broker(setting: str) -> ServerChoice:
    """Apache Kafka wherever a JDK 17+ is present; tansu otherwise; HST_BROKER forces one."""
    return _choose(setting, "HST_BROKER", "kafka", "tansu", "no SCRAM, ACLs or compaction")


def choose_search(setting: str) -> ServerChoice:
    """OpenSearch wherever a JDK 17+ is present; osmem (extra ``nojdk``) otherwise or if forced."""
    return _choose(
        setting,
        "HST_SEARCH_ENGINE",
        "opensearch",
        "osmem",
        "in memory: the index is lost at every stop",
    )


class Stack:
    """The embedded stack under ``data_dir``: state in ``stack.json``, one folder per server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.data_dir).resolve()
        self.state_file = self.root / "stack.json"

    def _broker(self, kind: str) -> Server:
        s = self.settings
        if kind == "kafka":
            return KafkaServer(self.root / "kafka", s.kafka_port, s.kafka_controller_port,
                               s.kafka_version, s.kafka_heap)  # fmt: skip
        return TansuServer(self.root / "tansu", s.kafka_port)

    def _search(self, kind: str) -> SearchServer:
        s = self.settings
        if kind == "opensearch":
            # Credentials in the settings are the embedded engine's only user: it asks for them.
            users = (
                {s.search_username: s.search_password.get_secret_value()}
                if s.search_username and s.search_password
                else None
            )
            return OpenSearchServer(self.root / "opensearch", s.search_port, s.search_transport_port,
                                    s.opensearch_version, s.search_heap, users)  # fmt: skip
        return OsmemServer(self.root / "osmem", s.search_port)

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _servers(self) -> list[Server]:
        state = self._state()
        kind, engine = state.get("broker"), state.get("search")
        brokers = [self._broker(kind)] if kind else [self._broker("kafka"), self._broker("tansu")]
        engines = (
            [self._search(engine)]
            if engine
            else [self._search("opensearch"), self._search("osmem")]
        )
        return [*brokers, *engines]

    def up(
        self, say: Say = print, timeout: float = 180.0, *, search: bool = True
    ) -> dict[str, Any]:
        """Start what is not running, wait until both answer, return the addresses.

        The first start fetches the servers' jars from Maven Central (cached per user); the
        search engine's data stays under ``data_dir`` across stops and restarts. With
        ``search=False`` only the broker is started (tests against an external engine).
        """
        state = self._state()
        running_kind = state.get("broker")
        if running_kind and self._broker(running_kind).running():
            choice = ServerChoice(running_kind, "already running")
        else:
            choice = choose_broker(self.settings.broker)
            if choice.kind == "tansu":
                say(f"Broker: tansu ({choice.reason})")
        running_engine = state.get("search")
        if running_engine and self._search(running_engine).running():
            engine = ServerChoice(running_engine, "already running")
        else:
            engine = choose_search(self.settings.search_engine)
            if engine.kind == "osmem":
                say(f"Search: osmem ({engine.reason})")
        broker, engine_server = self._broker(choice.kind), self._search(engine.kind)
        self.root.mkdir(parents=True, exist_ok=True)
        servers: list[Server] = [broker, engine_server] if search else [broker]
        started = []
        for server in servers:
            if server.start(say):
                started.append(server.name)
            else:
                say(f"{server.name} already running ({server.address})")
        try:
            started_at = time.monotonic()
            broker.wait_ready(timeout)
            if search:
                engine_server.wait_ready(max(10.0, timeout - (time.monotonic() - started_at)))
        except StackError:
            for server in servers:
                if server.name in started:
                    server.stop()
            raise
        info = {
            "broker": choice.kind,
            "broker_reason": choice.reason,
            "bootstrap_servers": broker.address,
            "search": engine.kind if search else None,
            "search_reason": engine.reason if search else "external",
            "search_version": engine_server.version() if search else None,
            "search_url": engine_server.address if search else None,
            "data_dir": str(self.root),
        }
        self.state_file.write_text(json.dumps(info, indent=2))
        return info

    def down(self) -> list[str]:
        """Stop only the processes this stack started (workers first); return their names."""
        from pipeline.stack.workers import stop_workers

        stopped = [f"worker {name}" for name in stop_workers(self.root)]
        stopped += [server.name for server in self._servers() if server.stop()]
        self.state_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, Any]:
        """Addresses and liveness of each server, and the background workers."""
        from pipeline.stack.workers import known_workers

        state = self._state()
        out: dict[str, Any] = {"data_dir": str(self.root), "broker": state.get("broker"),
                               "search": state.get("search")}  # fmt: skip
        for server in self._servers():
            record = server.running()
            out[server.name] = {
                "address": server.address,
                "pid": record.pid if record else None,
                "running": record is not None,
                "ready": record is not None and server.ready(),
                "log": str(server.logfile),
            }
            if isinstance(server, SearchServer):
                out[server.name]["version"] = server.version() if record else None
        out["bootstrap_servers"] = state.get("bootstrap_servers")
        out["search_url"] = state.get("search_url")
        out["up"] = all(v["ready"] for k, v in out.items() if isinstance(v, dict)) and bool(state)
        out["workers"] = [
            {
                "name": w.name,
                "running": w.running,
                "metrics": f"http://127.0.0.1:{w.web_port}/metrics",
                "log": str(w.logfile),
            }
            for w in known_workers(self.root)
        ]
        return out
