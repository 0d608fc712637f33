"""Background server processes with pid files that remember exactly what was started."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Processes started by this interpreter: their Popen handles are the authority on liveness,
# so a server that is slow to show its final command line is never mistaken for a dead one.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file holds: the pid and the command line it was started with."""

    pid: int
    cmdline: list[str]

    def is_ours(self) -> bool:
        """True if the pid is alive and still runs the command we started (no pid reuse)."""
        child = _CHILDREN.get(self.pid)
        if child is not None:
            return child.poll() is None
        try:
            raw = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return raw.rstrip(b"\0").split(b"\0") == [a.encode() for a in self.cmdline]


def read_pidfile(path: Path) -> ProcessRecord | None:
    """The record in ``path``, or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text())
        return ProcessRecord(int(data["pid"]), [str(a) for a in data["cmdline"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def start_process(
    cmd: list[str], *, pidfile: Path, logfile: Path, env: dict[str, str] | None = None
) -> ProcessRecord:
    """Start ``cmd`` detached (own session, survives the CLI), output to ``logfile``."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    _CHILDREN[proc.pid] = proc
    record = ProcessRecord(proc.pid, cmd)
    pidfile.write_text(json.dumps({"pid": proc.pid, "cmdline": cmd}))
    return record


def stop_process(pidfile: Path, *, timeout: float = 20.0) -> bool:
    """Stop the process in ``pidfile`` if it is still the one we started. True if stopped."""
    record = read_pidfile(pidfile)
    stopped = False
    if record is not None and record.is_ours():
        os.kill(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while record.is_ours() and time.monotonic() < deadline:
            _reap(record.pid)
            time.sleep(0.1)
        if record.is_ours():
            os.kill(record.pid, signal.SIGKILL)
            while record.is_ours():
                _reap(record.pid)
                time.sleep(0.05)
        stopped = True
    pidfile.unlink(missing_ok=True)
    if record is not None:
        _CHILDREN.pop(record.pid, None)
    return stopped


def _reap(pid: int) -> None:
    """Collect a child's exit status (when the caller started it) so it does not linger."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def log_tail(logfile: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(logfile.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
