"""Background stream workers started by ``hst run`` (tracked by pid like the servers)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.stack.process import read_pidfile, start_process, stop_process


@dataclass(frozen=True)
class BackgroundWorker:
    """A worker process: its name, web port, pid file and log."""

    name: str
    web_port: int
    pidfile: Path
    logfile: Path

    @property
    def running(self) -> bool:
        """True while the recorded process is alive and still ours."""
        record = read_pidfile(self.pidfile)
        return record is not None and record.is_ours()


def workers_dir(data_dir: Path) -> Path:
    """Where background workers keep pid, log and state."""
    return Path(data_dir).resolve() / "workers"


def start_worker(
    data_dir: Path,
    name: str,
    web_port: int,
    env: dict[str, str] | None = None,
    batch_size: int = 1000,
) -> BackgroundWorker:
    """Start ``hst worker`` detached, unless one with this name already runs."""
    root = workers_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    worker = BackgroundWorker(name, web_port, root / f"{name}.pid", root / f"{name}.log")
    if worker.running:
        return worker
    cmd = [sys.executable, "-m", "pipeline.cli.main", "worker", "--name", name,
           "--web-port", str(web_port), "--loglevel", "warning", "--batch-size", str(batch_size)]  # fmt: skip
    start_process(cmd, pidfile=worker.pidfile, logfile=worker.logfile, env=env)
    (root / f"{name}.json").write_text(json.dumps({"name": name, "web_port": web_port}))
    return worker


def known_workers(data_dir: Path) -> list[BackgroundWorker]:
    """Workers recorded under the data directory (running or not)."""
    root = workers_dir(data_dir)
    out = []
    for meta in sorted(root.glob("*.json")) if root.exists() else []:
        info = json.loads(meta.read_text())
        out.append(BackgroundWorker(info["name"], int(info["web_port"]),
                                    root / f"{info['name']}.pid", root / f"{info['name']}.log"))  # fmt: skip
    return out


def stop_workers(data_dir: Path) -> list[str]:
    """Stop the background workers (pid and command line verified)."""
    return [w.name for w in known_workers(data_dir) if stop_process(w.pidfile, timeout=30)]
