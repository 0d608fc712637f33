"""``hst schemas``: inspect and check the Avro schemas."""

from __future__ import annotations

import typer
from rich.table import Table

from pipeline.cli.common import console
from pipeline.codec.compat import check_store
from pipeline.codec.schemas import default_store

app = typer.Typer(help="Inspect and check the Avro schemas under schemas/.")


@app.command("check")
def check() -> None:
    """Every schema parses; every version is BACKWARD compatible with the previous one."""
    results = check_store(default_store())
    table = Table("subject", "version", "against", "result")
    for r in results:
        table.add_row(r.subject, f"v{r.version}", f"v{r.previous}" if r.previous else "-",
                      f"[green]{r.detail}[/]" if r.ok else f"[red]{r.detail}[/]")  # fmt: skip
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command("list")
def list_() -> None:
    """Subjects, versions and single-object fingerprints."""
    table = Table("subject", "version", "record", "CRC-64-AVRO", "single-object header")
    for sv in default_store():
        table.add_row(sv.subject, f"v{sv.version}", sv.fullname, f"{sv.fingerprint:016x}",
                      "c3 01 " + sv.fingerprint_le.hex(" "))  # fmt: skip
    console.print(table)
