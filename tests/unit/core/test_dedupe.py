"""Dedupe and lineage transitions: re-sends dropped, replays re-processed, order-proof supersede."""

from __future__ import annotations

from pipeline.core.dedupe import (
    ABSORB,
    CONTENT_DUPLICATE,
    INDEX,
    NEW,
    REPLAY,
    RESEND,
    SUPERSEDE,
    decide_content,
    decide_lineage,
)

SRC_A = ["hst.inbound", 0, 10]
SRC_B = ["hst.inbound", 0, 42]


def test_first_message_is_new_and_forwarded() -> None:
    d = decide_content(None, "m1", SRC_A)
    assert (d.outcome, d.forward) == (NEW, True)
    assert d.state == {"first_id": "m1", "first_source": SRC_A, "absorbed": []}


def test_replay_of_the_same_record_is_forwarded_again_but_a_resend_is_dropped() -> None:
    state = decide_content(None, "m1", SRC_A).state
    replay = decide_content(state, "m1", SRC_A)
    assert (replay.outcome, replay.forward) == (REPLAY, True)
    resend = decide_content(state, "m1", SRC_B)
    assert (resend.outcome, resend.forward) == (RESEND, False)


def test_content_duplicate_is_absorbed_once() -> None:
    state = decide_content(None, "m1", SRC_A).state
    dup = decide_content(state, "m2", SRC_B)
    assert (dup.outcome, dup.forward, dup.absorb_into, dup.absorbed) == (
        CONTENT_DUPLICATE,
        False,
        "m1",
        ["m2"],
    )
    again = decide_content(dup.state, "m2", ["hst.inbound", 1, 7])
    assert again.outcome == RESEND and again.state["absorbed"] == ["m2"]


def test_index_then_supersede_deletes() -> None:
    d1 = decide_lineage(None, INDEX, {"hash": "h1"})
    assert d1.action == "index" and d1.state["status"] == "live"
    d2 = decide_lineage(d1.state, SUPERSEDE, {"by": "u1", "kind": "UPDATE"})
    assert d2.action == "delete" and d2.state["status"] == "superseded"
    # A late replay of the original never resurrects it.
    assert decide_lineage(d2.state, INDEX, {"hash": "h1"}).action is None


def test_supersede_before_the_original_arrives() -> None:
    d1 = decide_lineage(None, SUPERSEDE, {"by": "w1", "kind": "WITHDRAW"})
    assert d1.state["status"] == "withdrawn"
    assert decide_lineage(d1.state, INDEX, {"hash": "h1"}).action is None


def test_same_id_different_content_is_a_conflict() -> None:
    live = decide_lineage(None, INDEX, {"hash": "h1"}).state
    assert decide_lineage(live, INDEX, {"hash": "h1"}).action == "index"  # idempotent replay
    conflict = decide_lineage(live, INDEX, {"hash": "h2"})
    assert conflict.action is None and conflict.conflict and conflict.state == live


def test_absorb_updates_a_live_document_and_is_remembered_before_indexing() -> None:
    early = decide_lineage(None, ABSORB, {"absorbed": ["m2"]})
    assert early.action is None
    indexed = decide_lineage(early.state, INDEX, {"hash": "h1"})
    assert indexed.action == "index" and indexed.absorbed == ["m2"]
    more = decide_lineage(indexed.state, ABSORB, {"absorbed": ["m2", "m3"]})
    assert more.action == "update" and more.absorbed == ["m2", "m3"]


def test_withdrawing_an_absorbed_id_withdraws_the_indexed_duplicate_either_order() -> None:
    from pipeline.core.dedupe import ALIAS

    # Alias first (X absorbed into D), then the withdrawal of X.
    aliased = decide_lineage(None, ALIAS, {"into": "D"})
    assert aliased.action is None and aliased.state["status"] == "absorbed"
    withdrawn = decide_lineage(aliased.state, SUPERSEDE, {"by": "W", "kind": "WITHDRAW"})
    assert withdrawn.action is None
    assert withdrawn.forward == [{"role": SUPERSEDE, "target": "D", "by": "W", "kind": "WITHDRAW"}]
    # Withdrawal of X first, then the alias.
    early = decide_lineage(None, SUPERSEDE, {"by": "W", "kind": "WITHDRAW"})
    late = decide_lineage(early.state, ALIAS, {"into": "D"})
    assert late.forward == [{"role": SUPERSEDE, "target": "D", "by": "W", "kind": "WITHDRAW"}]


def test_live_groups_hold_every_id_that_may_carry_a_live_content() -> None:
    from pipeline.core.dedupe import live_groups

    def rec(mid: str, body: str, action: str = "CREATE", supersedes: str | None = None) -> dict:  # type: ignore[type-arg]
        return {
            "message_id": mid,
            "body": body,
            "action": action,
            "supersedes_message_id": supersedes,
        }

    records = [
        rec("a", "x"),
        rec("b", "x"),  # same content as a: either id may hold it
        rec("c", "y"),
        rec("d", "z", "UPDATE", supersedes="c"),
        rec("e", "w"),
        rec("f", "-", "WITHDRAW", supersedes="e"),
    ]
    groups = live_groups(records, lambda r: r["body"])
    assert sorted(sorted(g) for g in groups) == [["a", "b"], ["d"]]
