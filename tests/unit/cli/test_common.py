"""Stored data is displayed as written: never read as markup, never a terminal sequence."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.errors import MarkupError
from rich.table import Table

from pipeline.cli.common import DataTable, esc

HOSTILE = ["Zorglub[/]", "[bold red]not bold[/]", "a\x1b[31mred\x1b[0m", "nul\x00", "rtl\u202eevil"]


def render(*objects: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    for obj in objects:
        console.print(obj)
    return out.getvalue()


def test_a_plain_table_would_crash_on_stored_markup() -> None:
    table = Table("name")
    table.add_row("Zorglub[/]")
    with pytest.raises(MarkupError):  # why DataTable exists
        render(table)


def test_data_tables_show_every_value_as_written() -> None:
    table = DataTable("name")
    for value in HOSTILE:
        table.add_row(value)
    text = render(table)
    assert "Zorglub[/]" in text and "[bold red]not bold[/]" in text
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert "\\x1b[31mred" in text and "nul\\x00" in text and "rtl\\u202eevil" in text


def test_values_inside_markup_strings_are_escaped() -> None:
    text = render(*(f"[red]rejected[/] {esc(v)}" for v in HOSTILE))
    assert "Zorglub[/]" in text and "[bold red]not bold[/]" in text
    assert "\x1b" not in text


def test_message_ids_are_never_cut_even_in_a_narrow_pipe() -> None:
    table = DataTable("message_id", "route", "persons")
    mid = "0b5e7a52-8c1b-4d47-9a43-3f8f8d0f4a11"
    table.add_row(mid, "SYR>TUR>GRC>DEU", "Mohammed Ali; Joy Eze; " * 5)
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(table)
    assert mid in out.getvalue()


def test_a_long_job_shows_a_bar_per_phase_with_its_count_and_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.cli import common

    out = io.StringIO()
    monkeypatch.setattr(common, "console", Console(file=out, width=120, color_system=None))
    with common.phase_progress(lambda phase: "records" if phase == "read" else "docs") as tick:
        tick("read", 0, None)  # a total not known yet
        tick("read", 5, 5)
        tick("index", 3, 4)
    shown = out.getvalue()
    assert "read" in shown and "5/5" in shown and "records/s" in shown
    assert "index" in shown and "3/4" in shown and "docs/s" in shown
