"""Pid files: `down` stops only what `up` started, never a process that reused the pid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.stack.process import read_pidfile, start_process, stop_process
from pipeline.stack.servers import java_major_version
from pipeline.stack.stack import choose_broker, choose_search


def test_started_process_is_recognised_and_stopped(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    record = start_process([sys.executable, "-c", "import time; time.sleep(60)"],
                           pidfile=pidfile, logfile=tmp_path / "x.log")  # fmt: skip
    assert read_pidfile(pidfile) == record
    assert record.is_ours()
    assert stop_process(pidfile, timeout=5)
    assert not record.is_ours()
    assert not pidfile.exists()


def test_a_foreign_process_with_the_recorded_pid_is_left_alone(tmp_path: Path) -> None:
    foreign = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pidfile = tmp_path / "x.pid"
        pidfile.write_text(
            json.dumps({"pid": foreign.pid, "cmdline": ["some-other-server", "--flag"]})
        )
        assert not stop_process(pidfile)
        assert foreign.poll() is None, "a process we did not start was killed"
    finally:
        foreign.kill()
        foreign.wait()


def test_broker_choice_can_be_forced() -> None:
    assert choose_broker("tansu").kind == "tansu"
    assert choose_broker("kafka").kind == "kafka"
    assert choose_broker("auto").kind in ("kafka", "tansu")


def test_search_engine_is_opensearch_wherever_a_jdk_17_is_found() -> None:
    assert choose_search("osmem").kind == "osmem"
    assert choose_search("opensearch").kind == "opensearch"
    expected = "opensearch" if (java_major_version() or 0) >= 17 else "osmem"
    assert choose_search("auto").kind == expected


def test_kraft_cluster_ids_never_look_like_options() -> None:
    from pipeline.stack.servers import _cluster_id

    ids = {_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
