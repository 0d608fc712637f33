"""The records that travel between the worker's stages, one frozen dataclass per kind.

Each internal topic carries one union of these (``pipeline.topology`` names it). On the
wire a record is the JSON of ``to_dict()``, tagged by ``type`` (lineage inputs by ``role``,
the form ``core.dedupe`` and ``hst retention`` write); ``read_<topic>`` turns bytes back
into the record. Records written before the tags existed are recognised by their keys, so a
worker upgraded with records in flight reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from pipeline.core.dedupe import ABSORB, ALIAS, INDEX, SUPERSEDE
from pipeline.core.synthesis import contributions

Source = tuple[str, int, int]  # the inbound record a message came from: topic, partition, offset


class RecordError(ValueError):
    """A record on an internal topic that no record type describes."""


def encode(record: Any) -> bytes:
    """The wire form of any record of this module."""
    return orjson.dumps(record.to_dict())


def _load(value: bytes | None) -> dict[str, Any]:
    data = orjson.loads(value or b"{}")
    if not isinstance(data, dict):
        msg = f"expected a JSON object, got {type(data).__name__}"
        raise RecordError(msg)
    return data


def _source(value: Any) -> Source:
    topic, partition, offset = value
    return (str(topic), int(partition), int(offset))


# -- content topic (validate -> dedupe), keyed by content hash --------------------------------
@dataclass(frozen=True)
class Received:
    """A decoded, valid message: its JSON form, content hash and where it came from."""

    record: dict[str, Any]
    hash: str
    src: Source
    ts: int  # the inbound record's timestamp (ms)
    received_at: str

    @property
    def message_id(self) -> str:
        """The message's id."""
        return str(self.record["message_id"])

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {
            "record": self.record,
            "hash": self.hash,
            "src": list(self.src),
            "ts": self.ts,
            "received_at": self.received_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Received:
        """Inverse of ``to_dict``."""
        return cls(d["record"], d["hash"], _source(d["src"]), int(d["ts"]), d["received_at"])


def read_content(value: bytes | None) -> Received:
    """A record of the content topic."""
    return Received.from_dict(_load(value))


# -- lineage topic (dedupe, index, retention -> index), keyed by the message_id concerned -----
@dataclass(frozen=True)
class IndexRequest:
    """Index this new message (unless its lineage says otherwise)."""

    received: Received

    @property
    def target(self) -> str:
        """The message_id concerned."""
        return self.received.message_id

    def to_dict(self) -> dict[str, Any]:
        """Wire form (``core.dedupe.decide_lineage`` reads ``hash``)."""
        return {**self.received.to_dict(), "role": INDEX, "target": self.target}


@dataclass(frozen=True)
class Supersede:
    """``target`` is replaced (UPDATE) or withdrawn (WITHDRAW, retention) by ``by``."""

    target: str
    by: str
    kind: str  # UPDATE | WITHDRAW

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"role": SUPERSEDE, "target": self.target, "by": self.by, "kind": self.kind}


@dataclass(frozen=True)
class Absorb:
    """Content duplicates of ``target`` that its document records."""

    target: str
    absorbed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"role": ABSORB, "target": self.target, "absorbed": list(self.absorbed)}


@dataclass(frozen=True)
class Alias:
    """``target`` is a content duplicate of ``into``: its fate follows."""

    target: str
    into: str

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"role": ALIAS, "target": self.target, "into": self.into}


LineageInput = IndexRequest | Supersede | Absorb | Alias


def lineage_from_dict(d: dict[str, Any]) -> LineageInput:
    """A lineage input from its wire form (also ``core.dedupe``'s forwards)."""
    role = d.get("role")
    if role == INDEX:
        return IndexRequest(Received.from_dict(d))
    if role == SUPERSEDE:
        return Supersede(d["target"], d["by"], d["kind"])
    if role == ABSORB:
        return Absorb(d["target"], tuple(d["absorbed"]))
    if role == ALIAS:
        return Alias(d["target"], d["into"])
    msg = f"unknown lineage role {role!r}"
    raise RecordError(msg)


def read_lineage(value: bytes | None) -> LineageInput:
    """A record of the lineage topic."""
    return lineage_from_dict(_load(value))


