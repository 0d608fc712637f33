"""Watch lists loaded from a directory and reloaded when its files change (no restart)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.core.screening import WatchEntry, WatchIndex, WatchListError, parse_watchlist

log = logging.getLogger(__name__)

SUFFIXES = {".csv": "csv", ".json": "json"}


def load_entries(path: Path) -> list[WatchEntry]:
    """Entries of one watch-list file, or of every ``*.csv``/``*.json`` file of a directory."""
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES) if path.is_dir() else [path]
    entries: list[WatchEntry] = []
    for f in files:
        if f.suffix not in SUFFIXES:
            msg = f"{f}: a watch list is a .csv or .json file"
            raise WatchListError(msg)
        entries += parse_watchlist(
            f.read_text(encoding="utf-8"), f.stem, str(f), SUFFIXES[f.suffix]
        )
    return entries


class WatchLists:
    """The current watch-list index; checks the directory at most every ``check_every`` s."""

    def __init__(
        self,
        directory: Path | None,
        check_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.check_every = check_every
        self.clock = clock
        self._index = WatchIndex([])
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._checked_at: float | None = None
        self.last_error: str | None = None

    def _current_signature(self) -> tuple[tuple[str, int, int], ...]:
        if self.directory is None:
            return ()
        if not self.directory.is_dir():
            if self.directory.exists():
                msg = f"{self.directory}: the watch-list path is not a directory"
                raise NotADirectoryError(msg)
            if self._signature:
                # Lists once loaded are emptied by removing their files, not by a directory
                # that vanished (unmounted, redeployed): that keeps the previous lists.
                msg = f"{self.directory}: the watch-list directory has gone"
                raise FileNotFoundError(msg)
            return ()
        out = []
        for p in sorted(self.directory.iterdir()):
            if p.suffix in SUFFIXES:
                st = p.stat()
                out.append((p.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def index(self) -> WatchIndex:
        """The index, reloaded first if a file was added, changed or removed."""
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.check_every:
            return self._index
        self._checked_at = now
        try:
            # Inside the try: a file removed between listing and stat, or a directory made
            # unreadable, is an infrastructure problem, never a reason to reject a message.
            signature = self._current_signature()
            if signature == self._signature:
                return self._index
            entries = load_entries(self.directory) if signature and self.directory else []
        except (WatchListError, OSError) as exc:  # keep screening with the previous lists
            self.last_error = str(exc)
            log.error("watch lists not reloaded: %s", exc)
            return self._index
        self._index, self._signature, self.last_error = WatchIndex(entries), signature, None
        log.info("watch lists loaded: %d entries from %d file(s)", len(entries), len(signature))
        return self._index
