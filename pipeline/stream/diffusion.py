"""Stage 7: diffusion (``notify``, table ``diffused``: who received what, keyed by message).

Applies the diffusion policy (``core.diffusion``) to each request and publishes Avro notices
keyed by recipient, on the recipient's own topic when it has one; a withdrawn message reaches
everyone who received it. A message's own notices end with the gateway's PROCESSED
acknowledgement. Notice ids are deterministic: a repeat after a crash is dropped by inboxes.
"""

from __future__ import annotations

from typing import Any

from pipeline.codec import DIFFUSION_NOTICE, AvroCodec
from pipeline.core.acks import PROCESSED, attribute_ncb
from pipeline.core.diffusion import (
    LinkedOwner,
    build_notice,
    decide,
    link_decisions,
    withdrawal_notices,
)
from pipeline.settings import Settings
from pipeline.stream import metrics
from pipeline.stream.outputs import Outputs, utc_now
from pipeline.stream.records import NotifyLink, NotifyMessage, read_notify


class Notify:
    """Stage 7: notices by the diffusion policy; the terminal acknowledgement."""

    def __init__(self, settings: Settings, outputs: Outputs, diffused: Any) -> None:
        self.settings = settings
        self.out = outputs
        self.diffused = diffused  # table: message_id -> {recipient: source NCB}
        self.codec = AvroCodec(DIFFUSION_NOTICE)

    async def __call__(self, event: Any) -> None:
        """Apply the policy to one request and publish its notices."""
        request = read_notify(event.message.value)
        now = utc_now()
        if not isinstance(request, NotifyMessage | NotifyLink):  # withdrawn
            mid = request.message_id
            for notice in withdrawal_notices(mid, self.diffused.get(mid) or {}, now):
                await self._publish(notice)
            self.diffused[mid] = {}
            return
        doc = request.doc
        if isinstance(request, NotifyMessage):
            decisions = decide(doc, screening_hit=bool(doc.get("screening")))
            kind, links = "MESSAGE", []
        else:
            owner = LinkedOwner(
                request.owner_ncb, request.owner_message_id, (request.link["link_id"],)
            )
            decisions, kind, links = link_decisions(doc, owner), "LINK", [request.link]
        received = dict(self.diffused.get(doc["message_id"]) or {})
        sent = []
        for decision in decisions:
            notice = build_notice(decision, kind, doc, links, now)
            await self._publish(notice)
            sent.append(notice)
            received[decision.recipient] = doc["source_ncb"]
        self.diffused[doc["message_id"]] = received
        if isinstance(request, NotifyMessage):  # indexed and diffused: the terminal ack
            src = doc["kafka"]
            source = (src["topic"], int(src["partition"]), int(src["offset"]))
            ncb = attribute_ncb(source[0], self.settings.topic_inbound, {}, doc["source_ncb"])
            await self.out.acknowledge(
                PROCESSED,
                ncb,
                source,
                message_id=doc["message_id"],
                document_id=doc["message_id"],
                notices=sent,
            )

    async def _publish(self, notice: dict[str, Any]) -> None:
        recipient = notice["recipient"]
        topic = self.settings.diffusion_topic_of(recipient)  # the shared one if it has none
        await self.out.send_bytes(topic, recipient, self.codec.encode(notice))
        metrics.EVENTS.labels("notify", f"{notice['kind']}:{notice['level']}").inc()
