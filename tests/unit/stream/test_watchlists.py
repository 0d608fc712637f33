"""Watch lists reload when their files change, without a restart, and survive a bad edit."""

from __future__ import annotations

from pathlib import Path

from pipeline.stream.watchlists import WatchLists

DOC = {"identifiers": ["imo:9123456", "email:boss@example.org"]}


def test_reloads_on_change_and_keeps_the_last_good_lists(tmp_path: Path) -> None:
    now = [0.0]
    lists = WatchLists(tmp_path, check_every=5.0, clock=lambda: now[0])
    assert lists.index().screen(DOC) == []
    (tmp_path / "vessels.csv").write_text("kind,value\nvessel_imo,9123456\n")
    assert lists.index().screen(DOC) == []  # checked less than 5 s ago
    now[0] = 6.0
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]
    (tmp_path / "people.json").write_text('[{"kind": "email", "value": "boss@example.org"}]')
    now[0] = 12.0
    assert sorted(h["list"] for h in lists.index().screen(DOC)) == ["people", "vessels"]
    (tmp_path / "people.json").write_text('[{"kind": "email"}]')  # a bad edit
    now[0] = 18.0
    assert len(lists.index().screen(DOC)) == 2  # previous lists still apply
    assert (
        lists.last_error is not None and "people.json, entry 1, field 'value'" in lists.last_error
    )
    (tmp_path / "people.json").unlink()
    now[0] = 24.0
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]
    assert lists.last_error is None


def test_no_directory_means_no_lists(tmp_path: Path) -> None:
    assert WatchLists(tmp_path / "absent").index().screen(DOC) == []


def test_an_unreadable_directory_keeps_the_previous_lists_and_never_raises(
    tmp_path: Path, monkeypatch: object
) -> None:
    now = [0.0]
    lists = WatchLists(tmp_path, check_every=5.0, clock=lambda: now[0])
    (tmp_path / "vessels.csv").write_text("kind,value\nvessel_imo,9123456\n")
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]

    def unreadable(_self: Path) -> object:
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(Path, "iterdir", unreadable)  # type: ignore[attr-defined]
    now[0] = 6.0
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]
    assert lists.last_error is not None and "Permission denied" in lists.last_error


def test_a_directory_that_vanishes_or_turns_into_a_file_keeps_the_lists(tmp_path: Path) -> None:
    now = [0.0]
    directory = tmp_path / "lists"
    directory.mkdir()
    lists = WatchLists(directory, check_every=5.0, clock=lambda: now[0])
    (directory / "vessels.csv").write_text("kind,value\nvessel_imo,9123456\n")
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]
    directory.rename(tmp_path / "away")
    now[0] = 6.0
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]
    assert lists.last_error is not None and "has gone" in lists.last_error
    directory.write_text("not a directory")
    now[0] = 12.0
    assert [h["list"] for h in lists.index().screen(DOC)] == ["vessels"]
    assert lists.last_error is not None and "not a directory" in lists.last_error
    directory.unlink()
    (tmp_path / "away").rename(directory)
    (directory / "vessels.csv").unlink()  # emptying the directory is how lists are removed
    now[0] = 18.0
    assert lists.index().screen(DOC) == []
    assert lists.last_error is None
