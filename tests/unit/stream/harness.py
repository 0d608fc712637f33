"""An in-memory harness for the worker's stages: topics that record, dict tables, events.

The stages run as in the worker (``pipeline.stream.outputs.Outputs`` with its real codecs),
but their topics keep what is sent instead of producing it, tables are dicts and the search
engine is a dict of documents. No broker, no engine, no Faust app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pipeline.codec import ACK, HST_MESSAGE, AvroCodec
from pipeline.core.coerce import to_json
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, generate
from pipeline.search.bulk import BulkAction, ItemFailure
from pipeline.settings import Settings
from pipeline.stream.outputs import Outputs
from pipeline.topology import topology

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@dataclass
class Topic:
    """A topic that keeps what is sent to it."""

    name: str
    sent: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    partitions: list[int | None] = field(default_factory=list)  # as asked, None: by key

    async def send(self, *, key: bytes, value: bytes | None, partition: int | None = None) -> None:
        """Keep the record."""
        self.sent.append((key, value))
        self.partitions.append(partition)


class App:
    """What ``Outputs`` asks of a Faust app: topics by name."""

    def topic(self, name: str, **_: Any) -> Topic:
        """A recording topic."""
        return Topic(name)


class Sink:
    """A search engine as dicts of documents by alias; every bulk request is kept."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[list[BulkAction]] = []

    async def write(self, actions: list[BulkAction]) -> list[ItemFailure]:
        """Apply the actions in order."""
        self.requests.append(actions)
        for a in actions:
            docs = self.docs.setdefault(a.index, {})
            if a.op == "index" and a.doc is not None:
                docs[a.doc_id] = dict(a.doc)
            elif a.op == "upsert" and a.doc is not None:
                docs[a.doc_id] = {**docs.get(a.doc_id, {}), **a.doc}  # top-level merge
            elif a.op == "update" and a.doc is not None and a.doc_id in docs:
                docs[a.doc_id].update(a.doc)
            elif a.op == "delete":
                docs.pop(a.doc_id, None)
        return []

    async def get(self, alias: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The documents ``ids`` that exist."""
        docs = self.docs.get(alias, {})
        return {i: dict(docs[i]) for i in ids if i in docs}


class Stream:
    """What batch stages ask of a Faust stream: which event is current."""

    def __init__(self, current: Any = None) -> None:
        self.current_event = current

    def _set_current_event(self, event: Any) -> None:
        self.current_event = event


def event(
    topic: str, value: bytes | None, *, key: bytes = b"k", offset: int = 0, partition: int = 0
) -> Any:
    """A Faust-like event holding one record."""
    message = SimpleNamespace(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
        headers=[],
        timestamp=NOW.timestamp(),
    )
    return SimpleNamespace(message=message)


class Harness:
    """Settings, outputs and helpers shared by the stage tests."""

    def __init__(self, **settings: Any) -> None:
        self.settings = Settings(**{"ncbs": "FRA,ITA", "partitions": 2, **settings})
        self.codec = AvroCodec(HST_MESSAGE)
        self.validator = MessageValidator(self.codec.reader.raw)
        self.outputs = Outputs(
            App(),
            self.settings,
            topology(self.settings),
            message_codec=self.codec,
            coercer=self.validator.coercer,
        )
        self.ack_codec = AvroCodec(ACK)

    def sent(self, topic: str) -> list[tuple[bytes, bytes | None]]:
        """What was sent to ``topic``."""
        return list(self.outputs.topic(topic).sent)

    def acks(self) -> list[dict[str, Any]]:
        """Every acknowledgement sent, decoded, on every acknowledgements topic."""
        names = [t for t in self.outputs.topics if t.startswith(self.settings.topic_acks)]
        return [self.ack_codec.decode(v) for n in names for _, v in self.sent(n) if v]

    def messages(self, count: int = 20, seed: int = 5) -> list[dict[str, Any]]:
        """Valid generated messages as Avro datums (CREATE only)."""
        data = generate(
            GeneratorConfig(
                count=count,
                seed=seed,
                until=NOW,
                resend_share=0,
                content_duplicate_share=0,
                update_share=0,
                withdraw_share=0,
            )
        )
        return [self.validator.validate(m, now=NOW) for m in data.messages]

    def records(self, count: int = 20, seed: int = 5) -> list[dict[str, Any]]:
        """The same messages in JSON form (what flows between stages)."""
        return [to_json(m) for m in self.messages(count, seed)]
