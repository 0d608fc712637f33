"""Estimate the person-matching model (``core.linkage``) from labelled reports.

m: the levels of every true pair (two reports of one person); u: the levels of a seeded
sample of pairs of different persons; prior: the share of true pairs among all pairs. The
threshold is the lowest probability whose links keep a precision of ``precision`` on the
candidate pairs of the same labelled reports. Only the ``tune`` split is used.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pipeline.core.linkage import Model, blocking_keys, estimate, levels
from pipeline.generate.linkage_eval import evaluate_linkage, pairs_of_one_person
from pipeline.generate.linkage_set import Report

THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999)


def fit_model(
    reports: Sequence[Report], samples: int = 200_000, precision: float = 0.995, seed: int = 7
) -> Model:
    """The model estimated from ``reports`` (see the module's docstring)."""
    true = [levels(a.ref, b.ref) for a, b in pairs_of_one_person(reports)]
    rng = random.Random(seed)
    other: list[dict[str, str]] = []
    while len(other) < samples:
        a, b = rng.choice(reports), rng.choice(reports)
        if a.entity != b.entity:
            other.append(levels(a.ref, b.ref))
    n = len(reports)
    prior = len(true) / (n * (n - 1) / 2)
    model = estimate(true, other, prior, threshold=0.5, trained_on="FEBRL 1-2 with variants")
    # One evaluation gives every threshold's figures (the scores do not depend on it).
    curve = evaluate_linkage(
        reports, blocking_keys, lambda a, b: model.score(a, b).probability, 0.5, THRESHOLDS
    ).curve
    model.threshold = next((t for t, c in curve if c.precision >= precision), model.threshold)
    return model
