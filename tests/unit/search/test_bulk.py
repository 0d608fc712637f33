"""Sorting a bulk response: what is sent again, what is a permanent failure."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.search.bulk import BulkAction, bulk_write, sort_items


def item(op: str, status: int, error: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status}
    if error:
        result["error"] = {"type": error, "reason": f"{error} reason"}
    return {op: result}


def test_retryable_items_are_sent_again_and_4xx_are_failures() -> None:
    actions = [
        BulkAction("index", "m", "a", {}),
        BulkAction("index", "m", "b", {}),
        BulkAction("index", "m", "c", {}),
        BulkAction("delete", "m", "d"),
    ]
    items = [
        item("index", 201),
        item("index", 429),
        item("index", 400, "mapper_parsing_exception"),
        item("delete", 404),
    ]
    sorted_ = sort_items(actions, items)
    retry, failures = sorted_.retry, sorted_.failures
    assert [a.doc_id for a in retry] == ["b"]
    assert [(f.action.doc_id, f.status, f.error_type) for f in failures] == [
        ("c", 400, "mapper_parsing_exception")
    ]  # a delete of a missing document is done, not failed


def test_actions_behind_a_retried_one_on_the_same_document_keep_their_order() -> None:
    # The index of "a" was refused for now: the update behind it failed with 404 only because
    # of that, and the delete behind it must not run before the index is sent again.
    actions = [
        BulkAction("index", "m", "a", {"x": 1}),
        BulkAction("index", "m", "b", {}),
        BulkAction("update", "m", "a", {"y": 2}),
        BulkAction("delete", "m", "a"),
        BulkAction("update", "m", "b", {"y": 3}),
    ]
    items = [
        item("index", 503),
        item("index", 201),
        item("update", 404, "document_missing_exception"),
        item("delete", 200),
        item("update", 200),
    ]
    sorted_ = sort_items(actions, items)
    retry, failures = sorted_.retry, sorted_.failures
    assert [(a.op, a.doc_id) for a in retry] == [("index", "a"), ("update", "a"), ("delete", "a")]
    assert failures == []


def test_the_same_id_in_another_index_is_not_held() -> None:
    actions = [BulkAction("index", "m", "a", {}), BulkAction("update", "links", "a", {})]
    sorted_ = sort_items(
        actions, [item("index", 429), item("update", 404, "document_missing_exception")]
    )
    retry, failures = sorted_.retry, sorted_.failures
    assert [a.index for a in retry] == ["m"]
    assert [f.action.index for f in failures] == ["links"]


def test_a_missing_index_or_alias_is_an_outage_never_a_failure() -> None:
    actions = [
        BulkAction("index", "hst-messages", "a", {}),
        BulkAction("update", "hst-messages", "a", {}),
    ]
    missing = {
        "type": "index_not_found_exception",
        "reason": "no such index [hst-messages]",
        "index": "hst-messages",
    }
    sorted_ = sort_items(
        actions,
        [
            {"index": {"status": 404, "error": missing}},
            {"update": {"status": 404, "error": missing}},
        ],
    )
    assert [a.op for a in sorted_.retry] == ["index", "update"]
    assert sorted_.failures == []
    assert sorted_.missing == {"hst-messages"}


def test_index_actions_require_an_alias_so_a_write_never_creates_an_index() -> None:
    head = orjson.loads(BulkAction("index", "hst-messages", "a", {"x": 1}).lines()[0])
    assert head == {"index": {"_index": "hst-messages", "_id": "a", "require_alias": True}}
    concrete = orjson.loads(
        BulkAction("index", "hst-messages-v2", "a", {}, require_alias=False).lines()[0]
    )
    assert "require_alias" not in concrete["index"]


def test_an_upsert_merges_requires_its_alias_and_survives_meeting_its_own_retry() -> None:
    head, body = (
        orjson.loads(x) for x in BulkAction("upsert", "hst-messages", "a", {"x": 1}).lines()
    )
    assert head == {
        "update": {
            "_index": "hst-messages",
            "_id": "a",
            "require_alias": True,
            "retry_on_conflict": 5,
        }
    }
    assert body == {"doc": {"x": 1}, "doc_as_upsert": True}


class _Refusing:
    """A search client whose bulk answers a given exception a few times, then succeeds."""

    def __init__(self, exc: Exception, times: int) -> None:
        self.exc, self.times, self.calls = exc, times, 0

    async def bulk(self, **_kwargs: object) -> dict[str, object]:
        self.calls += 1
        if self.calls <= self.times:
            raise self.exc
        return {"items": [{"index": {"status": 201}}]}


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_hold_the_batch_and_never_fail_the_documents(status: int) -> None:
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
    from elasticsearch import ApiError

    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "h", 1))
    client = _Refusing(ApiError("security_exception", meta, {}), times=3)
    reasons: list[str] = []

    async def no_sleep(_delay: float) -> None:
        return None

    failures = await bulk_write(
        client,
        [BulkAction("index", "hst-messages", "a", {})],  # type: ignore[arg-type]
        on_retry=lambda why, _d: reasons.append(why),
        sleep=no_sleep,
    )
    assert failures == []
    assert client.calls == 4
    assert all("refused our credentials" in r for r in reasons) and len(reasons) == 3
