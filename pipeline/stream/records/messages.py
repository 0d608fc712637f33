"""Records of the indexing path: the content topic and the lineage topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.core.dedupe import ABSORB, ALIAS, INDEX, SUPERSEDE
from pipeline.stream.records.base import RecordError, Source, load, source


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
        return cls(d["record"], d["hash"], source(d["src"]), int(d["ts"]), d["received_at"])


def read_content(value: bytes | None) -> Received:
    """A record of the content topic."""
    return Received.from_dict(load(value))


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
    return lineage_from_dict(load(value))
