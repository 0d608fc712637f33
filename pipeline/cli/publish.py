"""``hst publish``: the NCB gateway command."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.cli.common import console, err_console, esc, settings
from pipeline.codec import CodecError
from pipeline.codec.factory import make_codec
from pipeline.core.coerce import FieldError
from pipeline.core.jsonio import iter_records
from pipeline.core.validation import Limits, MessageValidator, ValidationError
from pipeline.kafka.publisher import DeliveryError, Publisher, utc_now

EXIT_REJECTED = 1
EXIT_DELIVERY = 2


@dataclass
class Rejection:
    """A record refused at the gateway."""

    position: str
    message_id: str | None
    errors: list[FieldError]


@dataclass
class PublishResult:
    """What ``publish_stream`` did."""

    read: int = 0
    published: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0


def publish_stream(
    stream: Iterable[str] | Iterable[bytes],
    *,
    ncb: str | None,
    dry_run: bool,
    total: int | None = None,
    show_progress: bool = True,
) -> PublishResult:
    """Validate every record; publish the valid ones unless ``dry_run``. Waits for delivery.

    Nothing in the input stops it: each record is published or rejected with its position,
    and whatever was published is flushed before it returns or raises.
    """
    cfg = settings()
    result = PublishResult()
    started = time.perf_counter()
    publisher = None if dry_run else Publisher(cfg)
    validator = (
        publisher.validator
        if publisher
        else MessageValidator(make_codec(cfg).writer.raw, Limits(cfg.max_narrative_chars))
    )
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
        console=err_console, disable=not show_progress, transient=False,
    )  # fmt: skip
    with progress, contextlib.ExitStack() as flush:
        if publisher is not None:
            flush.callback(publisher.flush)  # delivered even if a later line broke the loop
        task = progress.add_task("validating" if dry_run else "publishing", total=total, rate="")
        for rec in iter_records(stream):
            result.read += 1
            if rec.error is not None:
                result.rejected.append(Rejection(rec.position, None, [FieldError("", rec.error)]))
            else:
                try:
                    record = validator.validate(rec.obj, now=utc_now(), expected_ncb=ncb)
                    if publisher is not None:
                        publisher.publish(record)
                    result.published += 1
                except ValidationError as exc:
                    result.rejected.append(Rejection(rec.position, exc.message_id, exc.errors))
                except CodecError as exc:
                    result.rejected.append(
                        Rejection(rec.position, None, [FieldError("", str(exc))])
                    )
                except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
                    # A record shaped so oddly that a rule could not even be applied.
                    reason = f"cannot be read as an HST message ({type(exc).__name__}: {exc})"
                    result.rejected.append(Rejection(rec.position, None, [FieldError("", reason)]))
            if result.read % 500 == 0:
                elapsed = time.perf_counter() - started
                progress.update(
                    task, completed=result.read, rate=f"{result.read / elapsed:,.0f} msg/s"
                )
        progress.update(task, completed=result.read, total=result.read)
    result.seconds = time.perf_counter() - started
    return result


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def publish(
    file: str = typer.Argument("-", help="NDJSON, a JSON array or one JSON object; '-' for stdin."),
    ncb: str | None = typer.Option(
        None,
        "--ncb",
        help="Sending NCB (ISO alpha-3): every message's source_ncb must equal it. "
        "Without it (operator replay) each message's own source_ncb stands.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; publish nothing."),
    as_json: bool = typer.Option(
        False, "--json", help="Rejections and summary as JSON lines on stdout."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Validate HST messages and publish the valid ones to the inbound topic.

    Every rejected record is reported with its position, field path and reason. Exit code 0
    when all were published, 1 when any was rejected, 2 when the broker did not take them.
    """
    path = None if file == "-" else Path(file)
    if path is not None and not path.exists():
        err_console.print(f"[red]no such file:[/] {esc(file)}")
        raise typer.Exit(EXIT_DELIVERY)
    total = _count_lines(path) if path is not None and path.stat().st_size < 512 * 2**20 else None
    # Bytes, not text: a line that is not UTF-8 is one rejected record, not a crash.
    stream: BinaryIO = path.open("rb") if path is not None else sys.stdin.buffer
    try:
        result = publish_stream(stream, ncb=ncb, dry_run=dry_run, total=total,
                                show_progress=progress and not as_json)  # fmt: skip
    except DeliveryError as exc:
        err_console.print(f"[red]delivery failed:[/] {esc(exc)}")
        raise typer.Exit(EXIT_DELIVERY) from None
    finally:
        if path is not None:
            stream.close()
    _report(result, dry_run=dry_run, as_json=as_json)
    if result.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _report(result: PublishResult, *, dry_run: bool, as_json: bool) -> None:
    rate = result.published / result.seconds if result.seconds else 0.0
    summary = {
        "read": result.read,
        "published" if not dry_run else "valid": result.published,
        "rejected": len(result.rejected),
        "seconds": round(result.seconds, 3),
        "msgs_per_s": round(rate, 1),
    }
    if as_json:
        for r in result.rejected:
            typer.echo(json.dumps({"position": r.position, "message_id": r.message_id,
                                   "errors": [{"path": e.path, "reason": e.reason} for e in r.errors]}))  # fmt: skip
        typer.echo(json.dumps({"summary": summary}))
        return
    for r in result.rejected[:200]:
        who = f" ({esc(r.message_id)})" if r.message_id else ""
        for e in r.errors:
            err_console.print(
                f"[red]rejected[/] {esc(r.position)}{who}: [bold]{esc(e.path or '<record>')}[/]: {esc(e.reason)}"
            )
    if len(result.rejected) > 200:
        err_console.print(
            f"... and {len(result.rejected) - 200} more rejected records (use --json)"
        )
    table = Table(title="dry run (nothing published)" if dry_run else "published to Kafka")
    for key in summary:
        table.add_column(key, justify="right")
    table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in summary.values()))
    console.print(table)
