"""Stage 6: networks (``network`` on the one-partition links topic).

Tables ``networks`` (union-find of linked messages, ``core.networks``) and ``message_links``
(each message's links). In batches: one bulk request and one document lookup per batch,
not two per link. Each batch joins the networks of its links, indexes the links into
``hst-links``, writes ``network_id`` onto the documents whose network changed, asks for
hit notices to the owners of both messages, and tells the synthesis which networks were
founded or absorbed. A withdrawn message takes its links with it (networks are not split).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.networks import WITHDRAWN, Networks, record_link, withdraw_links
from pipeline.search.bulk import BulkAction
from pipeline.settings import Settings
from pipeline.stream import metrics
from pipeline.stream.outputs import Outputs, utc_now
from pipeline.stream.records import LinkFound, NetworkChanged, NotifyLink, read_links
from pipeline.stream.runner import event_partitions
from pipeline.stream.sink import SearchSink

log = logging.getLogger(__name__)

# ``networks`` table key of what a batch changed and has not yet written (documents, synthesis).
PENDING = "pending:effects"


@dataclass
class BatchEffects:
    """What one batch of links changed."""

    links: list[dict[str, Any]] = field(default_factory=list)  # new links, to index and notify
    renamed: set[str] = field(default_factory=set)  # messages whose network_id changed
    removed: list[str] = field(default_factory=list)  # link ids to delete from hst-links
    founded: dict[str, str] = field(default_factory=dict)  # founder message -> network
    absorbed: dict[str, str] = field(default_factory=dict)  # absorbed founder -> its network
    merged: int = 0


class Network:
    """Stage 6: networks, link documents, document updates, hit notices."""

    def __init__(
        self,
        settings: Settings,
        outputs: Outputs,
        sink: SearchSink,
        networks: Any,
        message_links: Any,
    ) -> None:
        self.settings = settings
        self.out = outputs
        self.sink = sink
        self.networks = networks  # table: union-find of messages
        self.message_links = message_links  # table: message_id -> its links (or WITHDRAWN)

    def apply(self, stream: Any, events: list[Any]) -> BatchEffects:
        """Record a batch of links and withdrawals in the tables (inside ``event_partitions``)."""
        nets = Networks(self.networks)
        done = BatchEffects()
        for event in events:
            stream._set_current_event(event)  # tables write to the current event's partition
            item = read_links(event.message.value)
            if not isinstance(item, LinkFound):  # withdrawn
                gone_links, _ = withdraw_links(self.message_links, item.message_id)
                done.removed += gone_links
                done.links = [x for x in done.links if item.message_id not in x["message_ids"]]
                continue
            change = record_link(nets, self.message_links, item.link, item.created)
            if change is None:
                continue
            done.merged += bool(change.merged_ids)
            if change.changed:
                done.founded[change.founder] = change.network_id
                done.absorbed.update(zip(change.absorbed_founders, change.merged_ids, strict=True))
            done.renamed |= set(change.renamed)
            done.links.append(item.link)
        return done

    def _networks_of(self, done: BatchEffects) -> dict[str, str]:
        """The network of every message the batch named."""
        nets = Networks(self.networks)
        named = done.renamed | {m for x in done.links for m in x["message_ids"]}
        out: dict[str, str] = {}
        for mid in sorted(named):
            record = nets.network_of(mid)
            if record is not None:
                out[mid] = record["network_id"]
        return out

    def _with_pending(self, done: BatchEffects) -> None:
        """Add the effects an interrupted batch left unwritten, and record this batch's.

        The tables change before the documents and the synthesis hear of it: a batch replayed
        after a crash finds its links already joined and changes nothing, so what it would
        have written is kept under ``PENDING`` until it is written.
        """
        pending = self.networks.get(PENDING) or {}
        done.renamed |= set(pending.get("renamed") or [])
        done.founded = {**(pending.get("founded") or {}), **done.founded}
        done.absorbed = {**(pending.get("absorbed") or {}), **done.absorbed}
        if done.renamed or done.founded or done.absorbed:
            self.networks[PENDING] = {
                "renamed": sorted(done.renamed),
                "founded": done.founded,
                "absorbed": done.absorbed,
            }

    async def __call__(self, stream: Any, events: list[Any]) -> None:
        """Apply a batch; write links and documents; ask for notices; tell the synthesis."""
        s = self.settings
        with event_partitions(stream):  # finding a root may compress its path: a write
            done = self.apply(stream, events)
            self._with_pending(done)
            network_of = self._networks_of(done)
        # A document carries its network_id, written when it changes; its links live in
        # hst-links (rewriting both documents for each new link cost the engine more than
        # indexing them).
        actions = [
            BulkAction("update", s.index_alias, mid, {"network_id": network_of[mid]})
            for mid in sorted(done.renamed)
            if mid in network_of and self.message_links.get(mid) != WITHDRAWN
        ]
        now = utc_now().isoformat()
        for link in done.links:
            doc = {**link, "network_id": network_of.get(link["message_ids"][0]), "created_at": now}
            actions.append(BulkAction("index", s.links_alias, link["link_id"], doc))
        actions += [BulkAction("delete", s.links_alias, link_id) for link_id in done.removed]
        for failure in await self.sink.write(actions):
            if failure.status != 404:  # 404: the message was withdrawn meanwhile
                log.error(
                    "network: %s %s failed: %s",
                    failure.action.op,
                    failure.action.doc_id,
                    failure.reason,
                )
        await self._notify(done.links, network_of)
        if s.synthesis_enabled:
            changes = {
                **{f: ("founded", n) for f, n in done.founded.items()},
                **{f: ("absorbed", n) for f, n in done.absorbed.items()},
            }
            for founder, (what, network_id) in changes.items():
                await self.out.send(
                    s.topic_facts, founder, NetworkChanged(founder, what, network_id)
                )
        if done.renamed or done.founded or done.absorbed:
            with event_partitions(stream):  # written: nothing is pending any more
                stream._set_current_event(events[-1])
                self.networks[PENDING] = {}
        metrics.EVENTS.labels("network", "linked").inc(len(done.links))
        metrics.EVENTS.labels("network", "merged").inc(done.merged)

    async def _notify(self, links: list[dict[str, Any]], network_of: dict[str, str]) -> None:
        """Ask for a hit notice to the owner of each end of each link between two NCBs."""
        # A link within one NCB notifies nobody (no notice goes back to the source).
        foreign = [x for x in links if x["ncbs"][0] != x["ncbs"][1]]
        wanted = sorted({m for x in foreign for m in x["message_ids"]})
        docs = await self.sink.get(self.settings.index_alias, wanted) if wanted else {}
        for link in foreign:
            ma, mb = link["message_ids"]
            ncbs = dict(zip((ma, mb), link["ncbs"], strict=True))
            for this, other in ((ma, mb), (mb, ma)):
                if this not in docs:
                    continue
                source = {**docs[this], "network_id": network_of.get(this)}
                request = NotifyLink(source, ncbs[other], other, link)
                await self.out.send(self.settings.topic_notify, this, request)
