"""Records of cross-matching and diffusion: the match, links and notify topics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pipeline.stream.records.base import RecordError, load


# -- match topic (fanout -> match), keyed by identifier or blocking key ------------------------
@dataclass(frozen=True)
class PersonSeen:
    """A person seen under ``key`` (a strong identifier, or a name blocking key)."""

    TYPE: ClassVar[str] = "person"
    key: str
    strong: bool
    person: dict[str, Any]  # ``PersonRef.to_dict()`` and the message's ``created_at``
    # Sent by ``hst matching refile`` (keys or model changed). Matched as any request; the
    # flag tells them apart on the topic and in the match stage's "refiled" count.
    refile: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        out = {"type": self.TYPE, "key": self.key, "strong": self.strong, "person": self.person}
        return {**out, "refile": True} if self.refile else out


@dataclass(frozen=True)
class ObjectSeen:
    """A message carrying the object identifier ``key`` (a vehicle, a phone, an account)."""

    TYPE: ClassVar[str] = "object"
    key: str
    message_id: str
    source_ncb: str
    created_at: str

    def entry(self) -> dict[str, Any]:
        """What the match table keeps of it."""
        return {
            "message_id": self.message_id,
            "source_ncb": self.source_ncb,
            "created_at": self.created_at,
        }

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "key": self.key, "object": self.entry()}


Seen = PersonSeen | ObjectSeen


@dataclass(frozen=True)
class SeenUnderKeys:
    """What one message was seen under, for the keys that live in one partition.

    One record per partition instead of one per key: a message has about nine keys, and
    each record costs a produce, a fetch and a Faust event.
    """

    TYPE: ClassVar[str] = "seen"
    items: tuple[Seen, ...]

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "items": [item.to_dict() for item in self.items]}


def _seen(d: dict[str, Any]) -> Seen:
    if "person" in d:
        return PersonSeen(d["key"], bool(d["strong"]), d["person"], bool(d.get("refile")))
    if "object" in d:
        o = d["object"]
        return ObjectSeen(d["key"], o["message_id"], o["source_ncb"], o["created_at"])
    msg = "match record with neither person nor object"
    raise RecordError(msg)


def read_match(value: bytes | None) -> list[Seen]:
    """The requests of a record of the match topic (one, or one per key of a partition)."""
    d = load(value)
    if d.get("type") == SeenUnderKeys.TYPE:
        return [_seen(item) for item in d["items"]]
    return [_seen(d)]


# -- links topic (match, index -> network), one partition ------------------------------------
@dataclass(frozen=True)
class LinkFound:
    """A link (``Link.to_dict()``) and when each of its two messages was created."""

    TYPE: ClassVar[str] = "link"
    link: dict[str, Any]
    created: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "link": self.link, "created": self.created}


@dataclass(frozen=True)
class LinksWithdrawn:
    """A message left the index: its links go with it."""

    TYPE: ClassVar[str] = "withdrawn"
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "withdrawn": self.message_id}


def read_links(value: bytes | None) -> LinkFound | LinksWithdrawn:
    """A record of the links topic."""
    d = load(value)
    if "withdrawn" in d:
        return LinksWithdrawn(d["withdrawn"])
    return LinkFound(d["link"], d["created"])


# -- notify topic (fanout, network, index -> notify), keyed by message_id ----------------------
@dataclass(frozen=True)
class NotifyMessage:
    """A message was indexed: its own notices, then the gateway's PROCESSED."""

    TYPE: ClassVar[str] = "message"
    doc: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "doc": self.doc}


@dataclass(frozen=True)
class NotifyLink:
    """Tell the owner of ``owner_message_id`` that ``doc`` links to it."""

    TYPE: ClassVar[str] = "link"
    doc: dict[str, Any]
    owner_ncb: str
    owner_message_id: str
    link: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {
            "type": self.TYPE,
            "doc": self.doc,
            "owner_ncb": self.owner_ncb,
            "owner_message_id": self.owner_message_id,
            "link": self.link,
        }


@dataclass(frozen=True)
class NotifyWithdrawn:
    """A message left the index: everyone who received it hears so."""

    TYPE: ClassVar[str] = "withdrawn"
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "message_id": self.message_id}


NotifyRequest = NotifyMessage | NotifyLink | NotifyWithdrawn


def read_notify(value: bytes | None) -> NotifyRequest:
    """A record of the notify topic."""
    d = load(value)
    kind = d.get("type")
    if kind == NotifyMessage.TYPE:
        return NotifyMessage(d["doc"])
    if kind == NotifyLink.TYPE:
        return NotifyLink(d["doc"], d["owner_ncb"], d["owner_message_id"], d["link"])
    if kind == NotifyWithdrawn.TYPE:
        return NotifyWithdrawn(d["message_id"])
    msg = f"unknown notify request {kind!r}"
    raise RecordError(msg)
