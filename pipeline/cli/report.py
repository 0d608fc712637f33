"""``hst report``: an analytical bulletin for one recipient NCB."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import time
from pathlib import Path

import typer

from pipeline.cli import common
from pipeline.core.countries import is_alpha3
from pipeline.core.diffusion import GS
from pipeline.core.regions import REGION_OF
from pipeline.core.report import K_DEFAULT, Bulletin, Scope, notice


def _date(option: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        msg = f"{option}: not an ISO date (YYYY-MM-DD): {text!r}"
        raise typer.BadParameter(msg) from exc


def _region(text: str | None) -> str | None:
    if not text:
        return None
    names = sorted({sub for _, sub in REGION_OF.values()})
    folded = {n.casefold(): n for n in names}
    if text.casefold() in folded:
        return folded[text.casefold()]
    close = difflib.get_close_matches(text, names, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else f" Known: {', '.join(names)}."
    msg = f"--region: {text!r} is not a UN sub-region.{hint}"
    raise typer.BadParameter(msg)


def _recipient(text: str) -> str:
    code = text.upper()
    if code != GS and not is_alpha3(code):
        msg = f"--for: {text!r} is neither an NCB's ISO alpha-3 code nor GS"
        raise typer.BadParameter(msg)
    return code


def make_bulletin(scope: Scope) -> Bulletin:
    """Read the scope's messages from the index and build the recipient's bulletin."""
    from pipeline.report.source import read_bulletin
    from pipeline.search.client import sync_client

    cfg = common.settings()
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    return read_bulletin(sync_client(cfg), cfg, scope, now)


def report(
    recipient: str = typer.Option(..., "--for", help="Recipient NCB (ISO alpha-3), or GS: only messages it may see are used."),
    region: str = typer.Option(None, "--region", help='UN sub-region of the incident places, e.g. "Northern Africa" (default: all).'),
    since: str = typer.Option(None, "--since", help="First incident date (YYYY-MM-DD)."),
    until: str = typer.Option(None, "--until", help="Day after the last incident date (YYYY-MM-DD, exclusive)."),
    out: Path = typer.Option(None, "--out", "-o", help="HTML file to write (default: bulletin-<NCB>.html)."),
    k: int = typer.Option(K_DEFAULT, "--k", min=1, help="Suppress every figure built from fewer than k messages."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON instead of writing HTML."),
    diffuse: bool = typer.Option(False, "--diffuse", help="Also send it to the recipient as a SYNTHESIS diffusion notice (hst inbox)."),
    every: float = typer.Option(0.0, "--every", min=0.0, help="Hours between bulletins: run until interrupted, e.g. --every 168 for weekly (with --diffuse)."),
) -> None:  # fmt: skip
    """Write an analytical bulletin: headline figures, map, routes, flows, weekly trend, networks, alerts.

    Example: hst report --region "Northern Africa" --since 2026-01-01 --for ITA --out bulletin.html
    """
    from pipeline.report.diffuse import publish_notices
    from pipeline.report.html import render

    scope = Scope(recipient=_recipient(recipient), region=_region(region),
                  since=_date("--since", since), until=_date("--until", until), k=k)  # fmt: skip
    target = out or Path(f"bulletin-{scope.recipient}.html")
    while True:
        with common.console.status("reading the index and computing the figures"):
            bulletin = make_bulletin(scope)
        if as_json:
            print(json.dumps(bulletin.to_dict(), ensure_ascii=False, indent=2))
        else:
            target.write_text(render(bulletin), encoding="utf-8")
            common.console.print(
                f"wrote {target} for {scope.recipient}: {bulletin.messages_used:,} messages, "
                f"{len(bulletin.alerts)} alert(s), {bulletin.suppressed:,} figure(s) under k={scope.k} suppressed"
            )
        if diffuse:
            cfg = common.settings()
            publish_notices(cfg, [notice(bulletin, dt.datetime.now(tz=dt.UTC))])
            common.console.print(
                f"diffused bulletin {bulletin.bulletin_id} to {scope.recipient} on {cfg.diffusion_topic_of(scope.recipient)}"
            )
        if not every:
            return
        time.sleep(every * 3600)
