"""``hst acks``: what became of each record a gateway sent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer
from rich.text import Text

from pipeline.cli import common

_STYLE = {"PROCESSED": "green", "DUPLICATE": "yellow", "REJECTED": "red", "WITHDRAWN": "cyan",
          "RECEIVED": "dim"}  # fmt: skip


def detail(ack: dict[str, Any]) -> str:
    """The part of an acknowledgement a gateway acts on, in words."""
    state = ack["state"]
    if state == "PROCESSED":
        recipients = sorted({n["recipient"] for n in ack["notices"]})
        return f"indexed as {ack['document_id']}; notices to {', '.join(recipients) or 'nobody'}"
    if state == "REJECTED":
        errors = "; ".join(f"{e['path'] or '<record>'}: {e['message']}" for e in ack["errors"])
        return f"[{ack['stage']}] {errors or ack['reason']}"
    return ack.get("reason") or ""


def _since(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        msg = f"--since: not an ISO date or time: {text!r}"
        raise typer.BadParameter(msg) from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def acks(
    ncb: str = typer.Option(..., "--ncb", help="Your NCB (alpha-3): only its acknowledgements are read."),
    since: str = typer.Option(None, "--since", help="Start at this time (ISO 8601, UTC if no zone), e.g. 2026-11-23T10:00."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep waiting for new acknowledgements."),
    terminal: bool = typer.Option(False, "--terminal", help="Only terminal states (not RECEIVED)."),
    as_json: bool = typer.Option(False, "--json", help="Acknowledgements as JSON lines."),
    limit: int = typer.Option(0, "--limit", help="Stop after this many (0: all)."),
) -> None:  # fmt: skip
    """Show the acknowledgements of an NCB's messages: RECEIVED, then PROCESSED, DUPLICATE, REJECTED or WITHDRAWN."""
    from pipeline.kafka.acks import read_acks

    cfg = common.settings()
    table = common.DataTable("state", "message", "record", "detail")
    count = 0
    for ack in read_acks(
        cfg, ncb, since=_since(since), follow=follow, timeout=None if follow else 30.0
    ):
        if terminal and not ack["terminal"]:
            continue
        count += 1
        record = f"{ack['record']['topic']}/{ack['record']['partition']}@{ack['record']['offset']}"
        if as_json:
            typer.echo(
                json.dumps({**ack, "created_at": ack["created_at"].isoformat()}, ensure_ascii=False)
            )
        elif follow:
            style = _STYLE.get(ack["state"], "")
            common.console.print(f"[{style}]{ack['state']:<9}[/] {common.esc(ack['message_id'] or '?')} {record} {common.esc(detail(ack))}",
                                 highlight=False)  # fmt: skip
        else:
            style = _STYLE.get(ack["state"], "")
            table.add_row(
                Text(ack["state"], style=style), ack["message_id"] or "?", record, detail(ack)
            )
        if limit and count >= limit:
            break
    if not (as_json or follow):
        table.title = f"{count:,} acknowledgement(s) for {ncb.upper()}"
        common.console.print(table)
