"""Deduplication and lineage decisions, as pure state transitions.

Two keyed states, each owned by one stream partition (Faust tables in the worker):

- **content** state, keyed by the content hash: the first message_id seen with that
  content, where it was read (so a *replay* of the same Kafka record after a crash is told
  apart from a *re-send*), and the ids it absorbed (content duplicates under new ids).
- **lineage** state, keyed by message_id: whether the message is live, superseded by an
  UPDATE or withdrawn, its content hash, and its absorbed ids.

Every transition is idempotent: processing the same input twice yields the same state and
outputs whose effects (index, delete, partial update by ``_id``) are idempotent too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Source = list[Any]  # [topic, partition, offset]

# Outcomes of the content stage.
NEW = "new"
REPLAY = "replay"
RESEND = "resend"
CONTENT_DUPLICATE = "content_duplicate"


@dataclass
class ContentDecision:
    """What the content stage does with one message."""

    outcome: str
    state: dict[str, Any]
    forward: bool  # send the message on to the lineage stage
    absorb_into: str | None = None  # canonical id that absorbs this duplicate
    absorbed: list[str] = field(default_factory=list)


def decide_content(
    state: dict[str, Any] | None, message_id: str, source: Source
) -> ContentDecision:
    """Decide for a message whose content hash maps to ``state``."""
    if state is None:
        new_state = {"first_id": message_id, "first_source": list(source), "absorbed": []}
        return ContentDecision(NEW, new_state, forward=True)
    if state["first_id"] == message_id:
        if list(state["first_source"]) == list(source):
            return ContentDecision(REPLAY, state, forward=True)
        return ContentDecision(RESEND, state, forward=False)
    absorbed = list(state.get("absorbed") or [])
    outcome = CONTENT_DUPLICATE
    if message_id in absorbed:
        outcome = RESEND  # a re-send (or replay) of a duplicate already absorbed
    else:
        absorbed.append(message_id)
    new_state = {**state, "absorbed": absorbed}
    return ContentDecision(outcome, new_state, forward=False, absorb_into=state["first_id"],
                           absorbed=absorbed)  # fmt: skip


# Lineage roles.
INDEX = "index"
SUPERSEDE = "supersede"
ABSORB = "absorb"
ALIAS = "alias"  # the message is a content duplicate of ``into``: its fate follows

LIVE = "live"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"
ABSORBED = "absorbed"


@dataclass
class LineageDecision:
    """What the lineage stage does for one input: new state and one search action."""

    state: dict[str, Any]
    action: str | None  # "index" | "delete" | "update" | None
    conflict: str | None = None  # set when the input must be dead-lettered instead
    absorbed: list[str] = field(default_factory=list)
    forward: list[dict[str, Any]] = field(default_factory=list)  # new lineage inputs to send


def decide_lineage(
    state: dict[str, Any] | None, role: str, payload: dict[str, Any]
) -> LineageDecision:
    """Decide for one lineage input keyed by the message_id it concerns.

    ``payload``: for INDEX ``{"hash"}``; for SUPERSEDE ``{"by", "kind"}`` (UPDATE/WITHDRAW);
    for ABSORB ``{"absorbed": [...]}``; for ALIAS ``{"into"}``.

    An UPDATE or WITHDRAW may name an id that was absorbed as a content duplicate (the
    document lives under the id that reached the pipeline first): the supersede is then
    forwarded to that id, whichever of the alias and the supersede arrives first.
    """
    current = dict(state or {})
    status = current.get("status")
    absorbed = list(current.get("absorbed") or [])
    if role == INDEX:
        if status in (SUPERSEDED, WITHDRAWN):
            return LineageDecision(current, None)  # replaced before it arrived: never index it
        if current.get("hash") and current["hash"] != payload["hash"]:
            reason = "message_id already used for different content; send an UPDATE with a new id"
            return LineageDecision(current, None, conflict=reason)
        new = {**current, "status": LIVE, "hash": payload["hash"], "absorbed": absorbed}
        return LineageDecision(new, "index", absorbed=absorbed)
    if role == SUPERSEDE:
        new_status = WITHDRAWN if payload.get("kind") == "WITHDRAW" else SUPERSEDED
        new = {**current, "status": new_status, "by": payload["by"], "absorbed": absorbed}
        if status == ABSORBED:
            return LineageDecision(
                new, None, forward=[_supersede(current["into"], payload["by"], new_status)]
            )
        return LineageDecision(new, "delete")
    if role == ALIAS:
        into = payload["into"]
        if status in (SUPERSEDED, WITHDRAWN):
            return LineageDecision({**current, "into": into}, None,
                                   forward=[_supersede(into, current["by"], status)])  # fmt: skip
        return LineageDecision({**current, "status": ABSORBED, "into": into}, None)
    if role == ABSORB:
        merged = absorbed + [i for i in payload["absorbed"] if i not in absorbed]
        new = {**current, "absorbed": merged}
        return LineageDecision(new, "update" if status == LIVE else None, absorbed=merged)
    msg = f"unknown lineage role {role!r}"
    raise ValueError(msg)


def expiry(target: str, review_date: str) -> dict[str, Any]:
    """The lineage input that removes a message whose retention review date has passed.

    It takes the path of a WITHDRAW: the document, its links and its aggregates are
    removed, its earlier recipients get a withdrawal, and a later re-send is not indexed.
    """
    return {
        "role": SUPERSEDE,
        "target": target,
        "by": f"retention:{review_date}",
        "kind": "WITHDRAW",
    }


def _supersede(target: str, by: str, status: str) -> dict[str, Any]:
    kind = "WITHDRAW" if status == WITHDRAWN else "UPDATE"
    return {"role": SUPERSEDE, "target": target, "by": by, "kind": kind}


def live_messages(records: list[dict[str, Any]], hash_of: Any) -> list[dict[str, Any]]:
    """The messages a complete run leaves in the index, one per distinct live content.

    ``records`` in JSON form, in publication order; ``hash_of`` computes the content hash.
    Used to know when a run is complete (``hst run``, ``hst bench``).
    """
    first: dict[str, dict[str, Any]] = {}
    for record in records:
        first.setdefault(hash_of(record), record)
    gone = {r["supersedes_message_id"] for r in first.values() if r.get("supersedes_message_id")}
    return [r for r in first.values() if r["action"] != "WITHDRAW" and r["message_id"] not in gone]


def live_groups(records: list[dict[str, Any]], hash_of: Any) -> list[set[str]]:
    """The ids that may hold each live content's document after a complete run.

    One document per distinct live content (``live_messages``), indexed under whichever id
    of its content reached the deduplication first: with several partitions that is not
    always the first published. A complete run's index holds exactly one id of each group.
    """
    ids: dict[str, set[str]] = {}
    for record in records:
        ids.setdefault(hash_of(record), set()).add(record["message_id"])
    return [ids[hash_of(r)] for r in live_messages(records, hash_of)]
