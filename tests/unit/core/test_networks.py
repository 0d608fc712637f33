"""Networks: stable founder ids, merges recorded, independent of link order, idempotent."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.networks import CHUNK, WITHDRAWN, Networks, network_id_of, withdraw_links

CREATED = {f"m{i}": f"2026-01-{i + 1:02d}T00:00:00Z" for i in range(20)}


def link(nets: Networks, a: str, b: str) -> Any:
    return nets.add_link(a, CREATED[a], b, CREATED[b])


def test_first_link_founds_a_network_named_after_the_earliest_message() -> None:
    nets = Networks({})
    change = link(nets, "m5", "m2")
    assert change.network_id == network_id_of("m2")
    assert nets.members("m5") == ["m2", "m5"]
    assert change.merged_ids == []  # growth from singletons is not a merge
    assert change.founder == "m2" and change.absorbed_founders == []


def test_merging_two_networks_keeps_the_founders_id_and_records_the_other() -> None:
    nets = Networks({})
    link(nets, "m1", "m2")
    link(nets, "m7", "m8")
    change = link(nets, "m8", "m2")
    assert change.network_id == network_id_of("m1")
    assert change.merged_ids == [network_id_of("m7")]
    assert change.renamed == ["m7", "m8"]
    # The synthesis counts the merge in the cells of the absorbed network's founder.
    assert change.founder == "m1" and change.absorbed_founders == ["m7"]
    record = nets.network_of("m8")
    assert record is not None and record["merged_ids"] == [network_id_of("m7")]
    assert nets.members("m1") == ["m1", "m2", "m7", "m8"]
    assert record["size"] == 4


def test_the_same_link_twice_changes_nothing() -> None:
    nets = Networks({})
    link(nets, "m1", "m2")
    before = dict(nets.store)
    again = link(nets, "m2", "m1")
    assert not again.changed and dict(nets.store) == before


def test_a_large_network_grows_by_rewriting_one_chunk_of_members() -> None:
    # One message joining a network of hundreds must not rewrite a list of every member.
    writes: list[str] = []

    class Recording(dict[str, Any]):
        def __setitem__(self, key: str, value: Any) -> None:
            writes.append(key)
            super().__setitem__(key, value)

    nets = Networks(Recording())
    created = {f"x{i:04d}": f"2026-02-01T00:00:{i % 60:02d}.{i:04d}Z" for i in range(300)}
    ids = sorted(created)
    for mid in ids[1:]:
        nets.add_link(ids[0], created[ids[0]], mid, created[mid])
    assert nets.members(ids[150]) == ids
    writes.clear()
    nets.add_link(ids[0], created[ids[0]], "late", "2026-03-01T00:00:00Z")
    chunk_writes = [k for k in writes if k.startswith(f"m:{ids[0]}:")]
    assert len(chunk_writes) == 1 and len(nets.store[chunk_writes[0]]) <= CHUNK
    assert nets.members("late") == sorted([*ids, "late"])


def test_records_written_before_chunking_are_read_and_converted() -> None:
    # A changelog from an earlier version: the record holds the member list itself.
    store: dict[str, Any] = {
        "p:m1": "m1",
        "p:m2": "m1",
        "n:m1": {
            "network_id": network_id_of("m1"),
            "founder": [CREATED["m1"], "m1"],
            "members": ["m1", "m2"],
            "merged_ids": [],
        },
    }
    nets = Networks(store)
    assert nets.members("m2") == ["m1", "m2"]
    link(nets, "m3", "m4")
    change = link(nets, "m4", "m2")
    assert change.network_id == network_id_of("m1") and change.renamed == ["m3", "m4"]
    assert nets.members("m3") == ["m1", "m2", "m3", "m4"]
    record = nets.network_of("m4")
    assert record is not None and "members" not in record and record["size"] == 4


def test_unlinked_message_has_no_network() -> None:
    assert Networks({}).network_of("m3") is None


pairs = st.lists(
    st.tuples(st.sampled_from(sorted(CREATED)), st.sampled_from(sorted(CREATED))).filter(
        lambda p: p[0] != p[1]
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(pairs, st.randoms(use_true_random=False))
def test_networks_do_not_depend_on_link_order(links: list[tuple[str, str]], rnd: Any) -> None:
    one, two = Networks({}), Networks({})
    for a, b in links:
        link(one, a, b)
    shuffled = [(b, a) if rnd.random() < 0.5 else (a, b) for a, b in links]
    rnd.shuffle(shuffled)
    for a, b in shuffled:
        link(two, a, b)
    for m in CREATED:
        x, y = one.network_of(m), two.network_of(m)
        assert (x is None) == (y is None)
        if x is not None and y is not None:
            members = one.members(m)
            assert x["network_id"] == y["network_id"] and members == two.members(m)
            assert x["size"] == len(members) and m in members
            # The id is the founder's: the earliest member.
            assert x["network_id"] == network_id_of(min(members, key=CREATED.__getitem__))


def _link(link_id: str, a: str, b: str) -> dict[str, object]:
    return {"link_id": link_id, "message_ids": [a, b]}


def test_a_withdrawal_removes_the_links_from_both_sides() -> None:
    table: dict[str, object] = {
        "m1": [_link("L1", "m1", "m2"), _link("L2", "m1", "m3")],
        "m2": [_link("L1", "m1", "m2")],
        "m3": [_link("L2", "m1", "m3"), _link("L3", "m3", "m4")],
    }
    removed, touched = withdraw_links(table, "m1")
    assert removed == ["L1", "L2"]
    assert touched == {"m2", "m3"}
    assert table == {"m1": WITHDRAWN, "m2": [], "m3": [_link("L3", "m3", "m4")]}


def test_a_replayed_withdrawal_changes_nothing() -> None:
    # After a crash the withdrawal is processed again: the message is already WITHDRAWN.
    table: dict[str, object] = {"m1": [_link("L1", "m1", "m2")], "m2": [_link("L1", "m1", "m2")]}
    withdraw_links(table, "m1")
    after_first = dict(table)
    assert withdraw_links(table, "m1") == ([], set())
    assert table == after_first


def test_withdrawing_a_message_without_links_marks_it() -> None:
    table: dict[str, object] = {}
    assert withdraw_links(table, "m9") == ([], set())
    assert table == {"m9": WITHDRAWN}


def test_record_link_keeps_the_link_on_both_messages_once_and_ignores_withdrawn_ones() -> None:
    from pipeline.core.networks import WITHDRAWN, Networks, record_link

    store: dict[str, object] = {}
    links: dict[str, object] = {}
    link = {"link_id": "L1", "message_ids": ["a", "b"]}
    created = {"a": "2025-01-01", "b": "2025-01-02"}
    first = record_link(Networks(store), links, link, created)
    again = record_link(Networks(store), links, link, created)
    assert first is not None and again is not None and again.network_id == first.network_id
    assert links["a"] == links["b"] == [link]
    links["c"] = WITHDRAWN
    assert (
        record_link(
            Networks(store),
            links,
            {"link_id": "L2", "message_ids": ["a", "c"]},
            {"a": "2025-01-01", "c": "2025-01-03"},
        )
        is None
    )
    assert links["a"] == [link]
