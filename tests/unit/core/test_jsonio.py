"""Input formats of ``hst publish``: positions are reported the way a user can find them."""

from __future__ import annotations

import io

from pipeline.core.jsonio import iter_records


def test_ndjson_lines_keep_their_numbers_and_bad_lines_are_named() -> None:
    text = '{"a": 1}\n\n{"a": 2\n{"a": 3}\n'
    records = list(iter_records(io.StringIO(text)))
    assert [(r.position, r.obj) for r in records] == [
        ("line 1", {"a": 1}),
        ("line 3", None),
        ("line 4", {"a": 3}),
    ]
    assert records[1].error is not None and records[1].error.startswith("malformed JSON")


def test_json_array_and_pretty_object() -> None:
    arr = list(iter_records(io.StringIO('[\n {"a": 1},\n {"a": 2}\n]')))
    assert [(r.position, r.obj) for r in arr] == [("record 1", {"a": 1}), ("record 2", {"a": 2})]
    obj = list(iter_records(io.StringIO('{\n  "a": 1\n}\n')))
    assert [(r.position, r.obj) for r in obj] == [("line 1", {"a": 1})]


def test_empty_input() -> None:
    assert list(iter_records(io.StringIO("\n \n"))) == []
