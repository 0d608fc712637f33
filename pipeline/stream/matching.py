"""Stages 4 and 5: fan out by identifier, then match under one key.

4. ``fanout`` on the enriched topic (the documents are searchable by then): asks for the
   message's own notices, and sees each person under each strong identifier and name
   blocking key (``PersonSeen``), each object identifier (``ObjectSeen``); everything ever
   seen under a key lives in the key's partition, and one record (``SeenUnderKeys``) carries
   a message's requests for the keys of one partition.
5. ``match`` (table ``match_keys``: key -> persons or messages seen under it): links the
   newcomer to those already there (``core.matching.match_person``/``match_object``) and
   sends each link to the links topic.
"""

from __future__ import annotations

from typing import Any

import orjson

from pipeline.core.linkage import Model, load_model
from pipeline.core.matching import match_object, match_person, object_identifiers, person_refs
from pipeline.settings import Settings
from pipeline.stream import metrics
from pipeline.stream.outputs import Outputs, key_partition
from pipeline.stream.records import (
    LinkFound,
    NotifyMessage,
    ObjectSeen,
    PersonSeen,
    Seen,
    SeenUnderKeys,
    read_match,
)
from pipeline.stream.runner import event_partitions


def seen_under_keys(doc: dict[str, Any], model: Model) -> list[PersonSeen | ObjectSeen]:
    """One record per key a document's persons and objects carry (``model`` blocks persons)."""
    created = doc["created_at"]
    out: list[PersonSeen | ObjectSeen] = []
    for person in person_refs(doc):
        body = {**person.to_dict(), "created_at": created}
        out += [PersonSeen(key, True, body) for key in person.identifiers]
        out += [PersonSeen(key, False, body) for key in model.keys(person)]
    out += [
        ObjectSeen(key, doc["message_id"], doc["source_ncb"], created)
        for key in object_identifiers(doc)
    ]
    return out


def by_partition(items: list[Seen], partitions: int) -> list[tuple[int, SeenUnderKeys]]:
    """Requests grouped into one record per partition where their keys live, in order."""
    grouped: dict[int, list[Seen]] = {}
    for seen in items:
        grouped.setdefault(key_partition(seen.key, partitions), []).append(seen)
    return [(p, SeenUnderKeys(tuple(group))) for p, group in sorted(grouped.items())]


class Fanout:
    """Stage 4: notices of the message itself, one match request per key."""

    def __init__(self, settings: Settings, outputs: Outputs) -> None:
        self.settings = settings
        self.out = outputs
        self.model = load_model(settings.person_model)

    async def __call__(self, event: Any) -> None:
        """Fan one indexed document out (a tombstone: its withdrawal is handled apart)."""
        if event.message.value is None:
            return
        doc = orjson.loads(event.message.value)
        await self.out.send(self.settings.topic_notify, doc["message_id"], NotifyMessage(doc))
        # One record per partition of the match topic, each with the keys that live there.
        topic = self.settings.topic_match
        requests = by_partition(seen_under_keys(doc, self.model), self.settings.partitions)
        for partition, record in requests:
            await self.out.send(topic, record.items[0].key, record, partition)
        metrics.EVENTS.labels("fanout", "fanned_out").inc()


class Match:
    """Stage 5: link each newcomer to everything seen under its key; remember it.

    In batches: each key's entry is read once and written once per batch (an entry holds up
    to ``MAX_PER_KEY`` persons, and every write of it goes to the changelog).
    """

    def __init__(self, settings: Settings, outputs: Outputs, keys: Any) -> None:
        self.settings = settings
        self.out = outputs
        self.keys = keys  # table: key -> persons or messages seen under it
        self.model = load_model(settings.person_model)

    async def __call__(self, stream: Any, events: list[Any]) -> None:
        """Match a batch of ``PersonSeen`` and ``ObjectSeen``, in order."""
        entries: dict[str, list[Any]] = {}
        event_of: dict[str, Any] = {}  # key -> the event whose partition holds it
        found: list[LinkFound] = []
        with event_partitions(stream):
            for event in events:
                for seen in read_match(event.message.value):
                    if seen.key not in entries:
                        stream._set_current_event(event)
                        entries[seen.key] = list(self.keys.get(seen.key) or [])
                    entry = entries[seen.key]
                    if isinstance(seen, PersonSeen):
                        here = match_person(
                            entry,
                            seen.person,
                            seen.key,
                            strong=seen.strong,
                            model=self.model,
                        )
                        if seen.refile:
                            metrics.EVENTS.labels("match", "refiled").inc()
                    else:
                        here = match_object(entry, seen.entry(), seen.key)
                    if here.entry is not entry:  # else unchanged: a person filed here already
                        entries[seen.key] = here.entry
                        event_of[seen.key] = event
                    for link in here.links:
                        ma, mb = link.messages
                        created = {ma: here.created[ma], mb: here.created[mb]}
                        found.append(LinkFound(link.to_dict(), created))
                        metrics.EVENTS.labels("match", link.kind).inc()
            for key, event in event_of.items():  # the keys whose entry changed
                stream._set_current_event(event)  # the partition of the key's events
                self.keys[key] = entries[key]
        for record in found:
            await self.out.send(self.settings.topic_links, "links", record)
