"""``hst retention run``: remove messages whose retention review date has passed."""

from __future__ import annotations

import datetime as dt

import orjson
import typer

from pipeline.cli import common

app = typer.Typer(
    help="Data retention: the source NCB's review date is enforced.", no_args_is_help=True
)


@app.command("run")
def run(
    today: str = typer.Option(None, "--today", help="Treat this date (YYYY-MM-DD) as today (default: today, UTC)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed; change nothing."),
) -> None:  # fmt: skip
    """Withdraw every indexed message whose handling.retention_review_date is before today.

    Each goes through the workers as a withdrawal (index, links, aggregates, a withdrawal to
    everyone who received it; a later re-send is not indexed again). Run it daily (cron,
    a Kubernetes CronJob); running it twice is harmless.
    """
    from pipeline.core.dedupe import expiry
    from pipeline.kafka.produce import CheckedProducer, UndeliveredError
    from pipeline.search.client import sync_client
    from pipeline.search.scan import ScanError, scan

    cfg = common.settings()
    day = dt.date.fromisoformat(today) if today else dt.datetime.now(tz=dt.UTC).date()
    es = sync_client(cfg)
    query = {"range": {"handling.retention_review_date": {"lt": day.isoformat()}}}
    fields = ["message_id", "handling.retention_review_date"]
    try:
        expired = [(d["message_id"], str(d["handling"]["retention_review_date"])[:10])
                   for d in scan(es, cfg.index_alias, query, fields)]  # fmt: skip
    except ScanError as exc:  # a partial list would leave expired messages in place
        common.err_console.print(f"[red]error:[/] {common.esc(exc)}; nothing removed, run it again")
        raise typer.Exit(2) from None
    if dry_run:
        for mid, review in expired:
            common.console.print(f"{mid}  review date {review}")
        common.console.print(
            f"{len(expired)} message(s) past their review date (dry run: nothing removed)"
        )
        return
    producer = CheckedProducer(cfg.producer_config(), what="withdrawal")
    for mid, review in expired:
        producer.send(cfg.topic_lineage, key=mid.encode(), value=orjson.dumps(expiry(mid, review)))
    try:
        producer.flush(60)
    except UndeliveredError as e:
        common.err_console.print(f"[red]error:[/] {common.esc(e)}; run it again")
        raise typer.Exit(2) from None
    common.console.print(f"{len(expired)} message(s) past their review date sent for removal")
