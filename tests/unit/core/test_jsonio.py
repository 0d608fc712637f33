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


def test_a_malformed_first_line_is_one_bad_record_not_a_whole_document() -> None:
    text = '{"a": 1,\n{"a": 2}\n{"a": 3}\n'
    records = list(iter_records(io.StringIO(text)))
    assert [(r.position, r.obj) for r in records] == [
        ("line 1", None),
        ("line 2", {"a": 2}),
        ("line 3", {"a": 3}),
    ]
    assert records[0].error is not None and records[0].position == "line 1"


def test_invalid_utf8_rejects_its_line_and_the_others_are_read() -> None:
    data = b'{"a": 1}\n{"a": "caf\xe9"}\n\xff\xfe binary\n{"a": 4}\n'
    records = list(iter_records(io.BytesIO(data)))
    assert [(r.position, r.obj) for r in records] == [
        ("line 1", {"a": 1}),
        ("line 2", None),
        ("line 3", None),
        ("line 4", {"a": 4}),
    ]
    assert all(r.error and "not UTF-8" in r.error for r in records[1:3])


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep = "[" * 10_000 + "]" * 10_000
    records = list(iter_records(io.StringIO('{"a": 1}\n{"x": ' + deep + "}\n")))
    assert records[0].obj == {"a": 1}
    assert records[1].error is not None and "nested deeper" in records[1].error
    whole = list(iter_records(io.StringIO(deep)))
    assert len(whole) == 1 and whole[0].error is not None and "nested deeper" in whole[0].error


def test_a_repeated_key_is_refused() -> None:
    text = '{"message_id": "a", "source_ncb": "FRA", "source_ncb": "ITA"}\n{"a": 2}\n'
    records = list(iter_records(io.StringIO(text)))
    assert records[0].error is not None and "duplicate key 'source_ncb'" in records[0].error
    assert records[1].obj == {"a": 2}


def test_an_array_on_one_line_is_its_records() -> None:
    records = list(iter_records(io.StringIO('[{"a": 1}, {"a": 2}]\n')))
    assert [(r.position, r.obj) for r in records] == [
        ("record 1", {"a": 1}),
        ("record 2", {"a": 2}),
    ]
