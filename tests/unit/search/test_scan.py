"""A scroll that misses shards raises instead of passing a partial result for the whole."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.search.scan import ScanError, scan


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.cleared = False

    def search(self, **_kw: Any) -> dict[str, Any]:
        return self.pages.pop(0)

    def scroll(self, **_kw: Any) -> dict[str, Any]:
        return self.pages.pop(0)

    def options(self, **_kw: Any) -> _Pages:
        return self

    def clear_scroll(self, **_kw: Any) -> None:
        self.cleared = True


def page(ids: list[str], failed: int = 0) -> dict[str, Any]:
    shards = {
        "total": 3,
        "successful": 3 - failed,
        "failed": failed,
        "failures": [{"reason": {"type": "node_disconnected"}}] * failed,
    }
    return {
        "_scroll_id": "s1",
        "_shards": shards,
        "hits": {"hits": [{"_source": {"id": i}} for i in ids]},
    }


def test_every_page_is_read_and_the_scroll_cleared() -> None:
    es = _Pages([page(["a", "b"]), page(["c"]), page([])])
    assert [d["id"] for d in scan(es, "x", {"match_all": {}})] == ["a", "b", "c"]
    assert es.cleared


def test_a_page_missing_a_shard_raises() -> None:
    es = _Pages([page(["a"]), page(["b"], failed=1), page([])])
    with pytest.raises(ScanError, match="2 of 3 shards"):
        list(scan(es, "x", {"match_all": {}}))
    assert es.cleared
