"""Sorting a bulk response: what is sent again, what is a permanent failure."""

from __future__ import annotations

from typing import Any

from pipeline.search.bulk import BulkAction, sort_items


def item(op: str, status: int, error: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status}
    if error:
        result["error"] = {"type": error, "reason": f"{error} reason"}
    return {op: result}


def test_retryable_items_are_sent_again_and_4xx_are_failures() -> None:
    actions = [BulkAction("index", "m", "a", {}), BulkAction("index", "m", "b", {}),
               BulkAction("index", "m", "c", {}), BulkAction("delete", "m", "d")]  # fmt: skip
    items = [item("index", 201), item("index", 429), item("index", 400, "mapper_parsing_exception"),
             item("delete", 404)]  # fmt: skip
    retry, failures = sort_items(actions, items)
    assert [a.doc_id for a in retry] == ["b"]
    assert [(f.action.doc_id, f.status, f.error_type) for f in failures] == [
        ("c", 400, "mapper_parsing_exception")
    ]  # a delete of a missing document is done, not failed


def test_actions_behind_a_retried_one_on_the_same_document_keep_their_order() -> None:
    # The index of "a" was refused for now: the update behind it failed with 404 only because
    # of that, and the delete behind it must not run before the index is sent again.
    actions = [BulkAction("index", "m", "a", {"x": 1}), BulkAction("index", "m", "b", {}),
               BulkAction("update", "m", "a", {"y": 2}), BulkAction("delete", "m", "a"),
               BulkAction("update", "m", "b", {"y": 3})]  # fmt: skip
    items = [item("index", 503), item("index", 201), item("update", 404, "document_missing_exception"),
             item("delete", 200), item("update", 200)]  # fmt: skip
    retry, failures = sort_items(actions, items)
    assert [(a.op, a.doc_id) for a in retry] == [("index", "a"), ("update", "a"), ("delete", "a")]
    assert failures == []


def test_the_same_id_in_another_index_is_not_held() -> None:
    actions = [BulkAction("index", "m", "a", {}), BulkAction("update", "links", "a", {})]
    retry, failures = sort_items(
        actions, [item("index", 429), item("update", 404, "document_missing_exception")]
    )
    assert [a.index for a in retry] == ["m"]
    assert [f.action.index for f in failures] == ["links"]
