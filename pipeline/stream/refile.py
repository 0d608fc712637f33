"""Filing every live person again under the current model's keys (``hst matching refile``).

A release that changes name keys, or a new person model (other blocking rules, other
weights), leaves the persons filed before under their old keys: a new report meets them
only through keys that did not change, and two old reports the new model would link stay
apart. Refiling reads the live documents from the compacted enriched topic (the fanout's
input, where a withdrawn message is a tombstone) up to a snapshot of its end, and sends for
each person one ``PersonSeen`` per name blocking key, flagged ``refile``, to the match
topic, in the partition where the key lives (one record per message and partition, as the
fanout does). The match stage matches each person again under each key, filing it under a
key it is not under yet, so the links the model now makes go the usual way (networks,
notices), between persons filed under new keys and under keys they were already under
alike. Links made already come again with the same ids (the network stage and the index
record them once). Strong identifiers do not depend on the model and are not sent.
Refiling again sends the same requests and adds nothing (a link lost to a crash is made).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from confluent_kafka import Message

from pipeline.core.linkage import Model
from pipeline.errors import HstError
from pipeline.kafka.logread import Positions, end_offsets, read_between
from pipeline.kafka.produce import CheckedProducer, UndeliveredError
from pipeline.settings import Settings
from pipeline.stream.matching import by_partition, seen_under_keys
from pipeline.stream.records import PersonSeen, Seen, SeenUnderKeys, encode

Progress = Callable[[str, int, int | None], None]  # phase, done, total (None: unknown)


class RefileError(HstError, RuntimeError):
    """The requests could not all be sent (nothing is lost: run it again)."""


@dataclass(frozen=True)
class RefileResult:
    """What a refile read and sent."""

    documents: int  # live documents read
    persons: int
    requests: int  # one per person and name blocking key
    records: int  # Kafka records: one per message and partition of the match topic


def refile_requests(
    doc: dict[str, Any], model: Model, partitions: int
) -> list[tuple[int, SeenUnderKeys]]:
    """What the fanout asks under a document's name blocking keys, flagged as refiled."""
    names: list[Seen] = [
        replace(seen, refile=True)
        for seen in seen_under_keys(doc, model)
        if isinstance(seen, PersonSeen) and not seen.strong
    ]
    return by_partition(names, partitions)


def refile(
    settings: Settings,
    model: Model,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RefileResult:
    """Send every live person's name keys to the match topic (see the module's docstring).

    Two passes over the enriched topic up to a snapshot of its end: the first finds the
    latest version of each message (a few dozen bytes per message kept), the second sends
    the requests of those versions as it reads them.
    """
    partitions = len(end_offsets(settings, [settings.topic_match]))
    if partitions != settings.partitions:
        msg = (
            f"{settings.topic_match} has {partitions} partitions, the workers expect "
            f"{settings.partitions} (HST_PARTITIONS): refiling would file keys where no worker "
            "looks for them"
        )
        raise RefileError(msg)
    end = end_offsets(settings, [settings.topic_enriched])
    latest = _latest_versions(settings, end, progress)
    sender = None if dry_run else _Sender(settings)
    documents = persons = requests = records = 0
    for record in read_between(settings, {}, end):
        raw_key, value = record.key(), record.value()
        if raw_key is None or value is None:
            continue
        if latest.get(raw_key.decode()) != _position(record):
            continue  # an earlier version
        doc = orjson.loads(value)
        documents += 1
        persons += len(doc.get("persons") or [])
        for partition, seen in refile_requests(doc, model, partitions):
            requests += len(seen.items)
            records += 1
            if sender is not None:
                sender.send(seen, partition)
        if progress is not None and documents % 500 == 0:
            progress("refile", documents, len(latest))
    if progress is not None:
        progress("refile", documents, len(latest))
    if sender is not None:
        sender.flush()
    return RefileResult(documents, persons, requests, records)


def _latest_versions(
    settings: Settings, end: Positions, progress: Progress | None
) -> dict[str, tuple[int, int]]:
    """message_id -> (partition, offset) of its latest version, for the live messages."""
    total = sum(end.values())
    latest: dict[str, tuple[int, int] | None] = {}
    read = 0
    for record in read_between(settings, {}, end):
        read += 1
        if progress is not None and read % 2000 == 0:
            progress("scan", read, total)
        raw_key = record.key()
        if raw_key is None:
            continue
        # A tombstone: withdrawn or superseded, not live.
        where = None if record.value() is None else _position(record)
        latest[raw_key.decode()] = where
    if progress is not None:  # compacted topics have gaps: fewer records than offsets
        progress("scan", read, read)
    return {mid: where for mid, where in latest.items() if where is not None}


def _position(record: Message) -> tuple[int, int]:
    return int(record.partition() or 0), int(record.offset() or 0)


class _Sender:
    """Produces the requests; every delivery report is checked at the end."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topic_match
        self.producer = CheckedProducer(settings.producer_config(), wait=0.5)

    def send(self, seen: SeenUnderKeys, partition: int) -> None:
        """Queue one record (waiting for room when the local queue is full)."""
        self.producer.send(
            self.topic, key=seen.items[0].key.encode(), value=encode(seen), partition=partition
        )

    def flush(self) -> None:
        """Wait for every delivery; raise ``RefileError`` if any record was not delivered."""
        try:
            self.producer.flush(120)
        except UndeliveredError as e:
            raise RefileError(str(e)) from e
