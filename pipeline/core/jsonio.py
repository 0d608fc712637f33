"""Reading HST messages from NDJSON, a JSON array or a single JSON object, with positions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass(frozen=True)
class InputRecord:
    """One record read from input: where it was, and the object or why it did not parse."""

    position: str  # "line 12" (NDJSON) or "record 3" (JSON array)
    line: int
    obj: Any = None
    error: str | None = None


def iter_records(stream: TextIO) -> Iterator[InputRecord]:
    """NDJSON is streamed line by line; a JSON array or a pretty-printed object is read whole."""
    first_lines: list[str] = []
    for raw in stream:
        first_lines.append(raw)
        if raw.strip():
            break
    head = first_lines[-1].strip() if first_lines else ""
    if not head:
        return
    whole_document = head.startswith("[") or (head.startswith("{") and not _parses(head))
    if whole_document:
        text = "".join(first_lines) + stream.read()
        yield from _whole(text)
        return
    yield from _ndjson(_chain(first_lines, stream), start=1)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def _chain(first: list[str], rest: Iterable[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _ndjson(lines: Iterable[str], start: int) -> Iterator[InputRecord]:
    for number, raw in enumerate(lines, start=start):
        if not raw.strip():
            continue
        try:
            yield InputRecord(f"line {number}", number, json.loads(raw))
        except ValueError as exc:
            yield InputRecord(f"line {number}", number, error=f"malformed JSON: {exc}")


def _whole(text: str) -> Iterator[InputRecord]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        yield InputRecord(f"line {exc.lineno}", exc.lineno, error=f"malformed JSON: {exc}")
        return
    if isinstance(doc, list):
        for i, obj in enumerate(doc, start=1):
            yield InputRecord(f"record {i}", 1, obj)
    else:
        yield InputRecord("line 1", 1, doc)
