"""Onward diffusion policy: who receives what about a message (pure: no I/O).

The source NCB's restrictions bind every onward diffusion. The rules, in order:

| step | rule |
|------|------|
| 1 | Candidates: the NCBs of the route countries (origin, transit, destination) -> ``ROUTE_COUNTRY``; the NCBs owning earlier messages this one links to -> ``HIT_ON_YOUR_MESSAGE``; the General Secretariat (``GS``) always, and for screening hits -> ``SCREENING_HIT``. |
| 2 | The source NCB itself is never a recipient (it learns the outcome by acknowledgement). |
| 3 | ``dissemination_denylist`` removes NCBs; a non-empty ``dissemination_allowlist`` keeps only the NCBs it names. The GS is the collecting authority, not an onward recipient: it always receives. |
| 4 | ``H2`` (no onward dissemination without permission): only the GS (full) and the owners of linked messages, who get a hit/no-hit notice (level ``HIT``: that a link exists and whom to ask, no content). Route countries get nothing. |
| 5 | ``contains_minor`` (declared, or derived from ages): every NCB notice is hit/no-hit only (level ``HIT``, no person details); the GS keeps ``FULL``. |
| 6 | Otherwise NCBs receive ``FULL`` content minus the handling fields they do not need. |
| 7 | A ``WITHDRAW`` reaches exactly the recipients of the original (any level), as a withdrawal. |

Levels: ``FULL`` (the enriched message without its handling and processing fields, plus
links with evidence) and ``HIT`` (references only: the message, its source, the link ids
and kinds; no person, identifier, place or evidence).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

GS = "GS"  # the General Secretariat

ROUTE_COUNTRY = "ROUTE_COUNTRY"
HIT_ON_YOUR_MESSAGE = "HIT_ON_YOUR_MESSAGE"
SCREENING_HIT = "SCREENING_HIT"
GENERAL_SECRETARIAT = "GENERAL_SECRETARIAT"
WITHDRAWAL = "WITHDRAWAL"
SYNTHESIS = "SYNTHESIS"

FULL, HIT = "FULL", "HIT"


@dataclass(frozen=True)
class Decision:
    """One recipient, why, and how much it may see."""

    recipient: str
    reasons: tuple[str, ...]
    level: str


@dataclass(frozen=True)
class LinkedOwner:
    """An NCB whose earlier message the new one links to."""

    ncb: str
    message_id: str
    link_ids: tuple[str, ...] = field(default_factory=tuple)


def route_countries(doc: dict[str, Any]) -> list[str]:
    """Origin, transit and destination countries of a message, in route order."""
    route = doc.get("route") or {}
    countries = route.get("countries")  # enriched documents: every country on the route
    seq = [route.get("origin_country"), *(route.get("transit_countries") or []),
           route.get("destination_country"), *(countries if isinstance(countries, list) else [])]  # fmt: skip
    out: list[str] = []
    for c in seq:
        if c and c not in out:
            out.append(c)
    return out


def has_minor(doc: dict[str, Any]) -> bool:
    """Declared or derived: any person under 18 makes the whole message a minor's."""
    handling = doc.get("handling") or {}
    return bool(handling.get("contains_minor") or doc.get("contains_minor_effective")
                or any(p.get("is_minor") for p in doc.get("persons") or []))  # fmt: skip


def decide(doc: dict[str, Any], linked: Iterable[LinkedOwner] = (),
           screening_hit: bool = False) -> list[Decision]:  # fmt: skip
    """Recipients of a processed (CREATE or UPDATE) message under the source's restrictions."""
    handling = doc.get("handling") or {}
    source = doc["source_ncb"]
    deny = set(handling.get("dissemination_denylist") or [])
    allow = set(handling.get("dissemination_allowlist") or [])
    h2 = "H2" in (handling.get("handling_codes") or [])
    minor = has_minor(doc)

    reasons: dict[str, list[str]] = {GS: [GENERAL_SECRETARIAT]}
    if screening_hit:
        reasons[GS].append(SCREENING_HIT)
    for c in route_countries(doc):
        reasons.setdefault(c, []).append(ROUTE_COUNTRY)
    for owner in linked:
        if HIT_ON_YOUR_MESSAGE not in reasons.setdefault(owner.ncb, []):
            reasons[owner.ncb].append(HIT_ON_YOUR_MESSAGE)

    out = [Decision(GS, tuple(reasons.pop(GS)), FULL)]
    for ncb, why in sorted(reasons.items()):
        if ncb in (source, GS) or ncb in deny or (allow and ncb not in allow):
            continue
        if h2:
            if HIT_ON_YOUR_MESSAGE in why:
                out.append(Decision(ncb, (HIT_ON_YOUR_MESSAGE,), HIT))
            continue
        out.append(Decision(ncb, tuple(why), HIT if minor else FULL))
    return out


