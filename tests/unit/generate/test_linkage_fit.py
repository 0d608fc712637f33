"""What a fit estimates u on: every pair of different persons when they are few."""

from __future__ import annotations

from pipeline.generate.linkage_fit import _other_pairs, u_pair_count
from pipeline.generate.linkage_set import Report, _report


def _reports(entities: list[str]) -> list[Report]:
    person = {"person_id": "P1", "role": "UNKNOWN", "name": {"given_name": "Omar"}}
    return [_report(f"r{i}", entity, "labelled", person) for i, entity in enumerate(entities)]


def test_every_pair_of_different_persons_once_when_they_fit_the_samples() -> None:
    labelled = _reports(["a", "a", "b", "c", "c", "c"])
    pairs = [(x.report_id, y.report_id) for x, y in _other_pairs(labelled, 1000, seed=7)]
    # 15 pairs, less 1 within "a" and 3 within "c".
    assert len(pairs) == len(set(pairs)) == 11
    by_id = {r.report_id: r.entity for r in labelled}
    assert all(by_id[x] != by_id[y] for x, y in pairs)


def test_a_seeded_sample_of_that_many_when_they_do_not() -> None:
    labelled = _reports([str(i // 2) for i in range(200)])  # 19,900 pairs
    first = [(x.report_id, y.report_id) for x, y in _other_pairs(labelled, 5000, seed=7)]
    again = [(x.report_id, y.report_id) for x, y in _other_pairs(labelled, 5000, seed=7)]
    assert len(first) == 5000 and first == again
    by_id = {r.report_id: r.entity for r in labelled}
    assert all(by_id[x] != by_id[y] for x, y in first)


def test_reports_of_one_person_give_no_pair_and_do_not_hang() -> None:
    labelled = _reports(["a"] * 200)  # 19,900 pairs, none of different persons
    assert list(_other_pairs(labelled, 5000, seed=7)) == []
    assert u_pair_count(_reports(["a", "a", "b"]), 1000) == 2
