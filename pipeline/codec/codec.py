"""Avro codec for HST records, in two wire framings.

- **Single-object encoding** (default; Avro specification): ``C3 01``, the writer schema's
  8-byte little-endian CRC-64-AVRO fingerprint, then the Avro binary body. Writer schemas are
  resolved from ``schemas/`` by fingerprint, so no registry service is needed.
- **Confluent wire format** (when a Schema Registry URL is configured): magic byte ``00``, a
  4-byte big-endian schema id, then the body.

The decoder recognises both. Bodies are read with Avro schema resolution into the reader
schema (by default the subject's latest version), so older writers stay readable.
fastavro does the hot-path encoding and decoding.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import fastavro

from pipeline.codec.errors import (
    EncodeError,
    RegistryUnavailableError,
    SchemaMismatchError,
    TruncatedMessageError,
    UnknownFramingError,
    UnknownSchemaError,
)
from pipeline.codec.schemas import SchemaStore, SchemaVersion, default_store

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

SINGLE_OBJECT_MARKER = b"\xc3\x01"
SINGLE_OBJECT_HEADER_LEN = 10
CONFLUENT_MAGIC = b"\x00"
CONFLUENT_HEADER_LEN = 5

Datum = dict[str, Any]


def framing_of(data: bytes) -> str:
    """Name the framing of ``data``: ``single-object`` or ``confluent``."""
    if data[:2] == SINGLE_OBJECT_MARKER:
        return "single-object"
    if data[:1] == CONFLUENT_MAGIC:
        return "confluent"
    if len(data) < 2 and data in (b"", b"\xc3"):
        msg = f"message of {len(data)} byte(s) is shorter than any framing header"
        raise TruncatedMessageError(msg)
    msg = f"unknown framing: first bytes {data[:2].hex(' ')} are neither C3 01 nor 00"
    raise UnknownFramingError(msg)


def _read_body(body: bytes, writer: Any, reader: Any | None) -> Datum:
    buf = io.BytesIO(body)
    try:
        datum = fastavro.schemaless_reader(buf, writer, reader)
    except EOFError as exc:
        msg = f"body of {len(body)} bytes ends before the record is complete"
        raise TruncatedMessageError(msg) from exc
    except Exception as exc:  # fastavro raises many types on corrupt input
        msg = f"body does not match its writer schema: {type(exc).__name__}: {exc}"
        raise SchemaMismatchError(msg) from exc
    if buf.tell() != len(body):
        msg = f"{len(body) - buf.tell()} trailing byte(s) after the record"
        raise SchemaMismatchError(msg)
    if not isinstance(datum, dict):
        msg = "body is not a record"
        raise SchemaMismatchError(msg)
    return datum


class AvroCodec:
    """Encode and decode one subject's records.

    ``encode``/``decode`` work on plain dicts (timestamps as aware ``datetime``, dates as
    ``date``, UUIDs as ``str``). ``serializer``/``deserializer`` give confluent-kafka style
    callables ``(obj, ctx) -> bytes`` and ``(bytes, ctx) -> obj``.
    """

    def __init__(
        self,
        subject: str,
        *,
        store: SchemaStore | None = None,
        writer_version: int | None = None,
        reader_version: int | None = None,
        registry: SchemaRegistryClient | None = None,
        registry_subject: str | None = None,
    ) -> None:
        self.store = store or default_store()
        self.subject = subject
        self.writer: SchemaVersion = self.store.get(subject, writer_version)
        self.reader: SchemaVersion = self.store.get(subject, reader_version)
        self.registry = registry
        self.registry_subject = registry_subject or f"{subject}-value"
        self._registry_id: int | None = None
        self._by_registry_id: dict[int, Any] = {}

    # -- encoding -------------------------------------------------------------------------
    def encode_body(self, datum: Datum) -> bytes:
        """Avro binary body of ``datum`` under the writer schema (no framing)."""
        buf = io.BytesIO()
        try:
            fastavro.schemaless_writer(buf, self.writer.parsed, datum)
        except Exception as exc:
            msg = f"record does not fit {self.writer.fullname} v{self.writer.version}: {exc}"
            raise EncodeError(msg) from exc
        return buf.getvalue()

    def encode(self, datum: Datum) -> bytes:
        """Frame ``datum``: Confluent when a registry is configured, else single-object."""
        body = self.encode_body(datum)
        if self.registry is not None:
            return CONFLUENT_MAGIC + self._writer_registry_id().to_bytes(4, "big") + body
        return SINGLE_OBJECT_MARKER + self.writer.fingerprint_le + body

    def _writer_registry_id(self) -> int:
        if self._registry_id is None:
            from confluent_kafka.schema_registry import Schema

            if self.registry is None:
                msg = "no schema registry is configured"
                raise RegistryUnavailableError(msg)
            try:
                self._registry_id = int(
                    self.registry.register_schema(
                        self.registry_subject, Schema(self.writer.json(), "AVRO")
                    )
                )
            except Exception as exc:  # the registry's refusal or silence: retry later
                msg = f"schema registry: registering {self.registry_subject} failed: {exc}"
                raise RegistryUnavailableError(msg) from exc
        return self._registry_id

    # -- decoding -------------------------------------------------------------------------
    def decode(self, data: bytes) -> Datum:
        """Decode either framing into the reader schema; raises a typed ``CodecError``."""
        framing = framing_of(data)
        if framing == "single-object":
            if len(data) < SINGLE_OBJECT_HEADER_LEN:
                msg = f"single-object header needs 10 bytes, got {len(data)}"
                raise TruncatedMessageError(msg)
            fp = int.from_bytes(data[2:SINGLE_OBJECT_HEADER_LEN], "little")
            if fp == self.reader.fingerprint:  # same schema: no resolution needed
                return _read_body(data[SINGLE_OBJECT_HEADER_LEN:], self.reader.parsed, None)
            writer = self.store.by_fingerprint(fp).parsed
            body = data[SINGLE_OBJECT_HEADER_LEN:]
        else:
            if len(data) < CONFLUENT_HEADER_LEN:
                msg = f"Confluent header needs 5 bytes, got {len(data)}"
                raise TruncatedMessageError(msg)
            writer = self._writer_for_registry_id(int.from_bytes(data[1:5], "big"))
            body = data[CONFLUENT_HEADER_LEN:]
        return _read_body(body, writer, self.reader.parsed)

    def uncached_registry_id(self, data: bytes) -> int | None:
        """The registry schema id ``data`` names when decoding it needs a registry lookup.

        The worker fetches it off the event loop first (``fetch_registry_schema`` in a
        thread), so a slow registry never blocks the other stages.
        """
        if self.registry is None or len(data) < CONFLUENT_HEADER_LEN or data[:1] != CONFLUENT_MAGIC:
            return None
        schema_id = int.from_bytes(data[1:5], "big")
        return None if schema_id in self._by_registry_id else schema_id

    def fetch_registry_schema(self, schema_id: int) -> None:
        """Look a registry schema id up and cache it (blocking: call it from a thread)."""
        self._writer_for_registry_id(schema_id)

    def _writer_for_registry_id(self, schema_id: int) -> Any:
        if schema_id in self._by_registry_id:
            return self._by_registry_id[schema_id]
        if self.registry is None:
            msg = f"Confluent-framed record (schema id {schema_id}) but no schema registry is set"
            raise UnknownSchemaError(msg)
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            schema_str = self.registry.get_schema(schema_id).schema_str or ""
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:  # the registry answered: no such schema
                msg = f"schema id {schema_id} not found in the registry: {exc}"
                raise UnknownSchemaError(msg) from exc
            msg = f"schema registry error looking up id {schema_id}: {exc}"
            raise RegistryUnavailableError(msg) from exc
        except Exception as exc:  # no answer at all (connection refused, timeout, TLS)
            msg = f"schema registry unreachable looking up id {schema_id}: {exc}"
            raise RegistryUnavailableError(msg) from exc
        # Same fingerprint as a local file: reuse the locally parsed schema.
        local = SchemaVersion(self.subject, -1, json.loads(schema_str))
        self._by_registry_id[schema_id] = local.parsed
        return local.parsed

    # -- confluent-kafka style callables ---------------------------------------------------
    def serializer(self) -> Any:
        """A ``(obj, ctx) -> bytes`` callable."""

        def serialize(obj: Datum, ctx: object = None) -> bytes:
            return self.encode(obj)

        return serialize

    def deserializer(self) -> Any:
        """A ``(bytes, ctx) -> obj`` callable."""

        def deserialize(data: bytes, ctx: object = None) -> Datum:
            return self.decode(data)

        return deserialize
