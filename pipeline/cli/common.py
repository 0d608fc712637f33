"""Shared pieces of the command line: consoles, settings, and safe display of stored data."""

from __future__ import annotations

import contextlib
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from pipeline.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    """The settings from the environment."""
    return get_settings()


# Bidirectional overrides and isolates can make a displayed value read differently.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(value: str) -> str:
    """Control characters (a terminal escape, a NUL, a bidi override) shown as escapes."""
    return "".join(
        f"\\x{ord(ch):02x}"
        if unicodedata.category(ch) == "Cc"
        else f"\\u{ord(ch):04x}"
        if ch in _BIDI_CONTROLS
        else ch
        for ch in value
    )


def shown(value: Any) -> Text:
    """Stored data (names, reasons, ids) as a cell: never read as markup, controls visible.

    Whatever an NCB sent (``Zorglub[/]``, a terminal escape sequence) is displayed as
    written and cannot break or restyle the output.
    """
    return Text(_visible(str(value)))


def esc(value: Any) -> str:
    """Stored data inside a markup string (``console.print(f"...{esc(x)}...")``)."""
    return escape(_visible(str(value)))


# Columns of full message ids: never cut (an id is copied into `hst network`, `hst search`).
_ID_COLUMNS = frozenset({"message_id", "message"})


class DataTable(Table):
    """A table whose string cells are data, not markup (see ``shown``); ids are never cut."""

    def __init__(self, *headers: Any, **kwargs: Any) -> None:
        super().__init__(*headers, **kwargs)
        for column in self.columns:
            if str(column.header) in _ID_COLUMNS:
                column.no_wrap = True
                column.min_width = 36

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:  # noqa: D102
        super().add_row(*(shown(r) if isinstance(r, str) else r for r in renderables), **kwargs)


def server_failure(exc: BaseException) -> str | None:
    """One readable line for a server's refusal or silence escaping a command, else None.

    The search engine's (credentials refused, index missing, no answer) and the broker's:
    what an operator can act on, instead of a traceback.
    """
    from confluent_kafka import KafkaException
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    if isinstance(exc, ApiError):
        status = exc.meta.status
        if status in (401, 403):
            return (
                f"the search engine refused our credentials (HTTP {status}): check "
                "HST_SEARCH_USERNAME / HST_SEARCH_PASSWORD or HST_SEARCH_API_KEY"
            )
        return f"the search engine refused the request (HTTP {status}: {exc.message})"
    if isinstance(exc, TransportError):
        return f"the search engine did not answer ({type(exc).__name__}: {exc.message})"
    if isinstance(exc, KafkaException):
        return f"the broker: {exc.args[0] if exc.args else exc}"
    return None


PhaseProgress = Callable[[str, int, int | None], None]  # phase, done, total (None: unknown)


@contextlib.contextmanager
def phase_progress(unit: Callable[[str], str]) -> Iterator[PhaseProgress]:
    """Rich bars for a long job in phases, fed by ``progress(phase, done, total)``.

    A bar per phase, added when the phase first reports, with its count, its rate
    (``unit(phase)`` per second) and the time it has run.
    """
    columns = (
        TextColumn("{task.description:10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}
        started: dict[str, float] = {}

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total, rate="")
                started[phase] = time.monotonic()
            elapsed = max(time.monotonic() - started[phase], 1e-6)
            rate = f"{done / elapsed:,.0f} {unit(phase)}/s"
            bar.update(tasks[phase], completed=done, total=total, rate=rate)

        yield progress