def withdrawal(previous: Iterable[str]) -> list[Decision]:
    """A withdrawal reaches exactly those who received the original."""
    return [Decision(r, (WITHDRAWAL,), HIT) for r in sorted(set(previous))]


def minimise(
    doc: dict[str, Any], level: str, links: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The content a recipient at ``level`` may see."""
    links = links or []
    if level == HIT:
        return {"message_id": doc["message_id"], "source_ncb": doc["source_ncb"],
                "links": [{"link_id": x["link_id"], "kind": x["kind"],
                           "message_ids": x["message_ids"]} for x in links]}  # fmt: skip
    out = {k: v for k, v in doc.items() if k not in ("handling", "kafka", "processing")}
    out["links"] = links
    if "linked_message_ids" in out:  # only the messages this notice's links name
        own = doc.get("message_id")
        out["linked_message_ids"] = sorted(
            {m for x in links for m in x.get("message_ids", ()) if m != own}
        )
    return out


# Bulletins (synthesis products): what a recipient's bulletin may be built from.
COUNTS = "COUNTS"  # counted in aggregate figures only, never listed or described


def bulletin_level(doc: dict[str, Any], recipient: str) -> str | None:
    """How a message may enter a bulletin for ``recipient``: ``FULL``, ``COUNTS`` or not at all.

    The same restrictions as single notices: the GS and the source itself see everything;
    the denylist and a non-empty allowlist exclude NCBs; ``H2`` excludes every other NCB
    (no onward dissemination without permission, even as a count); a minor's message
    counts in the figures but is never listed (e.g. in a network).
    """
    if recipient in (GS, doc.get("source_ncb")):
        return FULL
    handling = doc.get("handling") or {}
    deny = set(handling.get("dissemination_denylist") or [])
    allow = set(handling.get("dissemination_allowlist") or [])
    if recipient in deny or (allow and recipient not in allow):
        return None
    if "H2" in (handling.get("handling_codes") or []):
        return None
    return COUNTS if has_minor(doc) else FULL


def notice_id(recipient: str, kind: str, message_id: str, link_ids: list[str]) -> str:
    """Deterministic notice id: the same notice sent again keeps its id (inboxes drop repeats)."""
    raw = "|".join([recipient, kind, message_id, *sorted(link_ids)])
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:24]


def build_notice(
    decision: Decision,
    kind: str,
    doc: dict[str, Any],
    links: list[dict[str, Any]],
    now: dt.datetime,
) -> dict[str, Any]:
    """An Avro ``DiffusionNotice`` datum for one recipient, minimised by its level."""
    full = decision.level == FULL
    notice_links = [
        {
            "link_id": x["link_id"],
            "kind": x["kind"],
            "score": float(x["score"]),
            "message_ids": list(x["message_ids"]),
            "ncbs": list(x["ncbs"]),
            "reason": x.get("reason") if full else None,
            "evidence": list(x.get("evidence") or []) if full else [],
        }
        for x in links
    ]
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


def withdrawal_notices(
    message_id: str, received: dict[str, str], now: dt.datetime
) -> list[dict[str, Any]]:
    """A WITHDRAWAL notice to each recipient of ``message_id`` (``received``: recipient -> source)."""
    return [
        build_notice(
            Decision(recipient, (WITHDRAWAL,), HIT),
            "WITHDRAWAL",
            {"message_id": message_id, "source_ncb": source},
            [],
            now,
        )
        for recipient, source in sorted(received.items())
    ]


def link_decisions(doc: dict[str, Any], owner: LinkedOwner) -> list[Decision]:
    """Whether the owner of a linked message hears of ``doc``: a hit on their own message only."""
    return [
        d
        for d in decide(doc, [owner])
        if d.recipient == owner.ncb and HIT_ON_YOUR_MESSAGE in d.reasons
    ]
