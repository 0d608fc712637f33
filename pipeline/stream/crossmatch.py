"""Cross-matching, networks and onward diffusion in the stream.

Three more agents after indexing, each a thin loop with a per-event guard:

4. ``fanout`` on the enriched topic (documents are searchable by then): asks for the
   message's own notices (``notify``), and sends one matching request per strong identifier
   and per name blocking key to ``<inbound>.match``, keyed by that key, so every person
   ever seen under a key lives in one partition.
5. ``match`` (table ``match_keys``: key -> persons or messages seen under it): links the
   newcomer to those already there (``pipeline.core.matching``) and sends each link to
   ``<inbound>.links``.
6. ``network`` on ``<inbound>.links`` (one partition, table ``networks``): joins the two
   messages' networks, indexes the link into ``hst-links``, writes ``network_id`` and the
   links onto both documents, and asks for hit notices to the owners of both messages.
7. ``notify`` on ``<inbound>.notify`` keyed by message (table ``diffused``: who received
   what): applies the diffusion policy (``pipeline.core.diffusion``) and publishes Avro
   notices keyed by recipient; a withdrawn message reaches everyone who received it.

Every effect is keyed (link ids, notice ids, document ids), so re-processing after a crash
repeats effects without changing the outcome; inboxes drop repeated notice ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import TYPE_CHECKING, Any

import orjson

from pipeline.codec import DIFFUSION_NOTICE, AvroCodec
from pipeline.core.acks import PROCESSED, attribute_ncb
from pipeline.core.diffusion import (
    FULL,
    HIT,
    HIT_ON_YOUR_MESSAGE,
    WITHDRAWAL,
    Decision,
    LinkedOwner,
    decide,
    minimise,
)
from pipeline.core.matching import (
    PersonRef,
    blocking_keys,
    fuzzy_links,
    object_identifiers,
    object_links,
    person_refs,
    strong_links,
)
from pipeline.core.networks import WITHDRAWN, Networks, withdraw_links
from pipeline.search.bulk import BulkAction
from pipeline.stream import metrics

if TYPE_CHECKING:
    from pipeline.stream.app import Pipeline

log = logging.getLogger("hst.worker")

# Persons kept per key: a key shared by more is not evidence of anything (a hotline number).
MAX_PER_KEY = 200


def notice_id(recipient: str, kind: str, message_id: str, link_ids: list[str]) -> str:
    """Deterministic notice id: the same notice re-sent keeps its id."""
    raw = "|".join([recipient, kind, message_id, *sorted(link_ids)])
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:24]


def build_notice(decision: Decision, kind: str, doc: dict[str, Any], links: list[dict[str, Any]],
                 now: dt.datetime) -> dict[str, Any]:  # fmt: skip
    """An Avro ``DiffusionNotice`` datum for one recipient, minimised by its level."""
    full = decision.level == FULL
    notice_links = [
        {"link_id": x["link_id"], "kind": x["kind"], "score": float(x["score"]),
         "message_ids": list(x["message_ids"]), "ncbs": list(x["ncbs"]),
         "reason": x.get("reason") if full else None, "evidence": list(x.get("evidence") or []) if full else []}
        for x in links
    ]  # fmt: skip
    return {
        "notice_id": notice_id(
            decision.recipient, kind, doc["message_id"], [x["link_id"] for x in links]
        ),
        "recipient": decision.recipient,
        "kind": kind,
        "reasons": list(decision.reasons),
        "level": decision.level,
        "source_message_id": doc["message_id"],
        "source_ncb": doc["source_ncb"],
        "network_id": doc.get("network_id") if full else None,
        "links": notice_links,
        "content_json": orjson.dumps(minimise(doc, FULL, links)).decode() if full else None,
        "created_at": now,
    }


class CrossMatch:
    """The cross-matching and diffusion agents of one worker."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        settings = pipeline.settings
        app = pipeline.app
        self.notice_codec = AvroCodec(DIFFUSION_NOTICE)
        self.match_topic = pipeline._raw_topic(settings.topic_match)
        self.notify_topic = pipeline._raw_topic(settings.topic_notify)
        self.links_topic = app.topic(settings.topic_links, key_serializer="raw",
                                     value_serializer="raw", partitions=1)  # fmt: skip
        self.diffusion = pipeline._raw_topic(settings.topic_diffusion)
        self.diffusion_of = {
            n: pipeline._raw_topic(settings.diffusion_topic_of(n)) for n in settings.ncb_list
        }
        self.match_table = app.Table("match_keys", partitions=settings.partitions)
        self.diffused_table = app.Table("diffused", partitions=settings.partitions)
        self.network_table = app.Table("networks", partitions=1)
        self.message_links = app.Table("message_links", partitions=1)
        app.agent(pipeline.enriched, name="fanout", concurrency=1)(self._fanout_agent)
        app.agent(self.match_topic, name="match", concurrency=1)(self._match_agent)
        app.agent(self.links_topic, name="network", concurrency=1)(self._network_agent)
        app.agent(self.notify_topic, name="notify", concurrency=1)(self._notify_agent)

    # -- 4. fan out by identifier ----------------------------------------------------------
    async def _fanout_agent(self, stream: Any) -> None:
        await self.p.per_event(stream, "fanout", self.fanout_event)

    async def fanout_event(self, event: Any) -> None:
        """Request the message's notices and one match per key it carries."""
        if event.message.value is None:
            return  # the tombstone of a deleted document: its withdrawal is handled apart
        doc = orjson.loads(event.message.value)
        mid = doc["message_id"]
        await self._notify(mid, {"type": "message", "doc": doc})
        created = doc["created_at"]
        for person in person_refs(doc):
            body = {**person.to_dict(), "created_at": created}
            for key in person.identifiers:
                await self._match(key, {"key": key, "strong": True, "person": body})
            for key in blocking_keys(person):
                await self._match(key, {"key": key, "strong": False, "person": body})
        for key in object_identifiers(doc):
            obj = {"message_id": mid, "source_ncb": doc["source_ncb"], "created_at": created}
            await self._match(key, {"key": key, "object": obj})
        metrics.EVENTS.labels("fanout", "fanned_out").inc()

    async def withdrawn(self, message_id: str) -> None:
        """A message left the index: tell its recipients; drop its links."""
        await self._notify(message_id, {"type": "withdrawn", "message_id": message_id})
        await self.links_topic.send(key=b"links", value=orjson.dumps({"withdrawn": message_id}))

    async def _match(self, key: str, body: dict[str, Any]) -> None:
        await self.match_topic.send(key=key.encode(), value=orjson.dumps(body))

    async def _notify(self, message_id: str, body: dict[str, Any]) -> None:
        await self.notify_topic.send(key=message_id.encode(), value=orjson.dumps(body))

    # -- 5. match under one key ------------------------------------------------------------
    async def _match_agent(self, stream: Any) -> None:
        await self.p.per_event(stream, "match", self.match_event)

    async def match_event(self, event: Any) -> None:
        """Link a newcomer to everything seen under its key; remember it."""
        env = orjson.loads(event.message.value or b"{}")
        key = env["key"]
        entry: list[dict[str, Any]] = list(self.match_table.get(key) or [])
        if "person" in env:
            new = PersonRef.from_dict(env["person"])
            seen = [PersonRef.from_dict(x) for x in entry if x.get("person_id")]
            seen = [s for s in seen if s.ref != new.ref]
            if env["strong"]:
                links = strong_links(new, seen, key)
            else:
                # A pair sharing several name keys is scored once, under its smallest key.
                mine = set(blocking_keys(new))
                links = [link for link in fuzzy_links(new, seen)
                         if min(mine & set(blocking_keys(_ref_of(seen, link.a)))) == key]  # fmt: skip
            known = any(
                x.get("person_id") and f"{x['message_id']}/{x['person_id']}" == new.ref
                for x in entry
            )
            if not known:
                entry.append(env["person"])
        else:
            obj = env["object"]
            links = object_links(obj["message_id"], obj["source_ncb"],
                                 [(x["message_id"], x["source_ncb"]) for x in entry], key)  # fmt: skip
            if all(x["message_id"] != obj["message_id"] for x in entry):
                entry.append(obj)
        self.match_table[key] = entry[-MAX_PER_KEY:]
        created = {x["message_id"]: x["created_at"] for x in entry}
        for link in links:
            ma, mb = link.messages
            body = {"link": link.to_dict(), "created": {ma: created[ma], mb: created[mb]}}
            await self.links_topic.send(key=b"links", value=orjson.dumps(body))
            metrics.EVENTS.labels("match", link.kind).inc()

    # -- 6. networks -----------------------------------------------------------------------
    async def _network_agent(self, stream: Any) -> None:
        # Batches: one bulk request and one lookup per batch instead of two per link.
        await self.p.per_batch(stream, "network", self.network_batch)

    async def network_batch(self, stream: Any, events: list[Any]) -> None:
        """Join networks for a batch of links; index them; mark documents; ask for hit notices."""
        nets = Networks(self.network_table)
        settings = self.p.settings
        now = dt.datetime.now(tz=dt.UTC)
        links: list[dict[str, Any]] = []
        touched: set[str] = set()
        merged = 0
        removed: list[str] = []  # link ids to delete from hst-links
        founded: dict[str, str] = {}  # founder message -> network (for the synthesis)
        absorbed: dict[str, str] = {}
        for event in events:
            stream._set_current_event(event)  # tables need the current event
            env = orjson.loads(event.message.value or b"{}")
            if "withdrawn" in env:
                gone = env["withdrawn"]
                gone_links, partners = withdraw_links(self.message_links, gone)
                removed += gone_links
                touched |= partners
                links = [x for x in links if gone not in x["message_ids"]]
                continue
            link = env["link"]
            ma, mb = link["message_ids"]
            if WITHDRAWN in (self.message_links.get(ma), self.message_links.get(mb)):
                continue  # one side was withdrawn: no link, no notice
            change = nets.add_link(ma, env["created"][ma], mb, env["created"][mb])
            merged += bool(change.merged_ids)
            if change.changed:
                founded[change.founder] = change.network_id
                absorbed.update(zip(change.absorbed_founders, change.merged_ids, strict=True))
            summary = link  # Link.to_dict(): exactly the fields documents carry
            for mid in (ma, mb):
                kept = [
                    x for x in self.message_links.get(mid) or [] if x["link_id"] != link["link_id"]
                ]
                self.message_links[mid] = [*kept, summary]
            touched |= {ma, mb, *change.renamed}
            links.append(summary)
        actions = []
        network_of: dict[str, str] = {}
        for mid in sorted(touched):
            record = nets.network_of(mid)
            if record is None:
                continue
            network_of[mid] = record["network_id"]
            mine = self.message_links.get(mid) or []
            if mine == WITHDRAWN:
                continue
            linked = sorted({m for x in mine for m in x["message_ids"]} - {mid})
            actions.append(BulkAction("update", settings.index_alias, mid,
                                      {"network_id": record["network_id"], "links": mine,
                                       "linked_message_ids": linked}))  # fmt: skip
        stream._set_current_event(None)
        for link in links:
            doc = {
                **link,
                "network_id": network_of.get(link["message_ids"][0]),
                "created_at": now.isoformat(),
            }
            actions.append(BulkAction("index", settings.links_alias, link["link_id"], doc))
        actions += [BulkAction("delete", settings.links_alias, link_id) for link_id in removed]
        failures = await self.p.write(actions)
        for failure in failures:  # 404: the message was withdrawn meanwhile
            if failure.status != 404:
                log.error(
                    "network: %s %s failed: %s",
                    failure.action.op,
                    failure.action.doc_id,
                    failure.reason,
                )
        # A link between two messages of one NCB notifies nobody (no notice goes back to the
        # source): no documents to fetch, no requests to send (about 1 link in 9 here).
        foreign = [x for x in links if x["ncbs"][0] != x["ncbs"][1]]
        docs = await self._get_docs(sorted({m for x in foreign for m in x["message_ids"]}))
        for link in foreign:
            ma, mb = link["message_ids"]
            ncbs = dict(zip((ma, mb), link["ncbs"], strict=True))
            for this, other in ((ma, mb), (mb, ma)):
                source = docs.get(this)
                if source is None:
                    continue
                # The notice describes ``this`` alone: its other links are not the owner's
                # business (and would make every request carry them).
                source = {
                    k: v for k, v in source.items() if k not in ("links", "linked_message_ids")
                }
                source["network_id"] = network_of.get(this)
                # The owner of ``other`` hears about ``this`` under ``this``'s restrictions.
                await self._notify(this, {"type": "link", "doc": source, "owner_ncb": ncbs[other],
                                          "owner_message_id": other, "link": link})  # fmt: skip
        if self.p.synthesis is not None:
            for founder, network_id in founded.items():
                if founder not in absorbed:
                    await self.p.synthesis.network(founder, "founded", network_id)
            for founder, network_id in absorbed.items():
                await self.p.synthesis.network(founder, "absorbed", network_id)
        metrics.EVENTS.labels("network", "linked").inc(len(links))
        metrics.EVENTS.labels("network", "merged").inc(merged)

    async def _get_docs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            resp = await self.p.es.search(index=self.p.settings.index_alias,
                                          query={"ids": {"values": chunk}}, size=len(chunk))  # fmt: skip
            out.update({h["_id"]: h["_source"] for h in resp["hits"]["hits"]})
        return out

    # -- 7. diffusion ----------------------------------------------------------------------
    async def _notify_agent(self, stream: Any) -> None:
        await self.p.per_event(stream, "notify", self.notify_event)

    async def notify_event(self, event: Any) -> None:
        """Apply the diffusion policy to one request and publish the notices."""
        req = orjson.loads(event.message.value or b"{}")
        now = dt.datetime.now(tz=dt.UTC)
        kind = req["type"]
        if kind == "withdrawn":
            mid = req["message_id"]
            received = self.diffused_table.get(mid) or {}
            for recipient, source_ncb in sorted(received.items()):
                doc = {"message_id": mid, "source_ncb": source_ncb}
                await self._publish(
                    build_notice(
                        Decision(recipient, (WITHDRAWAL,), HIT), "WITHDRAWAL", doc, [], now
                    )
                )
            self.diffused_table[mid] = {}
            return
        doc = req["doc"]
        if kind == "message":
            decisions, notice_kind, links = (
                decide(doc, screening_hit=bool(doc.get("screening"))),
                "MESSAGE",
                [],
            )
        else:
            owner = LinkedOwner(
                req["owner_ncb"], req["owner_message_id"], (req["link"]["link_id"],)
            )
            decisions = [d for d in decide(doc, [owner])
                         if d.recipient == owner.ncb and HIT_ON_YOUR_MESSAGE in d.reasons]  # fmt: skip
            notice_kind, links = "LINK", [req["link"]]
        received = dict(self.diffused_table.get(doc["message_id"]) or {})
        sent = []
        for decision in decisions:
            notice = build_notice(decision, notice_kind, doc, links, now)
            await self._publish(notice)
            sent.append(notice)
            received[decision.recipient] = doc["source_ncb"]
        self.diffused_table[doc["message_id"]] = received
        if kind == "message":  # indexed and diffused: the gateway's terminal acknowledgement
            src = doc.get("kafka") or {}
            record = (src["topic"], int(src["partition"]), int(src["offset"]))
            ncb = attribute_ncb(record[0], self.p.settings.topic_inbound, {}, doc["source_ncb"])
            await self.p.ack(PROCESSED, ncb, record, message_id=doc["message_id"],
                             document_id=doc["message_id"], notices=sent)  # fmt: skip

    async def _publish(self, notice: dict[str, Any]) -> None:
        value = self.notice_codec.encode(notice)
        topic = self.diffusion_of.get(
            notice["recipient"], self.diffusion
        )  # its own topic if it has one
        await topic.send(key=notice["recipient"].encode(), value=value)
        metrics.EVENTS.labels("notify", f"{notice['kind']}:{notice['level']}").inc()


def _ref_of(refs: list[PersonRef], ref: str) -> PersonRef:
    return next(r for r in refs if r.ref == ref)
