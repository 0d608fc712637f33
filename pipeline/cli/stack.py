"""``hst stack``: the embedded Kafka broker and OpenSearch engine."""

from __future__ import annotations

import json

import typer

from pipeline.cli.common import console, err_console, settings
from pipeline.stack import Stack, StackError

app = typer.Typer(
    help="Start, stop and inspect the embedded stack (Apache Kafka + OpenSearch, data kept under HST_DATA_DIR)."
)


@app.command()
def up(timeout: float = typer.Option(180.0, help="Seconds to wait for both servers.")) -> None:
    """Start the broker and the search server in the background and wait until both answer."""
    stack = Stack(settings())
    try:
        info = stack.up(say=lambda m: console.print(f"[yellow]{m}[/]"), timeout=timeout)
    except StackError as exc:
        err_console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"[green]broker[/]  {info['broker']:6} {info['bootstrap_servers']}  ({info['broker_reason']})"
    )
    console.print(
        f"[green]search[/]  {info['search']} {info['search_version'] or ''}  {info['search_url']}"
        f"  ({info['search_reason']})"
    )
    console.print(f"state in {info['data_dir']}; stop with `hst stack down`")


@app.command()
def down() -> None:
    """Stop the servers `hst stack up` started (and nothing else)."""
    stopped = Stack(settings()).down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show addresses, pids and health; exit code 1 when the stack is not up."""
    info = Stack(settings()).status()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        for name in ("kafka", "tansu", "opensearch", "osmem"):
            if name in info:
                s = info[name]
                state = (
                    "[green]ready[/]"
                    if s["ready"]
                    else ("[yellow]starting[/]" if s["running"] else "[dim]stopped[/]")
                )
                version = s.get("version") or ""
                console.print(
                    f"{name:10} {version:8} {state:20} {s['address']:28} pid={s['pid']}  log={s['log']}",
                    markup=True,
                    highlight=False,
                )
        for w in info["workers"]:
            state = "[green]running[/]" if w["running"] else "[dim]stopped[/]"
            console.print(
                f"worker {w['name']:<10} {state}  {w['metrics']}  log={w['log']}", highlight=False
            )
        if not info["broker"]:
            console.print(
                f"no stack recorded under {info['data_dir']} (HST_DATA_DIR; `hst stack up` starts one)"
            )
    if not info["up"]:
        raise typer.Exit(1)
