"""``hst bench``: the bulletin of a generated set, built from the search engine and timed.

The set is indexed directly, as the stream would leave it: documents as enrichment makes
them, networks and links as the match and network stages find them (computed offline by
``generate.evaluate``). The bulletin reads only the index, so this times what an analyst
waits for without first streaming the whole set.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from elasticsearch import helpers
from rich.console import Console
from rich.table import Table

from pipeline.codec import HST_MESSAGE
from pipeline.codec.schemas import default_store
from pipeline.core.report import Scope
from pipeline.core.validation import MessageValidator
from pipeline.errors import HstError
from pipeline.generate import GeneratorConfig, generate
from pipeline.generate.evaluate import enriched_documents, offline_links, offline_networks
from pipeline.report.html import render
from pipeline.report.source import read_bulletin
from pipeline.search.client import sync_client
from pipeline.settings import Settings


def with_surge(docs: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """``size`` more reports in the last full week on the most reported route.

    Copies of one of its messages (a network stepping up), so the bulletin has an alert.
    """
    from collections import Counter

    from pipeline.core.synthesis import incident_date

    if not size or not docs:
        return docs
    last = max(incident_date(d) for d in docs)
    monday = last - dt.timedelta(days=last.weekday() + 7)
    route, _ = Counter(str((d.get("route") or {}).get("path")) for d in docs).most_common(1)[0]
    model = next(d for d in docs if str((d.get("route") or {}).get("path")) == route)
    surge = []
    for i in range(size):
        when = dt.datetime.combine(monday, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(hours=i)
        stamp = when.isoformat().replace("+00:00", "Z")
        surge.append(
            {
                **model,
                "message_id": f"00000000-0000-4000-8000-{i:012d}",
                "event_time": stamp,
                "created_at": stamp,
            }
        )
    return docs + surge


def index_generated_set(cfg: Settings, count: int, seed: int, surge: int = 40) -> int:
    """Index ``count`` generated messages (and a ``surge``) with their networks and links."""
    data = generate(GeneratorConfig(count=count, seed=seed))
    docs = enriched_documents(data, MessageValidator(default_store().get(HST_MESSAGE).raw))
    docs = with_surge(docs, surge)
    links = offline_links(docs)
    networks = offline_networks(docs, links)
    for d in docs:
        if d["message_id"] in networks:
            d["network_id"] = networks[d["message_id"]]
    actions: list[dict[str, Any]] = [
        {"_index": cfg.index_alias, "_id": d["message_id"], "_source": d} for d in docs
    ]
    actions += [
        {
            "_index": cfg.links_alias,
            "_id": f"offline-{i}",
            "_source": {
                "link_id": f"offline-{i}",
                "message_ids": [x.a, x.b],
                "reason": x.reason,
                "network_id": networks.get(x.a),
            },
        }
        for i, x in enumerate(links)
    ]
    es = sync_client(cfg)
    _, errors = helpers.bulk(es, actions, chunk_size=500, raise_on_error=False)
    if errors:
        msg = f"indexing the bulletin set failed: {str(errors)[:500]}"
        raise HstError(msg)
    es.indices.refresh(index=[cfg.index_alias, cfg.links_alias])
    return len(docs)


def bulletin_seconds(cfg: Settings, recipient: str = "ITA") -> float:
    """Seconds to read the index, compute every figure and write the page (one bulletin)."""
    started = time.perf_counter()
    scope = Scope(recipient=recipient)
    render(read_bulletin(sync_client(cfg), cfg, scope, dt.datetime.now(tz=dt.UTC)))
    return time.perf_counter() - started


def run_bulletin_bench(cfg: Settings, console: Console, count: int, runs: int) -> None:
    """Index a generated set and print the median time of its bulletin."""
    with console.status(f"indexing {count:,} generated messages with networks and links"):
        indexed = index_generated_set(cfg, count, seed=7)
    times = [bulletin_seconds(cfg) for _ in range(max(1, runs))]
    table = Table("measure", "median", "runs", title=f"bulletin of {indexed:,} indexed messages")
    table.add_row(
        "read + compute + render (s)",
        f"{statistics.median(times):.2f}",
        " ".join(f"{t:.2f}" for t in times),
    )
    console.print(table)
