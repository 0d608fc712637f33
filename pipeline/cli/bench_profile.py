"""Where a worker's CPU goes, stage by stage: a py-spy sampling profile taken in the benchmark.

py-spy samples the worker's stacks from outside (the worker is paused while its stack is
read). A sample counts for the stage whose code is on its stack (the stage classes of
``pipeline.stream``, with everything they call: encoding, table writes, sends); the rest is
Faust's and the Kafka client's own work (fetching, dispatching, committing, producing).
"""

from __future__ import annotations

import contextlib
import inspect
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from pipeline.stream.diffusion import Notify
from pipeline.stream.indexing import Index
from pipeline.stream.ingest import Dedupe, Validate
from pipeline.stream.matching import Fanout, Match
from pipeline.stream.networks import Network
from pipeline.stream.synthesis import Aggregate, Facts

STAGES = {
    "validate": Validate,
    "dedupe": Dedupe,
    "index": Index,
    "fanout": Fanout,
    "match": Match,
    "network": Network,
    "notify": Notify,
    "facts": Facts,
    "aggregate": Aggregate,
}
# Outside the stages, the innermost library on the stack names the work.
LIBRARIES = (
    ("aiokafka", "Kafka client (fetch, produce)"),
    ("rocksdict", "tables (RocksDB)"),
    ("faust", "Faust (dispatch, tables, commit)"),
    ("mode", "Faust (dispatch, tables, commit)"),
    ("elastic", "search client"),
    ("aiohttp", "search client"),
)
_FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>.*):(?P<line>\d+)\)$")


def stage_code() -> list[tuple[str, str, int, int]]:
    """(stage, source file, first line, last line) of each stage class."""
    out = []
    for name, cls in STAGES.items():
        lines, first = inspect.getsourcelines(cls)
        out.append(
            (
                name,
                str(Path(inspect.getsourcefile(cls) or "").resolve()),
                first,
                first + len(lines) - 1,
            )
        )
    return out


def attribute(raw: str, code: list[tuple[str, str, int, int]]) -> Counter[str]:
    """Samples per stage (or library) of a py-spy ``raw`` profile (collapsed stacks)."""
    counts: Counter[str] = Counter()
    for entry in raw.splitlines():
        stack, _, n = entry.rpartition(" ")
        if not n.isdigit():
            continue
        frames = [m for m in map(_FRAME.match, stack.split(";")) if m]
        counts[_owner(frames, code)] += int(n)
    return counts


def _owner(frames: list[re.Match[str]], code: list[tuple[str, str, int, int]]) -> str:
    for frame in frames:  # outermost first: the stage that called everything below
        file, line = frame["file"], int(frame["line"])
        for stage, source, first, last in code:
            if file == source and first <= line <= last:
                return stage
    for frame in reversed(frames):  # innermost first
        for marker, label in LIBRARIES:
            if f"/{marker}" in frame["file"]:
                return label
    return "other (event loop, GC, logging)"


@contextlib.contextmanager
def profiled(pid: int | None, output: Path, rate: int = 100) -> Iterator[bool]:
    """Sample ``pid`` while the block runs; yields whether a profile is being taken.

    Each sample pauses the worker for a moment (without, py-spy reads torn stacks that
    name no stage): the benchmark's throughput is measured with the profile on.
    """
    exe = str(Path(sys.executable).parent / "py-spy")  # the venv's (extra dev)
    exe = exe if Path(exe).exists() else shutil.which("py-spy") or exe
    if pid is None or not Path(exe).exists():
        yield False
        return
    proc = subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--output",
            str(output),
            "--rate",
            str(rate),
            "--full-filenames",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield True
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
