"""``hst search``: find messages by person, document, phone, route, country, NCB, text."""

from __future__ import annotations

import datetime as dt
import json

import typer

from pipeline.cli import common
from pipeline.core.coerce import parse_timestamp
from pipeline.search.audit import AuditError, audit_record, identify_analyst, write_audit
from pipeline.search.client import sync_client
from pipeline.search.query import QueryError, SearchFilters, build_query


def search(
    text: str | None = typer.Argument(
        None, help="Free text (narrative, names, places, case refs)."
    ),
    person: str | None = typer.Option(None, "--person", help="A name in any script or spelling."),
    document: str | None = typer.Option(
        None, "--document", help="Travel/identity document number, any format."
    ),
    phone: str | None = typer.Option(
        None, "--phone", help="Phone in international or national format."
    ),
    phone_country: str | None = typer.Option(
        None, "--phone-country", help="Alpha-3 country for a national-format --phone."
    ),
    country: str | None = typer.Option(
        None, "--country", help="Alpha-3 country anywhere on the route."
    ),
    route: str | None = typer.Option(None, "--route", help="Country path segment, e.g. 'LBY>ITA'."),
    since: str | None = typer.Option(
        None, "--since", help="Events on or after this time (ISO-8601, e.g. 2026-01-01T00:00:00Z)."
    ),
    ncb: str | None = typer.Option(None, "--ncb", help="Reporting NCB (alpha-3)."),
    min_priority: int | None = typer.Option(
        None, "--min-priority", help="Minimum priority score (0-100)."
    ),
    network: str | None = typer.Option(None, "--network", help="A network id: its messages."),
    size: int = typer.Option(20, "--size", "-n", help="Maximum results."),
    as_json: bool = typer.Option(False, "--json", help="Documents as JSON lines."),
) -> None:
    """Search the message index. Filters combine with AND; names match across scripts.

    Every search is recorded in the audit log (HST_AUDIT_ALIAS: analyst, filters, the ids of
    the messages shown) before results are shown; if it cannot be recorded, nothing is shown.
    The analyst is the user the search engine authenticated; HST_ANALYST is recorded as a
    claim beside it (and used only by an engine without security).
    """
    cfg = common.settings()
    try:
        filters = SearchFilters(text=text, person=person, document=document, phone=phone,
                                phone_country=phone_country, country=country, route=route,
                                since=parse_timestamp(since) if since else None, ncb=ncb,
                                min_priority=min_priority, network=network)  # fmt: skip
        query = build_query(filters)
    except (QueryError, ValueError) as exc:
        common.err_console.print(f"[red]{common.esc(exc)}[/]")
        raise typer.Exit(2) from None
    es = sync_client(cfg)
    resp = es.search(index=cfg.index_alias, query=query, size=size,
                     sort=[{"priority_score": "desc"}, {"event_time": "desc"}])  # fmt: skip
    hits = resp["hits"]["hits"]
    total = resp["hits"]["total"]["value"]
    # Audit first: who searched for what and which messages they saw (no audit, no results).
    try:
        record = audit_record(identify_analyst(es, cfg.analyst), vars(filters), query, total,
                              [h["_id"] for h in hits], dt.datetime.now(tz=dt.UTC))  # fmt: skip
        write_audit(es, cfg.audit_alias, record)
    except AuditError as exc:
        common.err_console.print(f"[red]{common.esc(exc)}[/]")
        raise typer.Exit(3) from None
    if as_json:
        for h in hits:
            typer.echo(json.dumps(h["_source"], ensure_ascii=False))
        return
    table = common.DataTable(
        "message_id", "event", "NCB", "route", "persons", "priority", title=f"{total:,} match(es)"
    )
    for h in hits:
        d = h["_source"]
        names = ", ".join(p["full_name"] for p in d["persons"][:3])
        table.add_row(d["message_id"], d["event_time"][:10], d["source_ncb"], d["route"]["path"],
                      names, str(d["priority_score"]))  # fmt: skip
    common.console.print(table)
