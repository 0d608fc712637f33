"""Codec: framing bytes, fingerprints, round trips, typed errors, schema evolution."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json

import avro.io
import avro.schema
import pytest
from confluent_kafka.schema_registry.error import SchemaRegistryError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.codec import (
    HST_MESSAGE,
    AvroCodec,
    CodecError,
    RegistryUnavailableError,
    SchemaMismatchError,
    SchemaStore,
    TruncatedMessageError,
    UnknownFramingError,
    UnknownSchemaError,
    canonical_form,
    crc64_fingerprint,
)
from pipeline.codec.schemas import default_store
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, generate
from pipeline.stream.batches import is_transient
from tests.strategies import from_schema

# Test vectors from apache/avro share/test/data/schema-tests.txt (Apache License 2.0):
# (schema, canonical form, fingerprint as Java's signed long).
SPEC_VECTORS = [
    ('"null"', '"null"', 7195948357588979594),
    ('{"type":"boolean"}', '"boolean"', -6970731678124411036),
    ('"int"', '"int"', 8247732601305521295),
    ('"long"', '"long"', -3434872931120570953),
    ('"float"', '"float"', 5583340709985441680),
    ('"double"', '"double"', -8181574048448539266),
    ('"bytes"', '"bytes"', 5746618253357095269),
    ('"string"', '"string"', -8142146995180207161),
    ("[  ]", "[]", -1241056759729112623),
    ('[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090),
    ('{"fields":[], "type":"record", "name":"foo"}', '{"name":"foo","type":"record","fields":[]}',
     -4824392279771201922),
    ('{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
     '{"name":"x.y.foo","type":"record","fields":[]}', 5916914534497305771),
    ('{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
     '{"name":"a.b.foo","type":"record","fields":[]}', -4616218487480524110),
    ('{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
     '{"name":"foo","type":"record","fields":[]}', -4824392279771201922),
    # Vector 026 has "default":"true" (a string for a boolean), which fastavro refuses to
    # parse; defaults are not in the canonical form, so a valid `true` keeps the vector.
    ('{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},'
     '{"order":"descending","name":"f2","doc":"Hello","type":"int"}], "type":"record", "name":"foo"}',
     '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
     -4860222112080293046),
    ('{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
     '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}', -4448647247586288245),
    ('{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
     '{"name":"x.y.z.foo","type":"fixed","size":32}', -3064184465700546786),
    ('{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}', -589620603366471059),
    ('{ "values":"string", "type":"map"}', '{"type":"map","values":"string"}', -8732877298790414990),
    ('{"name":"PigValue","type":"record","fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
     '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
     -1759257747318642341),
]  # fmt: skip


def _unsigned(signed: int) -> int:
    return signed & 0xFFFF_FFFF_FFFF_FFFF


def _reference_crc64_avro(data: bytes) -> int:
    """The specification's CRC-64-AVRO, written out independently of fastavro."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


@pytest.mark.parametrize(("schema", "canonical", "fingerprint"), SPEC_VECTORS)
def test_canonical_form_and_fingerprint_match_the_specification(
    schema: str, canonical: str, fingerprint: int
) -> None:
    assert canonical_form(schema) == canonical
    assert crc64_fingerprint(schema) == _unsigned(fingerprint)
    assert _reference_crc64_avro(canonical.encode()) == _unsigned(fingerprint)


def test_null_fingerprint_little_endian_bytes_as_in_single_object_encoding() -> None:
    assert crc64_fingerprint('"null"').to_bytes(8, "little") == bytes.fromhex("8a8f25cce724dd63")


def test_logical_types_are_left_out_of_the_canonical_form() -> None:
    # The avro package 1.12.2 keeps {"type":"long"} here and gets b1eef77cc1e47541.
    schema = {"type": "record", "name": "T", "namespace": "x", "fields": [
        {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}}]}  # fmt: skip
    assert canonical_form(schema) == (
        '{"name":"x.T","type":"record","fields":[{"name":"t","type":"long"},{"name":"u","type":"string"}]}'
    )
    # The notes' figure is the header's byte order (little-endian), as fastavro prints it.
    assert crc64_fingerprint(schema).to_bytes(8, "little").hex() == "49d7ff00e2a5684b"
    assert crc64_fingerprint(schema) == _reference_crc64_avro(canonical_form(schema).encode())


