"""``hst inbox`` and ``hst network``: what an NCB received, and what a network holds."""

from __future__ import annotations

import json
from typing import Any

import typer

from pipeline.cli import common

_WHY = {
    "ROUTE_COUNTRY": "your country is on its route",
    "HIT_ON_YOUR_MESSAGE": "it links to one of your messages",
    "SCREENING_HIT": "a watch-list hit",
    "GENERAL_SECRETARIAT": "General Secretariat copy",
    "WITHDRAWAL": "a message you received was withdrawn",
    "SYNTHESIS": "an analytical product",
}


def explain(notice: dict[str, Any]) -> str:
    """Why a notice was received, in words."""
    return "; ".join(_WHY.get(r, r) for r in notice["reasons"])


def inbox(
    ncb: str = typer.Option(
        ..., "--ncb", help="Your NCB (alpha-3), or GS for the General Secretariat."
    ),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep waiting for new notices."),
    as_json: bool = typer.Option(False, "--json", help="Notices as JSON lines."),
    limit: int = typer.Option(0, "--limit", help="Stop after this many notices (0: all)."),
) -> None:
    """Read the diffusion notices addressed to an NCB, each with why it was received."""
    from pipeline.kafka.inbox import read_inbox

    cfg = common.settings()
    table = common.DataTable("kind", "level", "message", "from", "network", "links", "why")
    count = 0
    for notice in read_inbox(cfg, ncb, follow=follow, timeout=None if follow else 30.0):
        count += 1
        if as_json or follow:
            if as_json:
                typer.echo(json.dumps({**notice, "created_at": notice["created_at"].isoformat(),
                                       "why": explain(notice)}, ensure_ascii=False))  # fmt: skip
            else:
                common.console.print(f"{notice['kind']:<10} {notice['level']:<4} {notice['source_message_id']} "
                                     f"from {notice['source_ncb']}: {explain(notice)}",
                                     markup=False, highlight=False)  # fmt: skip
        else:
            table.add_row(notice["kind"], notice["level"], notice["source_message_id"], notice["source_ncb"],
                          notice["network_id"] or "", str(len(notice["links"])), explain(notice))  # fmt: skip
        if limit and count >= limit:
            break
    if not (as_json or follow):
        table.title = f"{count:,} notice(s) for {ncb.upper()}"
        common.console.print(table)


def network(
    network_id: str = typer.Argument(..., help="A network id (NET-...)."),
    as_json: bool = typer.Option(False, "--json", help="The network as one JSON object."),
) -> None:
    """Print a network's messages, persons, identifiers and links with their evidence."""
    from pipeline.search.client import sync_client

    cfg = common.settings()
    es = sync_client(cfg)
    docs = es.search(index=cfg.index_alias, query={"term": {"network_id": network_id}}, size=1000)[
        "hits"
    ]["hits"]
    # By its messages, not by the network_id a link got when it was found: a later merge
    # renames the messages' network, not the links'.
    ids = [d["_id"] for d in docs]
    links = es.search(index=cfg.links_alias, query={"terms": {"message_ids": ids}}, size=10000)[
        "hits"
    ]["hits"]
    if not docs:
        common.err_console.print(f"[red]no message in network {common.esc(network_id)}[/]")
        raise typer.Exit(1)
    messages = [d["_source"] for d in docs]
    link_docs = [h["_source"] for h in links]
    if as_json:
        typer.echo(json.dumps({"network_id": network_id, "messages": messages, "links": link_docs},
                              ensure_ascii=False))  # fmt: skip
        return
    ncbs = sorted({m["source_ncb"] for m in messages})
    msg_table = common.DataTable("message", "NCB", "event", "route", "persons",
                      title=f"{network_id}: {len(messages)} message(s) from {', '.join(ncbs)}")  # fmt: skip
    for m in sorted(messages, key=lambda m: m["event_time"]):
        persons = "; ".join(f"{p['full_name']} ({p['role'].lower()})" for p in m["persons"])
        msg_table.add_row(
            m["message_id"], m["source_ncb"], m["event_time"][:10], m["route"]["path"], persons
        )
    common.console.print(msg_table)
    ids = sorted({i for m in messages for i in m.get("identifiers") or []})
    common.console.print(f"identifiers: {', '.join(ids) or '-'}", markup=False, highlight=False)
    link_table = common.DataTable(
        "kind", "score", "messages", "evidence", title=f"{len(link_docs)} link(s)"
    )
    for x in sorted(link_docs, key=lambda x: -x["score"]):
        link_table.add_row(x["kind"], f"{x['score']:.2f}", " ~ ".join(m[:8] for m in x["message_ids"]),
                           "; ".join(x["evidence"]))  # fmt: skip
    common.console.print(link_table)
