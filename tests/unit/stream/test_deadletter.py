"""A dead letter always fits its topic, and still identifies what it stands for."""

from __future__ import annotations

import hashlib

from pipeline.core.coerce import FieldError
from pipeline.stream.deadletter import MAX_ORIGINAL_BYTES, DeadLetter, bounded


def letter(value: bytes, errors: int = 1) -> DeadLetter:
    return DeadLetter(
        "validate",
        "invalid_field",
        "too long",
        "hst.inbound",
        0,
        7,
        b"k",
        value,
        {"hst-source-ncb": b"FRA"},
        [FieldError(f"p{i}", "bad") for i in range(errors)],
    )


def test_a_small_letter_is_sent_as_it_is() -> None:
    small = letter(b"x" * 100)
    assert bounded(small) == small


def test_an_oversize_original_keeps_a_prefix_its_size_and_digest() -> None:
    original = bytes(range(256)) * 4000  # ~1 MB
    out = bounded(letter(original, errors=5000))
    assert out.original_value == original[:MAX_ORIGINAL_BYTES]
    assert out.original_headers["hst-original-bytes"] == str(len(original)).encode()
    assert (
        out.original_headers["hst-original-sha256"] == hashlib.sha256(original).hexdigest().encode()
    )
    assert out.original_headers["hst-source-ncb"] == b"FRA"  # the original headers stay
    assert len(out.field_errors) == 200
