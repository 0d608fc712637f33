"""``hst replay``: publish public data sets as HST messages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import typer

from pipeline.cli import common
from pipeline.cli.publish import publish_stream
from pipeline.replay.missing_migrants import read_incidents

app = typer.Typer(help="Replay public data sets through the pipeline.")


@app.command("missing-migrants")
def missing_migrants(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="IOM Missing Migrants CSV export."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Map and validate only."),
) -> None:
    """Map the IOM Missing Migrants CSV (CC BY 4.0) to HST messages and publish them."""
    lines = [json.dumps(m, ensure_ascii=False) for m in read_incidents(file)]
    result = publish_stream(
        io.StringIO("\n".join(lines) + "\n"), ncb=None, dry_run=dry_run, total=len(lines)
    )
    common.console.print(f"{'validated' if dry_run else 'published'} {result.published:,} incidents, "
                         f"rejected {len(result.rejected)}, in {result.seconds:.1f}s")  # fmt: skip
    for r in result.rejected[:20]:
        common.err_console.print(f"rejected {r.position}: " + "; ".join(str(e) for e in r.errors))
    if result.rejected:
        raise typer.Exit(1)
