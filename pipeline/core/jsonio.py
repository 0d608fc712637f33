"""Reading HST messages from NDJSON, a JSON array or a single JSON object, with positions.

Whatever the input holds, reading never raises: a line that is not UTF-8, not JSON, nested
deeper than any message can be, or that repeats a key, becomes a record with an ``error``
naming its position, and the records around it are read as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.errors import PermanentError

# An HST message nests about six levels; anything far deeper is an attack or a bug.
MAX_DEPTH = 32


@dataclass(frozen=True)
class InputRecord:
    """One record read from input: where it was, and the object or why it did not parse."""

    position: str  # "line 12" (NDJSON) or "record 3" (JSON array)
    line: int
    obj: Any = None
    error: str | None = None


class _InputError(PermanentError, ValueError):
    """A document that parses but may not be used as given."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            msg = f"duplicate key {key!r} (which value is meant is ambiguous)"
            raise _InputError(msg)
        out[key] = value
    return out


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed value, stopping at ``limit`` + 1."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            deepest = max(deepest, depth)
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
            deepest = max(deepest, depth)
    return deepest


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON: no duplicate keys, at most ``max_depth`` levels; raises ``ValueError``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"not UTF-8 text (byte {exc.start}: {text[exc.start : exc.start + 1]!r})"
            raise _InputError(msg) from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        msg = f"nested deeper than {max_depth} levels"
        raise _InputError(msg) from None
    if _depth(value, max_depth) > max_depth:
        msg = f"nested deeper than {max_depth} levels"
        raise _InputError(msg)
    return value


def _error(exc: ValueError) -> str:
    if isinstance(exc, _InputError):
        return str(exc)
    return f"malformed JSON: {exc}"


def _text(raw: str | bytes) -> str:
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw


def iter_records(stream: Iterable[str] | Iterable[bytes]) -> Iterator[InputRecord]:
    """Records of ``stream`` (lines of text or bytes: a binary file reads invalid UTF-8 safely).

    NDJSON is streamed line by line. A JSON array, or one object spread over several lines, is
    read whole. The first lines decide: an array starts with ``[``; a first line that parses,
    or a malformed first line followed by a line that parses on its own, is NDJSON.
    """
    lines: Iterator[str | bytes] = iter(stream)
    head: list[str | bytes] = []
    content: list[str] = []
    for raw in lines:
        head.append(raw)
        if _text(raw).strip():
            content.append(_text(raw).strip())
            if len(content) == 2 or _parses(content[0]):
                break
    if not content:
        return
    first = content[0]
    if first.startswith("["):
        ndjson = False  # an array, on one line or many
    elif _parses(first):
        ndjson = True
    else:  # a malformed first line is one bad record if the next line stands on its own
        ndjson = not first.startswith("{") or (len(content) == 2 and _parses(content[1]))
    if not ndjson:
        yield from _whole(b"".join(_bytes(r) for r in head) + b"".join(_bytes(r) for r in lines))
        return
    yield from _ndjson(_chain(head, lines), start=1)


def _bytes(raw: str | bytes) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode("utf-8")


def _parses(text: str) -> bool:
    try:
        loads(text)
        return True
    except _InputError:
        return True  # valid JSON, refused for another reason: still one record per line
    except ValueError:
        return False


def _chain(first: list[str | bytes], rest: Iterator[Any]) -> Iterator[str | bytes]:
    yield from first
    yield from rest


def _ndjson(lines: Iterable[str | bytes], start: int) -> Iterator[InputRecord]:
    for number, raw in enumerate(lines, start=start):
        if not _text(raw).strip():
            continue
        try:
            yield InputRecord(f"line {number}", number, loads(raw))
        except ValueError as exc:
            yield InputRecord(f"line {number}", number, error=_error(exc))


def _whole(data: bytes) -> Iterator[InputRecord]:
    try:
        doc = loads(data)
    except json.JSONDecodeError as exc:
        yield InputRecord(f"line {exc.lineno}", exc.lineno, error=_error(exc))
        return
    except ValueError as exc:
        yield InputRecord("line 1", 1, error=_error(exc))
        return
    if isinstance(doc, list):
        for i, obj in enumerate(doc, start=1):
            yield InputRecord(f"record {i}", 1, obj)
    else:
        yield InputRecord("line 1", 1, doc)
