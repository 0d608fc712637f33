"""The index as a projection of the log: documents and links folded from four sources."""

from __future__ import annotations

from typing import Any

from pipeline.core.dedupe import ABSORBED, LIVE, WITHDRAWN
from pipeline.core.networks import Networks, withdraw_links
from pipeline.core.projection import Projection


def doc(mid: str) -> dict[str, Any]:
    return {"message_id": mid, "processing": {"worker": "w1", "indexed_at": "t1", "acked_at": "t2"}}


def link(a: str, b: str) -> dict[str, Any]:
    return {
        "link_id": f"L-{a}-{b}",
        "kind": "STRONG",
        "message_ids": [a, b],
        "ncbs": ["FRA", "ITA"],
    }


def linked(projection: Projection, a: str, b: str) -> None:
    """What the network stage leaves in its two tables for a link a-b."""
    Networks(projection.networks).add_link(a, f"2026-01-0{a[-1]}", b, f"2026-01-0{b[-1]}")
    for mid in (a, b):
        mine = projection.message_links.get(mid) or []
        projection.apply("message_links", mid, [*mine, link(a, b)], "2026-12-06T00:00:00+00:00")


def test_a_live_document_is_the_published_one_with_its_lineage_and_network() -> None:
    p = Projection()
    for mid in ("m1", "m2", "m3"):
        p.apply("enriched", mid, doc(mid))
        p.apply("lineage", mid, {"status": LIVE, "absorbed": []})
    p.apply("lineage", "m1", {"status": LIVE, "absorbed": ["dup-of-m1"]})
    linked(p, "m1", "m2")
    d1 = p.document("m1")
    assert d1 is not None
    assert d1["absorbed_message_ids"] == ["dup-of-m1"]
    assert d1["processing"] == {"worker": "w1", "indexed_at": "t1"}  # acked_at is the topic's only
    assert "links" not in d1 and "linked_message_ids" not in d1  # hst-links holds them
    assert d1["network_id"] == p.document("m2")["network_id"]  # type: ignore[index]
    d3 = p.document("m3")
    assert d3 is not None and "network_id" not in d3 and "links" not in d3
    assert p.live_ids() == ["m1", "m2", "m3"]


def test_withdrawn_tombstoned_or_absorbed_messages_have_no_document() -> None:
    p = Projection()
    for mid in ("m1", "m2", "m3", "m4"):
        p.apply("enriched", mid, doc(mid))
        p.apply("lineage", mid, {"status": LIVE, "absorbed": []})
    p.apply("lineage", "m2", {"status": WITHDRAWN, "by": "m9", "absorbed": []})
    p.apply("enriched", "m3", None)  # tombstone of a deleted document
    p.apply("lineage", "m4", {"status": ABSORBED, "into": "m1"})
    p.apply("lineage", "m5", {"status": LIVE, "absorbed": []})  # indexing failed: never published
    assert p.live_ids() == ["m1"]
    assert [p.document(m) for m in ("m2", "m3", "m4", "m5")] == [None, None, None, None]


def test_links_are_listed_once_and_a_withdrawal_removes_them() -> None:
    p = Projection()
    linked(p, "m1", "m2")
    linked(p, "m2", "m3")
    assert [x["link_id"] for x in p.links()] == ["L-m1-m2", "L-m2-m3"]
    net = {x["network_id"] for x in p.links()}
    assert len(net) == 1 and net != {None}, "one network after the second link joins m3"
    assert all(x["created_at"] == "2026-12-06T00:00:00+00:00" for x in p.links())
    withdraw_links(p.message_links, "m3")
    assert [x["link_id"] for x in p.links()] == ["L-m1-m2"]


def test_a_deleted_table_key_is_forgotten() -> None:
    p = Projection()
    p.apply("enriched", "m1", doc("m1"))
    p.apply("lineage", "m1", {"status": LIVE, "absorbed": []})
    p.apply("lineage", "m1", None)
    assert p.document("m1") is None
