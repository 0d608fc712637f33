"""End-to-end benchmark on a private embedded stack, beside the search server's own ceiling."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer
from rich.console import Console
from rich.table import Table

from pipeline.cli.bench_profile import attribute, profiled, stage_code
from pipeline.core.coerce import to_json
from pipeline.core.dedupe import live_messages
from pipeline.core.enrich import content_hash, enrich
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.admin import consumed_topics, ensure_topics, pipeline_topics, wait_drained
from pipeline.kafka.logread import end_offsets
from pipeline.kafka.publisher import Publisher
from pipeline.search.client import sync_client
from pipeline.search.index import ensure_index, ensure_search
from pipeline.settings import Settings
from pipeline.stack.process import read_pidfile, stop_process
from pipeline.stack.servers import free_port
from pipeline.stack.workers import start_worker
from pipeline.stream.metrics import scrape_worker
from pipeline.topology import topology


def _count(cfg: Settings) -> int:
    """Documents searchable now (the engine's own refresh: at most its interval behind)."""
    return int(sync_client(cfg).count(index=cfg.index_alias)["count"])


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process has used (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def index_writes(cfg: Settings, alias: str) -> int:
    """Index and update operations the engine has applied to the indices behind ``alias``."""
    stats = sync_client(cfg).indices.stats(index=alias, metric="indexing")
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


def records_by_kind(cfg: Settings) -> dict[str, int]:
    """Records ever written to the deployment's topics, by kind of topic (internal, changelog...)."""
    specs = {spec.name: spec for spec in pipeline_topics(cfg)}
    kinds = {t.name: str(t.kind) for t in topology(cfg).topics}
    ends = end_offsets(cfg, list(specs), missing_ok=True)
    out: dict[str, int] = {}
    for (topic, _), end in ends.items():
        kind = kinds.get(topic, "changelog")
        out[kind] = out.get(kind, 0) + end
    return out


def changelog_bytes(log_dir: Path | None, app_id: str) -> int:
    """Bytes the broker holds for the worker's table changelogs (0 when not on this host)."""
    if log_dir is None:
        return 0
    return sum(
        f.stat().st_size
        for d in log_dir.glob(f"{app_id}-*-changelog-*")
        for f in d.iterdir()
        if f.suffix == ".log"
    )


@dataclass(frozen=True)
class Ceiling:
    """The engine's own bulk rate for a set of documents, and its CPU per document."""

    rates: list[float]
    cpu_ms_per_doc: list[float]

    @property
    def median(self) -> float:
        """Median docs/s."""
        return statistics.median(self.rates)


def bulk_ceiling(
    cfg: Settings, docs: list[dict[str, Any]], batch: int, runs: int, pid: int | None = None
) -> Ceiling:
    """docs/s of plain bulk requests of the same documents into fresh indices (same template).

    Each run ends with a refresh: the documents are searchable, as in the end-to-end figure.
    A first run of the same documents warms the engine up and is not counted.
    """
    es = sync_client(cfg)
    rates, cpu = [], []
    for run in range(runs + 1):
        alias = f"hst-ceiling-{cfg.app_id}-{run}"  # own template pattern: no overlap
        ensure_index(es, alias)
        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        for i in range(0, len(docs), batch):
            body = b"".join(
                orjson.dumps({"index": {"_index": alias, "_id": d["message_id"]}})
                + b"\n"
                + orjson.dumps(d)
                + b"\n"
                for d in docs[i : i + batch]
            )
            resp = es.bulk(operations=body)  # type: ignore[arg-type]
            assert not resp["errors"]
        es.indices.refresh(index=alias)
        if run > 0:
            rates.append(len(docs) / (time.perf_counter() - started))
            cpu.append(1000 * (cpu_seconds(pid) - cpu_before) / len(docs))
        es.indices.delete(index=f"{alias}-v1")
        es.indices.delete_index_template(name=f"{alias}-template")
    return Ceiling(rates, cpu)


def bench_settings(stack: Settings, **features: bool) -> Settings:
    """Private topics, indices and consumer group of one benchmark worker."""
    cfg = stack.private("bench", **features)
    ensure_topics(cfg)
    ensure_search(sync_client(cfg), cfg)
    return cfg


def sustained(cfg: Settings, records: list[dict[str, Any]], live: int, base: int = 0) -> float:
    """Seconds from publishing a backlog at once until ``live`` more documents are searchable."""
    started = time.perf_counter()
    with Publisher(cfg) as publisher:
        for r in records:
            publisher.publish(r)
    while _count(cfg) - base < live:
        if time.perf_counter() - started > 1800:
            msg = "end-to-end run did not finish in 30 minutes"
            raise RuntimeError(msg)
        time.sleep(0.2)
    return time.perf_counter() - started


def run_e2e(
    stack: Settings,
    console: Console,
    messages: int,
    batch: int,
    latency_rate: float = 50.0,
    engine_pid: int | None = None,
    engine: str = "search engine",
    broker_pid: int | None = None,
    broker_log_dir: Path | None = None,
    compare: list[tuple[str, Settings, int | None]] | None = None,
) -> None:
    """Sustained throughput and latency through a real worker process, with and without acks and synthesis."""
    cfg = bench_settings(stack)
    data = generate(GeneratorConfig(count=messages, seed=77))
    validator = Publisher(cfg).validator
    now = dt.datetime.now(tz=dt.UTC)
    live = live_messages(
        [to_json(validator.validate(m, now=now)) for m in data.messages], content_hash
    )
    docs = [enrich(r) for r in live]

    console.print(
        f"{engine}'s own bulk ceiling: {len(docs):,} enriched documents "
        f"({sum(len(orjson.dumps(d)) for d in docs) / len(docs) / 1024:,.1f} KB on average), "
        f"batches of {batch}, after a warm-up run..."
    )
    ceiling = bulk_ceiling(cfg, docs, batch, runs=3, pid=engine_pid)
    others = []
    for name, other, pid in compare or []:
        console.print(f"{name}'s bulk ceiling, the same documents...")
        others.append((name, bulk_ceiling(bench_settings(other), docs, batch, runs=3, pid=pid)))

    port = free_port()
    worker = start_worker(
        cfg.data_dir, f"bench-{cfg.app_id}", port, env=cfg.to_env(), batch_size=batch
    )
    try:
        time.sleep(8)  # the worker joins the group
        # 1. Latency at a fixed offered load, on a quiet system (before the saturating run).
        rate = latency_rate
        extra = generate(
            GeneratorConfig(
                count=int(rate * 20),
                seed=78,
                resend_share=0,
                content_duplicate_share=0,
                update_share=0,
                withdraw_share=0,
            )
        )
        extra_records = [
            validator.validate(m, now=dt.datetime.now(tz=dt.UTC)) for m in extra.messages
        ]
        console.print(f"latency: {len(extra_records):,} messages at a fixed {rate:,.0f} msg/s...")
        with Publisher(cfg) as paced:
            t0 = time.perf_counter()
            for i, r in enumerate(extra_records):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                paced.publish(r)
        latencies = _latencies(cfg, {r["message_id"] for r in extra_records})
        # Searchable is not finished: cross-matching, diffusion and synthesis of the latency
        # run would still take CPU from the backlog run (30 against 70 docs/s, measured).
        console.print("waiting until every stage has consumed the latency run...")
        wait_drained(cfg, cfg.app_id, consumed_topics(cfg))
        # 2. Sustained throughput: a backlog published at once, until all of it is searchable.
        records = [validator.validate(m, now=dt.datetime.now(tz=dt.UTC)) for m in data.messages]
        console.print(
            f"end to end: publishing {len(records):,} messages, waiting until {len(live):,} are searchable..."
        )
        worker_record = read_pidfile(worker.pidfile)
        worker_pid = worker_record.pid if worker_record else None
        pids = {"engine": engine_pid, "worker": worker_pid, "broker": broker_pid}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        aliases = (cfg.index_alias, cfg.links_alias, cfg.synthesis_alias)
        writes_before = {alias: index_writes(cfg, alias) for alias in aliases}
        state_before = changelog_bytes(broker_log_dir, cfg.app_id)
        records_before = records_by_kind(cfg)
        # Kept after the run (collapsed stacks: flamegraph.pl or speedscope read them).
        profile = Path(tempfile.gettempdir()) / f"{cfg.app_id}-worker-profile.txt"
        sampling = contextlib.ExitStack()
        profiling = sampling.enter_context(profiled(worker_pid, profile))
        elapsed = sustained(cfg, records, len(live), base=_count(cfg))
        cpu_ms = {
            name: 1000 * (cpu_seconds(pid) - cpu_before[name]) / len(records)
            for name, pid in pids.items()
        }
        e2e_docs = len(live) / elapsed
        e2e_msgs = len(records) / elapsed
        bulk = scrape_worker(port, timeout=5)
        # Searchable is where the figure stops; links, notices and the synthesis
        # follow behind (the network stage is one partition): time until all of it is done.
        console.print("waiting until every stage has consumed the backlog...")
        drain_started = time.perf_counter()
        wait_drained(cfg, cfg.app_id, consumed_topics(cfg), quiet_checks=2, timeout=3600)
        all_done = elapsed + time.perf_counter() - drain_started
        sampling.close()
        cpu_all_ms = {
            name: 1000 * (cpu_seconds(pid) - cpu_before[name]) / len(records)
            for name, pid in pids.items()
        }
        writes = {alias: index_writes(cfg, alias) - writes_before[alias] for alias in aliases}
        state = changelog_bytes(broker_log_dir, cfg.app_id) - state_before
        records_after = records_by_kind(cfg)
        written = {k: records_after[k] - records_before.get(k, 0) for k in records_after}
    finally:
        stop_process(worker.pidfile, timeout=30)

    # 3. The same backlog through a worker without acknowledgements and synthesis.
    bare = bench_settings(stack, acks_enabled=False, synthesis_enabled=False)
    port = free_port()
    worker = start_worker(
        bare.data_dir, f"bench-{bare.app_id}", port, env=bare.to_env(), batch_size=batch
    )
    try:
        time.sleep(8)
        console.print("end to end without acknowledgements and synthesis: the same backlog...")
        records = [validator.validate(m, now=dt.datetime.now(tz=dt.UTC)) for m in data.messages]
        bare_docs = len(live) / sustained(bare, records, len(live))
    finally:
        stop_process(worker.pidfile, timeout=30)

    table = Table(
        "measure", "value", title="end to end (publish -> searchable), same machine, same run"
    )
    med_ceiling = ceiling.median

    def ceiling_row(name: str, c: Ceiling) -> None:
        table.add_row(
            f"{name} bulk ceiling (docs/s, median of 3; CPU ms/doc)",
            f"{c.median:,.0f}  ({' '.join(f'{r:,.0f}' for r in c.rates)}); "
            + (f"{statistics.median(c.cpu_ms_per_doc):.2f} ms" if any(c.cpu_ms_per_doc) else "n/a"),
        )

    ceiling_row(engine, ceiling)
    for name, other_ceiling in others:
        ceiling_row(name, other_ceiling)
    table.add_row("end to end sustained (searchable docs/s)", f"{e2e_docs:,.0f}")
    table.add_row(
        "CPU per message until searchable: worker / broker / engine",
        " / ".join(
            f"{cpu_ms[n]:.1f} ms" if pids[n] else "n/a" for n in ("worker", "broker", "engine")
        ),
    )
    table.add_row("end to end sustained (consumed msgs/s)", f"{e2e_msgs:,.0f}")
    table.add_row("end to end / ceiling", f"{e2e_docs / med_ceiling:.0%}")
    table.add_row(
        "every stage done: links, notices, synthesis (msgs/s; lag read every 2 s)",
        f"{len(records) / all_done:,.0f}  ({all_done:,.0f}s for the backlog)",
    )
    table.add_row(
        "CPU per message, every stage: worker / broker / engine",
        " / ".join(
            f"{cpu_all_ms[n]:.1f} ms" if pids[n] else "n/a" for n in ("worker", "broker", "engine")
        ),
    )
    table.add_row(
        "engine writes per message: messages / links / synthesis indices",
        " / ".join(f"{writes[alias] / len(records):.2f}" for alias in aliases),
    )
    table.add_row(
        "Kafka records written per message: " + " / ".join(sorted(written)),
        " / ".join(f"{written[k] / len(records):.1f}" for k in sorted(written)),
    )
    if broker_log_dir is not None:
        table.add_row("table changelogs per message", f"{state / len(records) / 1024:.1f} KB")
    table.add_row("without acks and synthesis (searchable docs/s)", f"{bare_docs:,.0f}")
    table.add_row("cost of acks and synthesis", f"{1 - e2e_docs / bare_docs:.0%} of throughput")
    if bulk:
        table.add_row(
            "worker: bulk requests / avg docs per bulk",
            f"{bulk.bulk_count:,.0f} / {bulk.stage_events.get(('index', 'index:index'), 0) / max(bulk.bulk_count, 1):,.0f}",
        )
        table.add_row(
            "worker: time in bulk / wall time (both phases)",
            f"{bulk.bulk_seconds:,.1f}s / {elapsed + len(extra_records) / rate:,.1f}s",
        )
    if profiling and profile.exists():
        _print_profile(console, profile, cpu_all_ms["worker"])
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        table.add_row(
            f"latency at {rate:,.0f} msg/s: p50 / p95 / p99",
            f"{q[49]:.2f}s / {q[94]:.2f}s / {q[98]:.2f}s",
        )
        table.add_row("latency samples", f"{len(latencies):,}")
    console.print(table)


def _print_profile(console: Console, profile: Path, worker_ms: float) -> None:
    """The worker's CPU per message, by stage, from the sampling profile."""
    samples = attribute(profile.read_text(), stage_code())
    total = sum(samples.values()) or 1
    table = Table(
        "stage (with what it calls)",
        "share of samples",
        "CPU ms per message",
        title=f"worker CPU by stage (py-spy, {total:,} samples, every stage until drained)",
        caption=f"profile (collapsed stacks): {profile}",
    )
    for stage, n in samples.most_common():
        table.add_row(stage, f"{n / total:.0%}", f"{worker_ms * n / total:.1f}")
    console.print(table)


def _latencies(cfg: Settings, wanted: set[str], timeout: float = 300) -> list[float]:
    """acked_at - Kafka produce timestamp, for the wanted ids, from the enriched topic."""
    consumer = Consumer(
        {
            **cfg.kafka_client_config(),
            "group.id": f"bench-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([cfg.topic_enriched])
    out: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(out) < len(wanted) and time.monotonic() < deadline:
            for msg in consumer.consume(1000, timeout=0.5):
                if msg.error() is not None:
                    continue
                doc = orjson.loads(msg.value() or b"{}")
                if doc.get("message_id") in wanted:
                    acked = dt.datetime.fromisoformat(
                        doc["processing"]["acked_at"].replace("Z", "+00:00")
                    )
                    produced = doc["kafka"]["timestamp"] / 1000
                    out[doc["message_id"]] = acked.timestamp() - produced
    finally:
        consumer.close()
    return list(out.values())