@pytest.fixture(scope="module")
def records() -> list[dict]:
    validator = MessageValidator(default_store().get(HST_MESSAGE).raw)
    now = dt.datetime.now(tz=dt.UTC)
    return [
        validator.validate(m, now=now)
        for m in generate(GeneratorConfig(count=300, seed=5)).messages
    ]


def test_single_object_header_is_marker_then_writer_fingerprint(records: list[dict]) -> None:
    codec = AvroCodec(HST_MESSAGE)
    data = codec.encode(records[0])
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == codec.writer.fingerprint.to_bytes(8, "little")
    assert int.from_bytes(data[2:10], "little") == crc64_fingerprint(codec.writer.raw)


def test_body_bytes_identical_to_the_reference_implementation(records: list[dict]) -> None:
    codec = AvroCodec(HST_MESSAGE)
    reference = avro.io.DatumWriter(avro.schema.parse(codec.writer.json()))
    for record in records[:100]:
        buf = io.BytesIO()
        reference.write(record, avro.io.BinaryEncoder(buf))
        assert codec.encode_body(record) == buf.getvalue()


def test_generated_records_round_trip(records: list[dict]) -> None:
    codec = AvroCodec(HST_MESSAGE)
    for record in records:
        assert codec.decode(codec.encode(record)) == record


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_schema_valid_datum_round_trips(data: st.DataObject) -> None:
    codec = AvroCodec(HST_MESSAGE)
    datum = data.draw(from_schema(codec.writer.raw))
    assert codec.decode(codec.encode(datum)) == datum


@settings(max_examples=100, deadline=None)
@given(datum=from_schema(default_store().get("dead_letter").raw))
def test_dead_letter_round_trips(datum: dict) -> None:
    codec = AvroCodec("dead_letter")
    assert codec.decode(codec.encode(datum)) == datum


def test_every_truncation_raises_a_typed_error(records: list[dict]) -> None:
    codec = AvroCodec(HST_MESSAGE)
    data = codec.encode(records[1])
    for cut in range(len(data)):
        with pytest.raises(CodecError) as info:
            codec.decode(data[:cut])
        if cut < 10:
            assert isinstance(info.value, TruncatedMessageError), cut


def test_corruption_is_named(records: list[dict]) -> None:
    codec = AvroCodec(HST_MESSAGE)
    data = codec.encode(records[2])
    with pytest.raises(UnknownFramingError, match="neither C3 01 nor 00"):
        codec.decode(b"\x7b" + data[1:])
    wrong_fp = data[:2] + bytes(8) + data[10:]
    with pytest.raises(
        UnknownSchemaError, match="unknown schema fingerprint 0000000000000000: not a version"
    ):
        codec.decode(wrong_fp)
    with pytest.raises(SchemaMismatchError, match="trailing"):
        codec.decode(data + b"\x00\x00")
    with pytest.raises(TruncatedMessageError):
        codec.decode(data[:-3])


@settings(max_examples=200, deadline=None)
@given(noise=st.binary(min_size=0, max_size=64))
def test_garbage_bodies_raise_only_codec_errors(noise: bytes) -> None:
    codec = AvroCodec(HST_MESSAGE)
    header = b"\xc3\x01" + codec.writer.fingerprint.to_bytes(8, "little")
    with contextlib.suppress(
        CodecError
    ):  # decoding garbage may succeed; it must not crash otherwise
        codec.decode(header + noise)


