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
    Say,
    SearchServer,
    Server,
    StackError,
    TansuServer,
    java_major_version,
)


@dataclass(frozen=True)
class BrokerChoice:
    """Which broker the stack runs, and why."""

    kind: str
    reason: str


def choose_broker(setting: str) -> BrokerChoice:
    """Apache Kafka wherever a JDK 17+ is present; tansu otherwise; HST_BROKER forces one."""
    if setting in ("kafka", "tansu"):
        return BrokerChoice(setting, f"HST_BROKER={setting}")
    major = java_major_version()
    if major is not None and major >= 17:
        return BrokerChoice("kafka", f"JDK {major} found")
    found = "no JDK found" if major is None else f"JDK {major} is older than 17"
    return BrokerChoice("tansu", f"{found}: falling back to tansu (no SCRAM, ACLs or compaction)")


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

    def _search(self) -> SearchServer:
        return SearchServer(self.root / "osmem", self.settings.search_port)

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _servers(self) -> list[Server]:
        kind = self._state().get("broker")
        brokers = [self._broker(kind)] if kind else [self._broker("kafka"), self._broker("tansu")]
        return [*brokers, self._search()]

    def up(self, say: Say = print, timeout: float = 120.0) -> dict[str, Any]:
        """Start what is not running, wait until both answer, return the addresses."""
        state = self._state()
        running_kind = state.get("broker")
        if running_kind and self._broker(running_kind).running():
            choice = BrokerChoice(running_kind, "already running")
        else:
            choice = choose_broker(self.settings.broker)
            if choice.kind == "tansu":
                say(f"Broker: tansu ({choice.reason})")
        broker, search = self._broker(choice.kind), self._search()
        self.root.mkdir(parents=True, exist_ok=True)
        started = []
        for server in (broker, search):
            if server.start(say):
                started.append(server.name)
            else:
                say(f"{server.name} already running ({server.address})")
        try:
            started_at = time.monotonic()
            broker.wait_ready(timeout)
            search.wait_ready(max(10.0, timeout - (time.monotonic() - started_at)))
        except StackError:
            for name in started:
                (broker if name == broker.name else search).stop()
            raise
        info = {
            "broker": choice.kind,
            "broker_reason": choice.reason,
            "bootstrap_servers": broker.address,
            "search_url": search.address,
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
        """Addresses and liveness of each server."""
        state = self._state()
        out: dict[str, Any] = {"data_dir": str(self.root), "broker": state.get("broker")}
        for server in self._servers():
            record = server.running()
            out[server.name] = {
                "address": server.address,
                "pid": record.pid if record else None,
                "running": record is not None,
                "ready": record is not None and server.ready(),
                "log": str(server.logfile),
            }
        out["bootstrap_servers"] = state.get("bootstrap_servers")
        out["search_url"] = state.get("search_url")
        out["up"] = all(v["ready"] for k, v in out.items() if isinstance(v, dict)) and bool(state)
        return out
