"""The records that travel between the worker's stages, one frozen dataclass per kind.

Each internal topic carries one union of these (``pipeline.topology`` names it). On the
wire a record is the JSON of ``to_dict()``, tagged by ``type`` (lineage inputs by ``role``,
the form ``core.dedupe`` and ``hst retention`` write); ``read_<topic>`` turns bytes back
into the record. Records written before the tags existed are recognised by their keys, so a
worker upgraded with records in flight reads them.
"""

from pipeline.stream.records.base import RecordError, Source, encode
from pipeline.stream.records.crossmatch import (
    LinkFound,
    LinksWithdrawn,
    NotifyLink,
    NotifyMessage,
    NotifyRequest,
    NotifyWithdrawn,
    ObjectSeen,
    PersonSeen,
    Seen,
    SeenUnderKeys,
    read_links,
    read_match,
    read_notify,
)
from pipeline.stream.records.messages import (
    Absorb,
    Alias,
    IndexRequest,
    LineageInput,
    Received,
    Supersede,
    lineage_from_dict,
    read_content,
    read_lineage,
)
from pipeline.stream.records.synthesis import (
    CellChange,
    FactsAdded,
    FactsInput,
    FactsWithdrawn,
    NetworkChanged,
    read_cells,
    read_facts,
)

__all__ = [
    "Absorb",
    "Alias",
    "CellChange",
    "FactsAdded",
    "FactsInput",
    "FactsWithdrawn",
    "IndexRequest",
    "LineageInput",
    "LinkFound",
    "LinksWithdrawn",
    "NetworkChanged",
    "NotifyLink",
    "NotifyMessage",
    "NotifyRequest",
    "NotifyWithdrawn",
    "ObjectSeen",
    "PersonSeen",
    "Received",
    "RecordError",
    "Seen",
    "SeenUnderKeys",
    "Source",
    "Supersede",
    "encode",
    "lineage_from_dict",
    "read_cells",
    "read_content",
    "read_facts",
    "read_lineage",
    "read_links",
    "read_match",
    "read_notify",
]
