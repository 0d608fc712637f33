"""``hst run`` (what ``make run`` does): the main job on the embedded stack."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.cli import common
from pipeline.cli.publish import publish_stream
from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.core.coerce import to_json
from pipeline.core.dedupe import live_groups
from pipeline.core.enrich import content_hash
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, generate
from pipeline.generate.synthetic import iter_ndjson
from pipeline.kafka.admin import consumed_topics, consumer_lag, ensure_topics
from pipeline.kafka.dlq import read_dead_letters
from pipeline.kafka.produce import CheckedProducer
from pipeline.search.client import sync_client
from pipeline.search.index import ensure_search
from pipeline.search.query import SearchFilters, build_query
from pipeline.settings import Settings
from pipeline.stack import Stack, StackError
from pipeline.stack.workers import start_worker
from pipeline.stream.metrics import scrape_worker

DEMO_WEB_PORT = 16066
STALLED_AFTER = 30.0  # seconds without a new searchable document before asking why


def _bad_records(sample: dict) -> list[bytes]:  # type: ignore[type-arg]
    """What a broken gateway might send: garbage, a truncated record, a bad country code."""
    codec = AvroCodec(HST_MESSAGE)
    framed = codec.encode(sample)
    invalid = {**sample, "message_id": "00000000-0000-4000-8000-000000000bad", "source_ncb": "XYZ"}
    return [b"{not avro}", framed[: len(framed) // 2], codec.encode(invalid)]


def run(
    count: int = typer.Option(3000, "--count", "-n", help="Messages to generate and publish."),
    seed: int = typer.Option(1, "--seed", help="Generator seed."),
    timeout: float = typer.Option(900, help="Seconds to wait for the index to hold them."),
    web_port: int = typer.Option(
        DEMO_WEB_PORT, "--web-port", help="Port of the demo worker's /health and /metrics."
    ),
) -> None:
    """Stack up, topics, a background worker, publish a demo set, wait until indexed, summarise.

    The stack keeps its data: a second run of the same set (same --count and --seed) finds
    every document already searchable and ends at once. Exit code 1 when the index does not
    hold the whole set within --timeout, sooner when the worker has consumed every record
    and documents are still missing (refused: see the dead letters), and at once when the
    worker exits (the end of its log is shown).
    """
    cfg = common.settings()
    console = common.console
    console.rule("[bold]1. embedded stack")
    try:
        info = Stack(cfg).up(say=lambda m: console.print(f"[yellow]{m}[/]"))
    except StackError as exc:
        common.err_console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"broker {info['broker']} at {info['bootstrap_servers']}; search at {info['search_url']}"
    )
    console.rule("[bold]2. topics, index, worker")
    ensure_topics(cfg)
    es = sync_client(cfg)
    for alias, index in ensure_search(es, cfg).items():
        console.print(f"index {index} behind alias {alias}")
    worker = start_worker(cfg.data_dir, "run-1", web_port)
    console.print(
        f"worker run-1 (log {worker.logfile}, metrics http://127.0.0.1:{worker.web_port}/metrics)"
    )

    console.rule(f"[bold]3. generate {count:,} messages (seed {seed})")
    data = generate(GeneratorConfig(count=count, seed=seed))
    path = cfg.data_dir / f"demo-{seed}-{count}.ndjson"
    path.write_text("\n".join(iter_ndjson(data)) + "\n", encoding="utf-8")
    console.print(", ".join(f"{k}={v}" for k, v in data.kinds.items()) + f" -> {path}")
    validator = MessageValidator(AvroCodec(HST_MESSAGE).writer.raw)
    now = dt.datetime.now(tz=dt.UTC)
    records = [to_json(validator.validate(m, now=now)) for m in data.messages]
    # What the index holds after a complete run: one document per distinct live content,
    # under one of the ids that carried it.
    groups = live_groups(records, content_hash)
    expected_ids = sorted(set().union(*groups))
    expected = len(groups)
    already = searchable(es, cfg.index_alias, expected_ids)
    if already >= expected:
        console.print(f"[green]the index already holds this demo set[/] ({already:,} documents, "
                      f"seed {seed}): nothing to publish. `hst run --seed {seed + 1}` publishes "
                      "a new one; `hst search --person Mohammed` searches it.")  # fmt: skip
        return

    console.rule("[bold]4. publish as the NCB gateways would (plus 3 broken records)")
    with path.open("rb") as stream:
        result = publish_stream(stream, ncb=None, dry_run=False, total=count)
    bad = _bad_records(validator.validate(data.messages[0], now=now))
    producer = CheckedProducer(cfg.producer_config())
    for i, value in enumerate(bad):
        producer.send(cfg.topic_inbound, key=f"demo-bad-{i}".encode(), value=value)
    producer.flush(30)
    console.print(f"published {result.published:,} valid + {len(bad)} broken records "
                  f"in {result.seconds:.1f}s ({result.published / max(result.seconds, 1e-9):,.0f} msg/s)")  # fmt: skip

    console.rule("[bold]5. wait for the worker")
    started = time.monotonic()
    with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:  # fmt: skip
        task = progress.add_task("index", total=expected)
        last, moved, idle, stopped = already, time.monotonic(), False, False
        while time.monotonic() - started < timeout:
            if not worker.running:  # it exited (an error it could not hold through)
                stopped = True
                break
            found = searchable(es, cfg.index_alias, expected_ids)
            if found != last:
                last, moved = found, time.monotonic()
            progress.update(task, completed=last)
            if last >= expected:
                break
            # Nothing new for a while and nothing left to consume: what is missing was refused.
            if time.monotonic() - moved > STALLED_AFTER and worker_idle(cfg):
                idle = True
                break
            time.sleep(1)
    seconds = time.monotonic() - started
    _summary(
        cfg,
        es,
        data.kinds,
        result.published,
        len(bad),
        last - already,
        expected,
        seconds,
        worker.web_port,
    )
    if last < expected and stopped:
        tail = worker.logfile.read_text(errors="replace").splitlines()[-12:]
        common.err_console.print(
            f"[red]the worker stopped with {expected - last:,} of {expected:,} documents not "
            f"searchable;[/] the end of its log ({worker.logfile}):"
        )
        common.err_console.print("\n".join(tail), markup=False, highlight=False)
        raise typer.Exit(1)
    if last < expected and idle:
        common.err_console.print(
            f"[red]{expected - last:,} of {expected:,} documents are not searchable, and the "
            "worker has consumed every record:[/] they were refused (the dead letters above, "
            f"`hst dlq list`; e.g. an id the index holds with other content: `hst run --seed "
            f"{seed + 1}` publishes a set of its own)"
        )
        raise typer.Exit(1)
    if last < expected:
        common.err_console.print(
            f"[red]{expected - last:,} of {expected:,} documents are not searchable after "
            f"{timeout:.0f}s;[/] see the worker's log {worker.logfile} and `hst dlq list`"
        )
        raise typer.Exit(1)


def worker_idle(cfg: Settings) -> bool:
    """Whether the workers' group has consumed every record of every stage's topic."""
    lag = consumer_lag(cfg, cfg.app_id, consumed_topics(cfg))
    return bool(lag) and not any(lag.values())


def searchable(es: Any, alias: str, ids: list[str]) -> int:
    """How many of ``ids`` the index holds (a refresh first: searchable now)."""
    es.indices.refresh(index=alias)
    total = 0
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        total += int(es.count(index=alias, query={"ids": {"values": chunk}})["count"])
    return total


def _summary(cfg, es, kinds, published, bad, indexed, expected, seconds, web_port) -> None:  # type: ignore[no-untyped-def]
    console = common.console
    console.rule("[bold]6. summary")
    scraped = scrape_worker(web_port)
    metrics = scraped.stage_events if scraped else {}
    table = Table("measure", "value")
    table.add_row("published (valid)", f"{published:,}")
    table.add_row("broken records sent", str(bad))
    table.add_row("documents indexed (this run)", f"{indexed:,} ({expected:,} in the demo set)")
    table.add_row("exact re-sends dropped", f"{int(metrics.get(('dedupe', 'resend'), 0)):,}")
    table.add_row(
        "content duplicates absorbed", f"{int(metrics.get(('dedupe', 'content_duplicate'), 0)):,}"
    )
    table.add_row(
        "superseded/withdrawn (deleted)", f"{int(metrics.get(('index', 'supersede:delete'), 0)):,}"
    )
    table.add_row(
        "publish -> searchable", f"{seconds:.1f}s ({indexed / max(seconds, 1e-9):,.0f} docs/s)"
    )
    console.print(table)
    letters = Counter((d["stage"], d["error_type"]) for d in read_dead_letters(cfg, timeout=10))
    dl = Table("stage", "error type", "dead letters", title=f"dead letters in {cfg.topic_dlq}")
    for (stage, kind), n in letters.most_common():
        dl.add_row(stage, kind, str(n))
    console.print(dl)
    aggs = es.search(
        index=cfg.index_alias,
        size=0,
        aggs={"routes": {"terms": {"field": "route.path", "size": 5}}},
    )
    routes = Table("route", "messages", title="top routes")
    for b in aggs["aggregations"]["routes"]["buckets"]:
        routes.add_row(b["key"], f"{b['doc_count']:,}")
    console.print(routes)
    sample = es.search(
        index=cfg.index_alias, query=build_query(SearchFilters(person="Мухаммед")), size=3
    )
    console.print(f"sample search: hst search --person 'Мухаммед' -> {sample['hits']['total']['value']:,} "
                  f"message(s) (any spelling: Mohammed, Muhammad, محمد)")  # fmt: skip
    console.rule("[bold]next")
    console.print(
        "The worker keeps running in the background: cross-matching, notices and synthesis "
        "finish about a minute after the documents are searchable (`hst stats`: consumer lag "
        "per topic, all 0 when every stage is done)."
    )
    console.print(
        "search:  .venv/bin/hst search --person 'Mohammed' | --document 'AB 1234567' | --phone '+39...'"
    )
    console.print("stats:   .venv/bin/hst stats      dead letters: .venv/bin/hst dlq list")
    console.print("stop:    make stop")
