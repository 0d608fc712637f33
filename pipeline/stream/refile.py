"""Filing every live person again under the current model's keys (``hst matching refile``).

A release that changes name keys, or a new person model (other blocking rules, other
weights), leaves the persons filed before under their old keys: a new report meets them
only through keys that did not change, and two old reports the new model would link stay
apart. Refiling reads the live documents from the compacted enriched topic (the fanout's
input, where a withdrawn message is a tombstone) up to a snapshot of its end, and sends for
each person one ``PersonSeen`` per name blocking key, flagged ``refile``, to the match
topic, in the partition where the key lives (one record per message and partition, as the
fanout does). The match stage files a person under a key it is not under yet and matches it
there, so the links the model now makes go the usual way (networks, notices); a person
already under a key is left as it is. Strong identifiers do not depend on the model and are
not sent. Refiling again sends the same requests and changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from confluent_kafka import KafkaError, Message, Producer

from pipeline.core.linkage import Model
from pipeline.core.matching import person_refs
from pipeline.errors import HstError
from pipeline.kafka.logread import end_offsets, read_between
from pipeline.settings import Settings
from pipeline.stream.outputs import key_partition
from pipeline.stream.records import PersonSeen, SeenUnderKeys, encode

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
    doc: dict[str, object], model: Model, partitions: int
) -> list[tuple[int, SeenUnderKeys]]:
    """A document's persons under each name blocking key, grouped by the key's partition."""
    created = doc["created_at"]
    by_partition: dict[int, list[PersonSeen]] = {}
    for person in person_refs(doc):
        body = {**person.to_dict(), "created_at": created}
        for key in model.keys(person):
            seen = PersonSeen(key, False, body, refile=True)
            by_partition.setdefault(key_partition(key, partitions), []).append(seen)
    return [(p, SeenUnderKeys(tuple(items))) for p, items in sorted(by_partition.items())]


def refile(
    settings: Settings,
    model: Model,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RefileResult:
    """Send every live person's name keys to the match topic (see the module's docstring)."""
    partitions = len(end_offsets(settings, [settings.topic_match]))
    if partitions != settings.partitions:
        msg = (
            f"{settings.topic_match} has {partitions} partitions, the workers expect "
            f"{settings.partitions} (HST_PARTITIONS): refiling would file keys where no worker "
            "looks for them"
        )
        raise RefileError(msg)
    end = end_offsets(settings, [settings.topic_enriched])
    total = sum(end.values())
    # The latest version of each message; a tombstone removes it (withdrawn, superseded).
    requests: dict[str, list[tuple[int, SeenUnderKeys]]] = {}
    persons: dict[str, int] = {}
    read = 0
    for record in read_between(settings, {}, end):
        read += 1
        if progress is not None and read % 1000 == 0:
            progress("read", read, total)
        raw_key, value = record.key(), record.value()
        if raw_key is None:
            continue
        message_id = raw_key.decode()
        if value is None:
            requests.pop(message_id, None)
            persons.pop(message_id, None)
            continue
        doc = orjson.loads(value)
        requests[message_id] = refile_requests(doc, model, partitions)
        persons[message_id] = len(doc.get("persons") or [])
    if progress is not None:  # compacted topics have gaps: fewer records than offsets
        progress("read", read, read)
    records = sum(len(r) for r in requests.values())
    result = RefileResult(
        len(requests),
        sum(persons.values()),
        sum(len(seen.items) for r in requests.values() for _, seen in r),
        records,
    )
    if not dry_run:
        _send(settings, requests, records, progress)
    return result


def _send(
    settings: Settings,
    requests: dict[str, list[tuple[int, SeenUnderKeys]]],
    records: int,
    progress: Progress | None,
) -> None:
    failures: list[str] = []

    def delivered(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(err.str())

    producer = Producer(settings.producer_config())
    sent = 0
    for message_id in sorted(requests):
        for partition, seen in requests[message_id]:
            value = encode(seen)
            while True:
                try:
                    producer.produce(
                        settings.topic_match,
                        key=seen.items[0].key.encode(),
                        value=value,
                        partition=partition,
                        on_delivery=delivered,
                    )
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(0.5)
            sent += 1
            if sent % 1000 == 0:
                producer.poll(0)
                if progress is not None:
                    progress("send", sent, records)
    left = producer.flush(120)
    if progress is not None:
        progress("send", sent - left, records)
    if left or failures:
        msg = (
            f"{left or len(failures)} of {records} record(s) not delivered to "
            f"{settings.topic_match}: {'; '.join(failures[:3]) or 'timed out'}"
        )
        raise RefileError(msg)