# -- match topic (fanout -> match), keyed by identifier or blocking key ------------------------
@dataclass(frozen=True)
class PersonSeen:
    """A person seen under ``key`` (a strong identifier, or a name blocking key)."""

    TYPE: ClassVar[str] = "person"
    key: str
    strong: bool
    person: dict[str, Any]  # ``PersonRef.to_dict()`` and the message's ``created_at``

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "key": self.key, "strong": self.strong, "person": self.person}


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


def read_match(value: bytes | None) -> PersonSeen | ObjectSeen:
    """A record of the match topic."""
    d = _load(value)
    if "person" in d:
        return PersonSeen(d["key"], bool(d["strong"]), d["person"])
    if "object" in d:
        o = d["object"]
        return ObjectSeen(d["key"], o["message_id"], o["source_ncb"], o["created_at"])
    msg = "match record with neither person nor object"
    raise RecordError(msg)


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
    d = _load(value)
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
    d = _load(value)
    kind = d.get("type")
    if kind == NotifyMessage.TYPE:
        return NotifyMessage(d["doc"])
    if kind == NotifyLink.TYPE:
        return NotifyLink(d["doc"], d["owner_ncb"], d["owner_message_id"], d["link"])
    if kind == NotifyWithdrawn.TYPE:
        return NotifyWithdrawn(d["message_id"])
    msg = f"unknown notify request {kind!r}"
    raise RecordError(msg)


# -- facts topic (index, network -> facts), keyed by message_id --------------------------------
@dataclass(frozen=True)
class FactsAdded:
    """What one indexed message counts in: its cells and its measures."""

    TYPE: ClassVar[str] = "facts"
    message_id: str
    cells: tuple[tuple[str, str], ...]  # (series, window)
    measures: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: dict[str, Any]) -> FactsAdded:
        """The facts of an enriched document (``core.synthesis.contributions``)."""
        found = contributions(doc)
        return cls(
            doc["message_id"],
            tuple((c.series, c.window) for c in found),
            found[0].measures if found else {},
        )

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {
            "type": self.TYPE,
            "message_id": self.message_id,
            "cells": [list(c) for c in self.cells],
            "measures": self.measures,
        }


@dataclass(frozen=True)
class FactsWithdrawn:
    """A message left the index: it leaves every aggregate."""

    TYPE: ClassVar[str] = "withdrawn"
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {"type": self.TYPE, "withdrawn": self.message_id}


@dataclass(frozen=True)
class NetworkChanged:
    """The network founded by ``message_id`` was ``founded`` or ``absorbed`` into another."""

    TYPE: ClassVar[str] = "network"
    message_id: str
    event: str
    network_id: str

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {
            "type": self.TYPE,
            "network": {"mid": self.message_id, "event": self.event, "network_id": self.network_id},
        }


FactsInput = FactsAdded | FactsWithdrawn | NetworkChanged


def read_facts(value: bytes | None) -> FactsInput:
    """A record of the facts topic (an enriched document: the form before typed records)."""
    d = _load(value)
    kind = d.get("type")
    if kind == FactsAdded.TYPE:
        return FactsAdded(d["message_id"], tuple((s, w) for s, w in d["cells"]), d["measures"])
    if "withdrawn" in d:
        return FactsWithdrawn(d["withdrawn"])
    if "network" in d:
        n = d["network"]
        return NetworkChanged(n["mid"], n["event"], n["network_id"])
    if "message_id" in d:
        return FactsAdded.of(d)
    msg = "facts record of no known type"
    raise RecordError(msg)


# -- cells topic (facts -> aggregate), keyed by dimension -------------------------------------
@dataclass(frozen=True)
class CellChange:
    """One message's measures in some cells of one dimension; ``None``: removed from them."""

    TYPE: ClassVar[str] = "cell"
    dimension: str
    cells: tuple[tuple[str, str], ...]
    message_id: str
    measures: dict[str, int] | None

    def to_dict(self) -> dict[str, Any]:
        """Wire form."""
        body = {
            "type": self.TYPE,
            "dim": self.dimension,
            "cells": [list(c) for c in self.cells],
            "mid": self.message_id,
        }
        return body | ({"remove": True} if self.measures is None else {"measures": self.measures})


def read_cells(value: bytes | None) -> CellChange:
    """A record of the cells topic."""
    d = _load(value)
    cells = d.get("cells") or [[d["series"], d["window"]]]
    measures = None if d.get("remove") else d["measures"]
    return CellChange(d["dim"], tuple((s, w) for s, w in cells), d["mid"], measures)
