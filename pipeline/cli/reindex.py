"""``hst reindex``: rebuild the search indices from the Kafka log while the pipeline runs."""

from __future__ import annotations

import time

import typer

from pipeline.cli import common


def reindex(
    fresh: bool = typer.Option(
        False, "--fresh", help="Start over, ignoring an interrupted rebuild's checkpoint."
    ),
    batch: int = typer.Option(1000, "--batch", min=1, help="Documents per bulk request."),
    delete_old: bool = typer.Option(
        False, "--delete-old", help="Delete the indices the aliases pointed at before."
    ),
) -> None:
    """Rebuild hst-messages and hst-links from the log into new indices, then swap the aliases.

    The documents come from the compacted enriched topic and the workers' table changelogs
    (lineage, message_links, networks), read up to a snapshot of their ends; the new
    indices (<alias>-r<time>) get the current templates, so a mapping change is applied
    too. The workers keep running: once the aliases are swapped, what they logged after the
    snapshot is replayed into the new indices. Interrupted, it resumes from its checkpoint
    (<data dir>/reindex.json) on the next run. Run it after losing the search engine's data,
    after a mapping change, or to check the index against the log.
    """
    from pipeline.kafka.logread import LogReadError
    from pipeline.search.client import sync_client
    from pipeline.search.rebuild import RebuildError, rebuild

    cfg = common.settings()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = cfg.data_dir / "reindex.json"
    if checkpoint.exists() and not fresh:
        common.console.print(f"resuming the rebuild recorded in {checkpoint}")
    es = sync_client(cfg)
    started = time.monotonic()
    unit = {"read": "records"}
    with common.phase_progress(lambda phase: unit.get(phase, "docs")) as progress:
        try:
            result = rebuild(
                cfg, checkpoint, fresh=fresh, batch=batch, progress=progress, sync_es=es
            )
        except (LogReadError, RebuildError) as exc:
            common.err_console.print(f"[red]reindex failed:[/] {exc}", markup=True, highlight=False)
            common.err_console.print(
                f"the checkpoint {checkpoint} is kept: run `hst reindex` again to resume"
            )
            raise typer.Exit(1) from None
    seconds = time.monotonic() - started
    common.console.print(
        f"[green]rebuilt[/] {result.documents:,} documents and {result.links:,} links from "
        f"{result.records_read:,} log records in {seconds:.1f}s "
        f"({result.documents / max(seconds, 1e-9):,.0f} docs/s); {result.caught_up:,} caught up after the swap"
    )
    for alias, index in result.targets.items():
        old = result.previous.get(alias) or []
        common.console.print(f"{alias} -> {index}" + (f" (was {', '.join(old)})" if old else ""))
        if delete_old and old:
            es.indices.delete(index=",".join(old))
            common.console.print(f"deleted {', '.join(old)}")
