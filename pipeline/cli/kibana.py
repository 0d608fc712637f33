"""``hst kibana`` and ``hst setup``: the analysts' workspace and a cluster's one-shot set-up."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli import common

app = typer.Typer(help="Kibana saved objects: data views, searches, visualisations, map, dashboards.",
                  no_args_is_help=True)  # fmt: skip

DEFAULT_EXPORT = Path("deploy/kibana/hst.ndjson")


@app.command("import")
def import_cmd(
    wait: float = typer.Option(0.0, "--wait", min=0.0, help="Seconds to wait for Kibana to become available first."),
) -> None:  # fmt: skip
    """Import (overwrite) every saved object into Kibana at HST_KIBANA_URL."""
    from pipeline.kibana.client import KibanaError, import_objects, wait_until_available

    cfg = common.settings()
    try:
        if wait:
            wait_until_available(cfg, wait)
        n = import_objects(cfg)
    except KibanaError as exc:
        common.err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    common.console.print(f"imported {n} saved objects into {cfg.kibana_url}")


@app.command("export")
def export_cmd(
    out: Path = typer.Option(DEFAULT_EXPORT, "--out", "-o", help="NDJSON file (Kibana's import format)."),
) -> None:  # fmt: skip
    """Write the saved objects as NDJSON (to import by hand in Stack Management)."""
    from pipeline.kibana.objects import saved_objects, to_ndjson

    objects = saved_objects()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_ndjson(objects), encoding="utf-8")
    common.console.print(f"wrote {len(objects)} saved objects to {out}")


def setup(
    kibana: bool = typer.Option(False, "--kibana", help="Also import the Kibana saved objects."),
    wait_kibana: float = typer.Option(300.0, "--wait-kibana", min=0.0, help="Seconds to wait for Kibana (with --kibana)."),
) -> None:  # fmt: skip
    """One-shot set-up of a cluster: topics, index templates and aliases, optionally Kibana objects."""
    from pipeline.kafka.admin import ensure_topics
    from pipeline.search.client import sync_client
    from pipeline.search.index import ensure_search

    cfg = common.settings()
    states = ensure_topics(cfg)
    common.console.print(
        f"topics: {sum(s == 'created' for s in states.values())} created, {len(states)} in all"
    )
    indices = ensure_search(sync_client(cfg), cfg)
    common.console.print(
        "indices: " + ", ".join(f"{alias} -> {index}" for alias, index in indices.items())
    )
    if kibana:
        import_cmd(wait=wait_kibana)
