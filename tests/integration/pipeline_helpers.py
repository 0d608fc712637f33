"""End-to-end helpers: an isolated pipeline (topics, index, app id) and real worker processes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from pipeline.codec import DEAD_LETTER, HST_MESSAGE, AvroCodec
from pipeline.core.acks import REJECTED
from pipeline.core.coerce import to_json
from pipeline.core.enrich import content_hash
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.acks import read_acks
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.dlq import read_dead_letters
from pipeline.kafka.publisher import Publisher
from pipeline.search.client import sync_client
from pipeline.search.index import ensure_search
from pipeline.settings import Settings
from pipeline.stack.servers import free_port
from tests.integration.kafka_helpers import consume_all


def isolated(stack: Settings, tmp_path: Path, partitions: int = 6) -> Settings:
    """Settings with topics, index alias, Faust app id and data dir of this test only."""
    cfg = stack.private("e2e", data_dir=tmp_path / "hst", partitions=partitions)
    ensure_topics(cfg)
    ensure_search(sync_client(cfg), cfg)
    return cfg


def plain_messages(count: int, seed: int, until: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Generated CREATE messages only: no re-send, duplicate, update or withdrawal."""
    config = GeneratorConfig(
        count=count,
        seed=seed,
        until=until or dt.datetime.now(tz=dt.UTC),
        resend_share=0,
        content_duplicate_share=0,
        update_share=0,
        withdraw_share=0,
    )
    return generate(config).messages


def publish_all(cfg: Settings, messages: list[dict[str, Any]]) -> None:
    """Publish generated messages as a gateway would (validated, acknowledged by the broker)."""
    with Publisher(cfg) as pub:
        for m in messages:
            pub.publish_json(m)


def ready_status(port: int) -> int:
    """Status of a worker's readiness probe."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def assert_nothing_rejected(cfg: Settings) -> None:
    """An outage is never a reason to reject: no dead letter, no REJECTED acknowledgement."""
    assert list(read_dead_letters(cfg, timeout=10)) == [], "an outage made a dead letter"
    assert [a for a in read_acks(cfg, None) if a["state"] == REJECTED] == []


def worker_env(cfg: Settings) -> dict[str, str]:
    """The environment a worker process reads its settings from."""
    return {**os.environ, **cfg.to_env()}


@dataclass
class WorkerProcess:
    """A real `hst worker` process, stopped by its pid."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    web_port: int

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Workers:
    """Starts workers for one isolated pipeline and stops them all at the end."""

    cfg: Settings
    log_dir: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def start(self, name: str = "w1") -> WorkerProcess:
        port = free_port()
        log = self.log_dir / f"{name}-{len(self.started)}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.cli.main",
                "worker",
                "--name",
                name,
                "--web-port",
                str(port),
                "--loglevel",
                os.environ.get("HST_TEST_WORKER_LOGLEVEL", "warning"),
                "--batch-size",
                "1000",
                "--batch-within",
                "0.3",
            ],
            env=worker_env(self.cfg),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        worker = WorkerProcess(name, proc, log, port)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        for w in self.started:
            w.stop()


@dataclass
class Expected:
    """What the index must hold after a run.

    Messages with the same content form a group; exactly one id of a live group is indexed
    (whichever reached the dedupe stage first: partitions interleave), and it lists the
    group's other ids as absorbed.
    """

    live_groups: list[set[str]]
    valid_records: dict[str, dict[str, Any]]

    @property
    def live_count(self) -> int:
        return len(self.live_groups)

    def check(self, ids: list[str], absorbed_of: Callable[[str], set[str]] | None = None) -> None:
        """Each live group has exactly one document; nothing else is indexed."""
        assert len(ids) == len(set(ids)), "a document is indexed twice"
        indexed = set(ids)
        owner = {i: n for n, g in enumerate(self.live_groups) for i in g}
        assert not indexed - set(owner), f"unexpected documents: {sorted(indexed - set(owner))[:5]}"
        per_group = Counter(owner[i] for i in indexed)
        missing = [sorted(g) for n, g in enumerate(self.live_groups) if per_group[n] != 1]
        assert not missing, f"{len(missing)} group(s) without exactly one document: {missing[:3]}"
        if absorbed_of is not None:
            for i in indexed:
                assert absorbed_of(i) == self.live_groups[owner[i]] - {i}


