"""Fuzzing the two doors of the pipeline: whatever comes in, only typed errors come out.

The decoder (bytes from the inbound topic) and the gateway validator (JSON from a file or
an API) are what hostile or broken input reaches first; any other exception there would
crash `hst publish` or turn into an internal error instead of a reasoned refusal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.codec import HST_MESSAGE, AvroCodec, CodecError
from pipeline.core.jsonio import iter_records
from pipeline.core.validation import MessageValidator, ValidationError
from pipeline.generate import GeneratorConfig, generate

CODEC = AvroCodec(HST_MESSAGE)
VALIDATOR = MessageValidator(CODEC.writer.raw)
NOW = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
SAMPLES = [
    VALIDATOR.validate(m, now=NOW)
    for m in generate(GeneratorConfig(count=20, seed=5, until=NOW)).messages
]
ENCODED = [CODEC.encode(r) for r in SAMPLES]
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_decode_or_raise_a_codec_error(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        CODEC.decode(data)


@FUZZ
@given(
    st.sampled_from(ENCODED),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 10_000),
)
def test_corrupted_records_decode_or_raise_a_codec_error(
    data: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    mutated = bytearray(data)
    for position, value in flips:
        mutated[position % len(mutated)] = value
    with contextlib.suppress(CodecError):
        CODEC.decode(bytes(mutated[: max(1, cut % (len(mutated) + 1))]))


@FUZZ
@given(JSON)
def test_any_json_value_validates_or_raises_a_validation_error(value: Any) -> None:
    with contextlib.suppress(ValidationError):
        VALIDATOR.validate(value, now=NOW)


def _mutations(sample: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from(sorted(sample))
    return st.dictionaries(keys, JSON, max_size=3).map(lambda patch: {**sample, **patch})


@FUZZ
@given(st.sampled_from(SAMPLES).flatmap(lambda s: _mutations(_as_json(s))))
def test_valid_messages_with_fields_replaced_validate_or_raise_a_validation_error(
    message: dict[str, Any],
) -> None:
    with contextlib.suppress(ValidationError):
        VALIDATOR.validate(message, now=NOW)


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_read_as_records_never_raise(data: bytes) -> None:
    for record in iter_records(data.splitlines(keepends=True)):
        assert record.error is None or record.obj is None  # a record or a reason, never both


def _as_json(record: dict[str, Any]) -> dict[str, Any]:
    from pipeline.core.coerce import to_json

    return to_json(record)
