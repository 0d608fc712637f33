"""The search indices as a projection of the log (pure: no I/O).

The worker writes each message's document in two steps, and each step leaves its state in
a compacted Kafka topic:

- the index stage publishes every document it indexed to the enriched topic, keyed by
  message_id, and a tombstone when it deletes one (withdrawn, superseded, expired);
- its ``lineage`` table (changelog) says which message ids are live and which ids each
  absorbed (content duplicates);
- the network stage's ``message_links`` and ``networks`` tables (changelogs) hold every
  message's links and its network.

Folding those records, latest value per key, gives back each live document exactly as the
worker left it in the index, and every link of ``hst-links``: ``hst reindex`` rebuilds the
search side from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.dedupe import LIVE
from pipeline.core.networks import Networks

# Set by the index stage after the bulk answer, on the published copy only.
_PUBLISHED_ONLY = ("acked_at",)


@dataclass
class Projection:
    """Latest state per key of the four sources; ``document`` and ``links`` read it."""

    enriched: dict[str, dict[str, Any]] = field(default_factory=dict)
    lineage: dict[str, dict[str, Any]] = field(default_factory=dict)
    message_links: dict[str, Any] = field(default_factory=dict)
    networks: dict[str, Any] = field(default_factory=dict)
    link_times: dict[str, str] = field(default_factory=dict)

    def apply(self, source: str, key: str, value: Any, timestamp: str | None = None) -> None:
        """Fold one record of ``source`` (enriched, lineage, message_links, networks).

        ``value`` None is a tombstone (a deleted document or table key). ``timestamp``: when
        the record was written (ISO), kept for links as the time they were recorded.
        """
        table: dict[str, Any] = getattr(self, source)
        if value is None:
            table.pop(key, None)
            return
        table[key] = value
        if source == "message_links" and isinstance(value, list) and timestamp is not None:
            for link in value:
                self.link_times.setdefault(str(link["link_id"]), timestamp)

    def live_ids(self) -> list[str]:
        """Every message whose document the index holds, sorted (a stable order to resume by)."""
        return sorted(
            mid for mid in self.enriched if (self.lineage.get(mid) or {}).get("status") == LIVE
        )

    def network_id(self, message_id: str) -> str | None:
        """The id of the network ``message_id`` belongs to, None when it was never linked."""
        record = Networks(self.networks).network_of(message_id)
        return str(record["network_id"]) if record is not None else None

    def document(self, message_id: str) -> dict[str, Any] | None:
        """The document of ``message_id`` as the worker left it in the index, or None."""
        base = self.enriched.get(message_id)
        state = self.lineage.get(message_id) or {}
        if base is None or state.get("status") != LIVE:
            return None
        doc = dict(base)
        processing = dict(doc.get("processing") or {})
        for name in _PUBLISHED_ONLY:
            processing.pop(name, None)
        doc["processing"] = processing
        doc["absorbed_message_ids"] = list(state.get("absorbed") or [])
        network_id = self.network_id(message_id)
        if network_id is not None:  # its links are in hst-links
            doc["network_id"] = network_id
        return doc

    def links(self) -> list[dict[str, Any]]:
        """Every current link as ``hst-links`` holds it, sorted by link_id.

        ``created_at`` is when the link was recorded in the log (the live index has the
        worker's clock at that moment: the two differ by the commit latency).
        """
        seen: dict[str, dict[str, Any]] = {}
        for mine in self.message_links.values():
            if not isinstance(mine, list):
                continue
            for link in mine:
                link_id = str(link["link_id"])
                if link_id in seen:
                    continue
                seen[link_id] = {
                    **link,
                    "network_id": self.network_id(link["message_ids"][0]),
                    "created_at": self.link_times.get(link_id),
                }
        return [seen[k] for k in sorted(seen)]
