"""Operator commands: ``hst stats`` and ``hst dlq list | export | replay``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer

from pipeline.cli import common
from pipeline.codec import HST_MESSAGE, AvroCodec, CodecError
from pipeline.core.coerce import to_json
from pipeline.kafka.admin import consumed_topics, consumer_lag
from pipeline.kafka.dlq import read_dead_letters
from pipeline.kafka.produce import CheckedProducer, UndeliveredError
from pipeline.search.client import sync_client
from pipeline.stack.workers import known_workers
from pipeline.stream.metrics import describe_health, scrape_worker, worker_health

dlq_app = typer.Typer(help="Inspect, export and replay dead letters.")


def stats(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Workers' health, per-stage counters, consumer lag, index size, dead letters.

    A worker's health line names its crashed agents and the stages holding events through
    an outage (for how long), or says it does not answer.
    """
    cfg = common.settings()
    out: dict[str, object] = {}
    es = sync_client(cfg)
    try:
        out["indexed_documents"] = int(es.count(index=cfg.index_alias)["count"])
    except Exception as exc:
        out["indexed_documents"] = f"unavailable: {exc}"
    out["consumer_lag"] = consumer_lag(cfg, cfg.app_id, consumed_topics(cfg))
    out["dead_letters"] = dict(
        Counter(f"{d['stage']}/{d['error_type']}" for d in read_dead_letters(cfg, timeout=10))
    )
    counters: Counter[str] = Counter()
    workers: dict[str, object] = {}
    for w in known_workers(cfg.data_dir):
        workers[w.name] = worker_health(w.web_port)
        scraped = scrape_worker(w.web_port)
        for (stage, outcome), value in (scraped.stage_events if scraped else {}).items():
            counters[f"{stage}/{outcome}"] += int(value)
    out["stage_counters"] = dict(sorted(counters.items()))
    out["workers"] = workers
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    table = common.DataTable("measure", "value", title="pipeline")
    for name, answer in workers.items():
        table.add_row(f"worker {name}", describe_health(answer))  # type: ignore[arg-type]
    table.add_row("indexed documents", str(out["indexed_documents"]))
    for topic, n in out["consumer_lag"].items():  # type: ignore[attr-defined]
        table.add_row(f"lag {topic}", f"{n:,}")
    for key, n in out["dead_letters"].items():  # type: ignore[attr-defined]
        table.add_row(f"dead letters {key}", f"{n:,}")
    for key, n in out["stage_counters"].items():  # type: ignore[attr-defined]
        table.add_row(f"events {key}", f"{n:,}")
    common.console.print(table)


@dlq_app.command("list")
def dlq_list(
    limit: int = typer.Option(50, help="Show at most this many."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines (original bytes as hex)."),
) -> None:
    """Dead letters with stage, error type, reason and where they came from."""
    letters = read_dead_letters(common.settings())
    if as_json:
        for d in letters[:limit]:
            typer.echo(json.dumps(to_json(d), ensure_ascii=False))
        return
    table = common.DataTable(
        "id",
        "stage",
        "error",
        "message_id",
        "from",
        "reason",
        title=f"{len(letters)} dead letter(s)",
    )
    for d in letters[:limit]:
        table.add_row(d["dead_letter_id"][:8], d["stage"], d["error_type"], d["message_id"] or "-",
                      f"{d['topic']}/{d['partition']}@{d['offset']}", d["reason"][:80])  # fmt: skip
    common.console.print(table)


@dlq_app.command("export")
def dlq_export(
    out: Path = typer.Option(..., "--out", "-o", help="NDJSON file of decodable originals."),
) -> None:
    """Write the originals that still decode as HST JSON, to correct and re-send with `hst publish`."""
    codec = AvroCodec(HST_MESSAGE)
    n = skipped = 0
    with out.open("w", encoding="utf-8") as f:
        for d in read_dead_letters(common.settings()):
            try:
                record = codec.decode(d["original_value"] or b"")
            except CodecError:
                skipped += 1
                continue
            f.write(json.dumps(to_json(record), ensure_ascii=False) + "\n")
            n += 1
    common.console.print(
        f"exported {n} record(s) to {out}; {skipped} undecodable (see `hst dlq list`)"
    )


@dlq_app.command("replay")
def dlq_replay(
    ids: list[str] = typer.Argument(None, help="Dead-letter ids (or prefixes) to re-publish."),
    all_: bool = typer.Option(False, "--all", help="Re-publish every dead letter."),
) -> None:
    """Re-publish original bytes of dead letters to the topic they came from (after a fix)."""
    cfg = common.settings()
    letters = read_dead_letters(cfg)
    chosen = [
        d for d in letters if all_ or any(d["dead_letter_id"].startswith(i) for i in ids or [])
    ]
    if not chosen:
        common.err_console.print("nothing selected: give dead-letter ids or --all")
        raise typer.Exit(1)
    producer = CheckedProducer(cfg.producer_config())
    for d in chosen:
        producer.send(d["topic"], key=d["original_key"], value=d["original_value"],
                      headers=list((d["original_headers"] or {}).items()))  # fmt: skip
    try:
        producer.flush(60)
    except UndeliveredError as e:
        common.err_console.print(f"[red]error:[/] {common.esc(e)}")
        raise typer.Exit(2) from None
    common.console.print(f"re-published {len(chosen)} record(s)")
