"""Typed codec errors: each names what is wrong with the bytes, for dead letters and gateways."""

from __future__ import annotations

from pipeline.errors import PermanentError, TransientError


class CodecError(PermanentError):
    """Base class; ``error_type`` is the machine-readable reason used in dead letters."""

    error_type = "codec_error"


class UnknownFramingError(CodecError):
    """The bytes start with neither the single-object marker nor the Confluent magic byte."""

    error_type = "unknown_framing"


class UnknownSchemaError(CodecError):
    """The framing names a schema (fingerprint or registry id) that is not known."""

    error_type = "unknown_schema"


class TruncatedMessageError(CodecError):
    """The bytes end before the header or the body is complete."""

    error_type = "truncated"


class SchemaMismatchError(CodecError):
    """The body does not decode under its writer schema (corrupt, or trailing bytes)."""

    error_type = "schema_mismatch"


class EncodeError(CodecError):
    """A datum does not fit the writer schema."""

    error_type = "encode_error"


class RegistryUnavailableError(TransientError, ConnectionError):
    """The schema registry did not answer (or answered 5xx, 401/403): an outage.

    Not a ``CodecError``: nothing is wrong with the record, which is held and decoded again
    once the registry answers (a ``ConnectionError`` is transient for the stream's guards).
    """
