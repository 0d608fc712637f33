"""Records of the synthesis: the facts and cells topics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipeline.core.synthesis import GRANULARITIES, contributions
from pipeline.stream.records.base import RecordError, load


# -- facts topic (index, network -> facts), keyed by message_id --------------------------------
@dataclass(frozen=True)
class FactsAdded:
    """What one indexed message counts in: its cells and its measures."""

    TYPE: ClassVar[str] = "facts"
    message_id: str
    cells: tuple[tuple[str, str], ...]  # (series, window)
    measures: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: dict[str, Any], granularities: Iterable[str] = GRANULARITIES) -> FactsAdded:
        """The facts of an enriched document (``core.synthesis.contributions``)."""
        found = contributions(doc, granularities)
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
    d = load(value)
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
    d = load(value)
    cells = d.get("cells") or [[d["series"], d["window"]]]
    measures = None if d.get("remove") else d["measures"]
    return CellChange(d["dim"], tuple((s, w) for s, w in cells), d["mid"], measures)