def expected_outcome(messages: list[dict[str, Any]], now: dt.datetime) -> Expected:
    """Independent model of the pipeline's contract (order-independent)."""
    validator = MessageValidator(AvroCodec(HST_MESSAGE).writer.raw)
    groups: dict[str, set[str]] = {}
    first: dict[str, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    for m in messages:
        rec = to_json(validator.validate(m, now=now))
        h = content_hash(rec)
        groups.setdefault(h, set()).add(rec["message_id"])
        first.setdefault(h, rec)
        records[rec["message_id"]] = rec
    superseded = {
        r["supersedes_message_id"] for r in first.values() if r.get("supersedes_message_id")
    }
    live = [
        ids
        for h, ids in groups.items()
        if first[h]["action"] != "WITHDRAW" and not ids & superseded
    ]
    return Expected(live, records)


def invalid_records(codec: AvroCodec, valid: dict[str, Any]) -> list[tuple[bytes, str]]:
    """Raw inbound values a broken gateway could send, with the error type each must get."""
    framed = codec.encode(valid)
    bad_country = {**valid, "message_id": str(uuid.uuid4()), "source_ncb": "XYZ"}
    future = {
        **valid,
        "message_id": str(uuid.uuid4()),
        "created_at": dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
    }
    return [
        (b"not avro at all", "unknown_framing"),
        (framed[:2] + b"\x00" * 8 + framed[10:], "unknown_schema"),
        (framed[: len(framed) // 2], "truncated"),
        (codec.encode(bad_country), "invalid_field"),
        (codec.encode(future), "invalid_field"),
    ]


def publish_raw(cfg: Settings, values: list[bytes]) -> None:
    producer = Producer(cfg.producer_config())
    for i, v in enumerate(values):
        producer.produce(cfg.topic_inbound, value=v, key=f"raw-{i}".encode())
    assert producer.flush(30) == 0


def count(cfg: Settings) -> int:
    """Documents searchable now (a refresh first: the engine is near-real-time)."""
    es = sync_client(cfg)
    es.indices.refresh(index=cfg.index_alias)
    return int(es.count(index=cfg.index_alias)["count"])


def all_ids(cfg: Settings) -> list[str]:
    """Every document id in the index, paged by message_id (``search_after``).

    Not a scroll: pages sorted by a unique keyword cannot skip a document that is updated
    while they are read.
    """
    es = sync_client(cfg)
    es.indices.refresh(index=cfg.index_alias)
    ids: list[str] = []
    after: list[Any] | None = None
    while True:
        extra = {"search_after": after} if after else {}
        resp = es.search(
            index=cfg.index_alias,
            query={"match_all": {}},
            size=1000,
            source=False,
            sort=[{"message_id": "asc"}],
            **extra,
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return ids
        ids += [h["_id"] for h in hits]
        after = hits[-1]["sort"]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:  # a probe may time out while a server is busy: try again
            last_error = exc
        time.sleep(poll)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})"
    )


def dead_letters(cfg: Settings, expected: int, timeout: float = 60) -> list[dict[str, Any]]:
    codec = AvroCodec(DEAD_LETTER)
    return [
        codec.decode(m.value()) for m in consume_all(cfg, cfg.topic_dlq, expected, timeout=timeout)
    ]


def settled(cfg: Settings, quiet_checks: int = 3, timeout: float = 300) -> None:
    """Wait until every stage's consumer lag is zero several checks in a row.

    The wait ends well inside pytest's 600 s per test, so a stage that never drains fails
    with ``wait_drained``'s message, naming the lag of each topic.
    """
    from pipeline.kafka.admin import consumed_topics, wait_drained

    wait_drained(cfg, cfg.app_id, consumed_topics(cfg), quiet_checks=quiet_checks, timeout=timeout)


def search_all(
    cfg: Settings, index: str, query: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every document of an index (scrolling), as sources."""
    es = sync_client(cfg)
    es.indices.refresh(index=index)
    out: list[dict[str, Any]] = []
    resp = es.search(
        index=index, query=query or {"match_all": {}}, size=1000, scroll="1m", sort=["_doc"]
    )
    while resp["hits"]["hits"]:
        out += [h["_source"] for h in resp["hits"]["hits"]]
        resp = es.scroll(scroll_id=resp["_scroll_id"], scroll="1m")
    return out


def search_engine_pid(stack: Settings) -> int:
    """The pid of the embedded search engine (skips the test on an external engine)."""
    import pytest

    from pipeline.stack import Stack

    status = Stack(stack).status()
    engine = status.get("search")
    if engine is None:
        pytest.skip("an external search engine (HST_TEST_SEARCH_URL): no pid to pause or kill")
    return int(status[engine]["pid"])
