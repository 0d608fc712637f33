"""The stream's topology, declared once: every topic, its key, partitions and record, every table.

``hst setup`` / ``hst topics create`` create exactly these topics (``pipeline.kafka.admin``)
and the worker's agents read and write exactly these (``pipeline.stream.app``);
``tests/unit/stream/test_topology.py`` fails if the two drift apart.

::

    inbound(+.<NCB>) -validate-> content -dedupe[content]-> lineage -index[lineage]-> hst-messages
      index -> enriched -fanout-> match -match[match_keys]-> links (1 partition)
                                                 -network[networks, message_links]-> hst-links
            fanout, network -> notify -notify[diffused]-> diffusion(+.<NCB>)
      index, network -> facts -facts[synth_facts]-> cells -aggregate[synth_members, synth_series]
                                                             -> hst-synthesis, synthesis
      every stage -> dlq;  validate, dedupe, index, notify -> acks(+.<NCB>)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.settings import Settings


class Kind(StrEnum):
    """What a topic is for: it decides its retention and who may use it."""

    INBOUND = "inbound"  # written by the NCB gateways
    OUTBOUND = "outbound"  # read by the NCBs or by operators
    INTERNAL = "internal"  # between two stages of the worker
    LOG = "log"  # compacted, never expired: the documents as indexed (``hst reindex``)
    CHANGELOG = "changelog"  # a table's changelog (compacted)


@dataclass(frozen=True)
class TopicDecl:
    """One topic: its name, what its key is, the record on it, who reads it."""

    name: str
    kind: Kind
    key: str
    record: str
    partitions: int
    reader: str | None = None  # the agent that reads it (None: read outside the worker)


@dataclass(frozen=True)
class TableDecl:
    """One table of the worker: its partitions are those of the topic its agent reads."""

    name: str
    source: str  # the topic whose partitioning it follows
    holds: str
    partitions: int


@dataclass(frozen=True)
class Topology:
    """Every topic and table of one deployment (names follow the settings)."""

    topics: tuple[TopicDecl, ...]
    tables: tuple[TableDecl, ...]

    def topic(self, name: str) -> TopicDecl:
        """The declaration of ``name``."""
        return next(t for t in self.topics if t.name == name)

    def table(self, name: str) -> TableDecl:
        """The declaration of table ``name``."""
        return next(t for t in self.tables if t.name == name)

    def read_by(self, agent: str) -> list[TopicDecl]:
        """The topics ``agent`` reads."""
        return [t for t in self.topics if t.reader == agent]

    def changelog(self, table: TableDecl, app_id: str) -> str:
        """The changelog topic Faust writes for ``table``."""
        return f"{app_id}-{table.name}-changelog"


def topology(settings: Settings) -> Topology:
    """The topology of the deployment ``settings`` describe."""
    s = settings
    n = s.partitions
    own = s.ncb_list
    topics = [
        TopicDecl(s.topic_inbound, Kind.INBOUND, "message_id", "HSTMessage (Avro)", n, "validate"),
        *(
            TopicDecl(
                s.inbound_topic_of(c),
                Kind.INBOUND,
                "message_id",
                "HSTMessage (Avro)",
                n,
                "validate",
            )
            for c in own
        ),
        TopicDecl(s.topic_content, Kind.INTERNAL, "content hash", "Received", n, "dedupe"),
        TopicDecl(
            s.topic_lineage,
            Kind.INTERNAL,
            "message_id concerned",
            "IndexRequest | Supersede | Absorb | Alias",
            n,
            "index",
        ),
        TopicDecl(
            s.topic_enriched, Kind.LOG, "message_id", "enriched document (JSON)", n, "fanout"
        ),
        TopicDecl(
            s.topic_match,
            Kind.INTERNAL,
            "identifier or blocking key",
            "SeenUnderKeys (PersonSeen, ObjectSeen per key of the partition)",
            n,
            "match",
        ),
        # One partition: connected components need a single view (links are few).
        TopicDecl(
            s.topic_links, Kind.INTERNAL, "links", "LinkFound | LinksWithdrawn", 1, "network"
        ),
        TopicDecl(
            s.topic_notify,
            Kind.INTERNAL,
            "message_id",
            "NotifyMessage | NotifyLink | NotifyWithdrawn",
            n,
            "notify",
        ),
        TopicDecl(
            s.topic_facts,
            Kind.INTERNAL,
            "message_id",
            "FactsAdded | FactsWithdrawn | NetworkChanged",
            n,
            "facts",
        ),
        TopicDecl(s.topic_cells, Kind.INTERNAL, "dimension", "CellChange", n, "aggregate"),
        TopicDecl(s.topic_dlq, Kind.OUTBOUND, "original key", "DeadLetter (Avro)", n),
        TopicDecl(s.topic_acks, Kind.OUTBOUND, "NCB", "Acknowledgement (Avro)", n),
        *(
            TopicDecl(s.acks_topic_of(c), Kind.OUTBOUND, "NCB", "Acknowledgement (Avro)", n)
            for c in own
        ),
        TopicDecl(s.topic_diffusion, Kind.OUTBOUND, "recipient NCB", "DiffusionNotice (Avro)", n),
        *(
            TopicDecl(
                s.diffusion_topic_of(c), Kind.OUTBOUND, "recipient NCB", "DiffusionNotice (Avro)", n
            )
            for c in own
        ),
        TopicDecl(s.topic_synthesis, Kind.OUTBOUND, "series", "SynthesisRecord (Avro)", n),
    ]
    tables = [
        TableDecl("content", s.topic_content, "content hash -> first id, re-sends", n),
        TableDecl("lineage", s.topic_lineage, "message_id -> status, hash, absorbed ids", n),
        TableDecl("match_keys", s.topic_match, "key -> persons or messages seen under it", n),
        TableDecl("diffused", s.topic_notify, "message_id -> who received it", n),
        TableDecl("networks", s.topic_links, "message_id -> network", 1),
        TableDecl("message_links", s.topic_links, "message_id -> its links", 1),
        TableDecl("synth_facts", s.topic_facts, "message_id -> the cells it counts in", n),
        TableDecl("synth_members", s.topic_cells, "cell -> contributions by message", n),
        TableDecl("synth_series", s.topic_cells, "series -> windows and alerts", n),
    ]
    return Topology(tuple(topics), tuple(tables))
