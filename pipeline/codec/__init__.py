"""Avro schemas and wire framings for HST records."""

from pipeline.codec.codec import AvroCodec, framing_of
from pipeline.codec.errors import (
    CodecError,
    EncodeError,
    RegistryUnavailableError,
    SchemaMismatchError,
    TruncatedMessageError,
    UnknownFramingError,
    UnknownSchemaError,
)
from pipeline.codec.schemas import SchemaStore, SchemaVersion, canonical_form, crc64_fingerprint

HST_MESSAGE = "hst_message"
DEAD_LETTER = "dead_letter"
DIFFUSION_NOTICE = "diffusion_notice"
ACK = "ack"
SYNTHESIS = "synthesis"

__all__ = [
    "ACK",
    "DEAD_LETTER",
    "DIFFUSION_NOTICE",
    "HST_MESSAGE",
    "SYNTHESIS",
    "AvroCodec",
    "CodecError",
    "EncodeError",
    "RegistryUnavailableError",
    "SchemaMismatchError",
    "SchemaStore",
    "SchemaVersion",
    "TruncatedMessageError",
    "UnknownFramingError",
    "UnknownSchemaError",
    "canonical_form",
    "crc64_fingerprint",
    "framing_of",
]