def test_v1_bytes_are_read_as_v2(records: list[dict]) -> None:
    v1 = AvroCodec(HST_MESSAGE, writer_version=1, reader_version=1)
    v2_reader = AvroCodec(HST_MESSAGE, writer_version=1, reader_version=2)
    record = {k: v for k, v in records[3].items() if k != "reporting_unit"}
    data = v1.encode(record)
    assert data[2:10] == v1.writer.fingerprint_le
    decoded = v2_reader.decode(data)
    assert decoded["reporting_unit"] is None
    assert {k: v for k, v in decoded.items() if k != "reporting_unit"} == record


def test_v2_bytes_are_read_by_a_v1_reader(records: list[dict]) -> None:
    v2 = AvroCodec(HST_MESSAGE, writer_version=2)
    v1_reader = AvroCodec(HST_MESSAGE, reader_version=1)
    record = {**records[4], "reporting_unit": "Anti-smuggling unit, Catania"}
    decoded = v1_reader.decode(v2.encode(record))
    assert "reporting_unit" not in decoded
    assert decoded == {k: v for k, v in record.items() if k != "reporting_unit"}


def test_confluent_framing_through_a_registry(records: list[dict]) -> None:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    registry = SchemaRegistryClient.new_client({"url": "mock://codec-test"})
    codec = AvroCodec(HST_MESSAGE, registry=registry)
    data = codec.encode(records[5])
    assert data[0] == 0
    schema_id = int.from_bytes(data[1:5], "big")
    assert json.loads(registry.get_schema(schema_id).schema_str)["name"] == "HstMessage"
    assert codec.decode(data) == records[5]
    # A single-object encoded record is still understood by the same decoder.
    assert codec.decode(AvroCodec(HST_MESSAGE).encode(records[5])) == records[5]
    with pytest.raises(UnknownSchemaError, match="schema id 999"):
        codec.decode(b"\x00" + (999).to_bytes(4, "big") + data[5:])


def test_confluent_frame_without_registry_is_an_unknown_schema(records: list[dict]) -> None:
    with pytest.raises(UnknownSchemaError, match="no schema registry"):
        AvroCodec(HST_MESSAGE).decode(b"\x00\x00\x00\x00\x01" + b"\x02")


def test_store_finds_writer_by_fingerprint(tmp_path) -> None:
    (tmp_path / "thing").mkdir()
    (tmp_path / "thing" / "v1.avsc").write_text(
        json.dumps({"type": "record", "name": "Thing", "fields": [{"name": "a", "type": "int"}]})
    )
    store = SchemaStore(tmp_path)
    sv = store.get("thing")
    assert store.by_fingerprint(sv.fingerprint) is sv
    assert AvroCodec("thing", store=store).decode(
        AvroCodec("thing", store=store).encode({"a": 7})
    ) == {"a": 7}


class _Registry:
    """A schema registry that fails lookups the way a real client does."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def get_schema(self, _schema_id: int) -> object:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (SchemaRegistryError(404, 40403, "Schema not found"), UnknownSchemaError),
        (SchemaRegistryError(503, 50003, "Forward error"), RegistryUnavailableError),
        (SchemaRegistryError(401, 401, "Unauthorized"), RegistryUnavailableError),
        (ConnectionRefusedError(111, "Connection refused"), RegistryUnavailableError),
    ],
)
def test_only_a_registry_that_answered_not_found_makes_an_unknown_schema(
    exc: Exception, expected: type[Exception]
) -> None:
    codec = AvroCodec(HST_MESSAGE, registry=_Registry(exc))  # type: ignore[arg-type]
    frame = b"\x00" + (7).to_bytes(4, "big") + b"\x02"
    assert codec.uncached_registry_id(frame) == 7
    with pytest.raises(expected):
        codec.decode(frame)
    # An outage is transient for the stream's guards (held, never a dead letter).
    assert is_transient(RegistryUnavailableError("x")) and not is_transient(UnknownSchemaError("x"))


def test_an_unknown_schema_reason_names_no_server_path() -> None:
    with pytest.raises(UnknownSchemaError) as info:
        AvroCodec(HST_MESSAGE).decode(b"\xc3\x01" + b"\x00" * 8 + b"\x02")
    assert "/" not in str(info.value)  # it reaches the NCB in its acknowledgement
