"""Estimate the person-matching model from reports nobody labelled (Splink's way).

An NCB rarely has pairs it knows to be one person; its reports still hold them. Each
parameter is estimated where the data says most about it:

- u, from random pairs of reports: almost every such pair is two different persons;
- m of names, nationality and documents, by expectation-maximisation over the pairs that
  share a full birth date (among them, many are one person), u held fixed;
- m of birth dates, the same way over the pairs that share two name keys;
- the prior, from the share of matches EM finds among the pairs sharing a birth date,
  divided by how often one person's two reports share it (m of an exact birth date);
- the threshold, as the lowest probability at which the model's *own* expected precision
  (the mean probability of the candidate pairs it would link) keeps ``precision``: 0.999 by
  default, as that estimate is optimistic where names are common (generated HST messages:
  asked for 0.995, it linked at precision 0.980).

Fitted on FEBRL 1-2 without their labels and judged on FEBRL 3 and 4: precision 1.000,
recall 0.500 and 0.642; on generated HST messages 1.000 and 0.457 (labelled fits: 0.766,
0.882, 0.481).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

from pipeline.core.linkage import (
    DEFAULT_BLOCKING,
    LEVELS,
    U_SAMPLES,
    Model,
    blocking_keys,
    common_keys,
    levels,
)
from pipeline.core.matching import PersonRef
from pipeline.errors import PermanentError
from pipeline.generate.evaluate import candidate_pairs
from pipeline.generate.linkage_fit import THRESHOLDS

EM_ROUNDS = 40
MIN_PAIRS = 50  # pairs sharing a birth date (or two names) below which EM has nothing to go on

Levels = dict[str, dict[str, float]]


class TooFewPairsError(PermanentError, ValueError):
    """The reports hold too few pairs sharing a birth date or two names to estimate m."""


def _u_from_random_pairs(
    persons: Sequence[PersonRef],
    common: frozenset[str],
    samples: int,
    seed: int,
    advance: Callable[[int], object] | None,
) -> Levels:
    rng = random.Random(seed)
    counts = {c: Counter[str]() for c in LEVELS}
    drawn = 0
    while drawn < samples:
        a, b = rng.choice(persons), rng.choice(persons)
        if a.ref == b.ref:
            continue
        for c, level in levels(a, b, common).items():
            counts[c][level] += 1
        drawn += 1
        if advance is not None and drawn % 10_000 == 0:
            advance(10_000)
    if advance is not None and drawn % 10_000:
        advance(drawn % 10_000)
    return {
        c: {lv: (counts[c][lv] + 1) / (drawn + len(LEVELS[c])) for lv in LEVELS[c]} for c in LEVELS
    }


def _pairs_sharing(persons: Sequence[PersonRef], rules: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs of reports (of different messages) filed under one key of ``rules``."""
    pairs = candidate_pairs(blocking_keys(person, rules) for person in persons)
    return sorted((i, j) for i, j in pairs if persons[i].message_id != persons[j].message_id)


def expectation_maximisation(
    patterns: Counter[tuple[str, ...]], comparisons: Sequence[str], u: Levels
) -> tuple[Levels, float]:
    """Estimate m of ``comparisons`` and the share of matches, u held fixed (two classes).

    ``patterns`` counts the pairs by their levels (one per comparison, in order). m starts
    with half its mass on each comparison's strongest level.
    """
    m = {
        c: {lv: 0.5 if k == 0 else 0.5 / (len(LEVELS[c]) - 1) for k, lv in enumerate(LEVELS[c])}
        for c in comparisons
    }
    share = 0.3
    total = sum(patterns.values())
    for _ in range(EM_ROUNDS):
        expected: dict[str, dict[str, float]] = {
            c: dict.fromkeys(LEVELS[c], 0.0) for c in comparisons
        }
        matches = 0.0
        for pattern, count in patterns.items():
            p_same, p_other = share, 1 - share
            for c, level in zip(comparisons, pattern, strict=True):
                p_same *= m[c][level]
                p_other *= u[c][level]
            weight = count * p_same / (p_same + p_other)
            matches += weight
            for c, level in zip(comparisons, pattern, strict=True):
                expected[c][level] += weight
        share = matches / total
        m = {
            c: {
                lv: (expected[c][lv] + 0.01) / (matches + 0.01 * len(LEVELS[c])) for lv in LEVELS[c]
            }
            for c in comparisons
        }
    return m, share


def _patterns(
    persons: Sequence[PersonRef],
    pairs: Sequence[tuple[int, int]],
    comparisons: Sequence[str],
    common: frozenset[str],
) -> Counter[tuple[str, ...]]:
    out: Counter[tuple[str, ...]] = Counter()
    for i, j in pairs:
        found = levels(persons[i], persons[j], common)
        out[tuple(found[c] for c in comparisons)] += 1
    return out


def candidate_probabilities(model: Model, persons: Sequence[PersonRef]) -> list[float]:
    """The probability of every candidate pair (filed under one of the model's keys)."""
    pairs = _pairs_sharing(persons, model.blocking)
    return [model.score(persons[i], persons[j]).probability for i, j in pairs]


def choose_threshold(probabilities: Sequence[float], precision: float) -> float:
    """The lowest threshold whose links' mean probability (expected precision) keeps it."""
    for threshold in THRESHOLDS:
        linked = [p for p in probabilities if p >= threshold]
        if not linked or sum(linked) / len(linked) >= precision:
            return threshold
    return THRESHOLDS[-1]


def fit_unlabelled(
    persons: Sequence[PersonRef],
    version: str,
    trained_on: str,
    samples: int = U_SAMPLES,
    precision: float = 0.999,
    seed: int = 7,
    blocking: Sequence[str] = DEFAULT_BLOCKING,
    advance: Callable[[int], object] | None = None,
) -> Model:
    """The model estimated from unlabelled reports (see the module's docstring).

    ``advance(k)`` is told every 10,000 random pairs compared for u, out of ``samples``.
    """
    common_list = common_keys(persons)
    common = frozenset(common_list)
    u = _u_from_random_pairs(persons, common, samples, seed, advance)
    by_birth = _pairs_sharing(persons, ("dob",))
    by_names = _pairs_sharing(persons, ("kk",))
    for rule, pairs in (("a full birth date", by_birth), ("two name keys", by_names)):
        if len(pairs) < MIN_PAIRS:
            msg = (
                f"{len(pairs)} pairs of reports share {rule}: at least {MIN_PAIRS} are "
                "needed to tell one person's reports from namesakes"
            )
            raise TooFewPairsError(msg)
    names = ("name", "nationality", "document")
    m_names, share = expectation_maximisation(_patterns(persons, by_birth, names, common), names, u)
    m_birth, _ = expectation_maximisation(
        _patterns(persons, by_names, ("birth",), common), ("birth",), u
    )
    m = {**m_names, "birth": m_birth["birth"]}
    for c in LEVELS:
        if "missing" in LEVELS[c]:
            m[c]["missing"] = u[c]["missing"]  # no evidence either way
    n = len(persons)
    matches = share * len(by_birth) / max(m["birth"]["exact"], 1e-9)
    prior = min(max(matches / (n * (n - 1) / 2), 1e-12), 0.5)
    notes = [
        f"unlabelled: EM over {len(by_birth):,} pairs sharing a birth date and "
        f"{len(by_names):,} sharing two name keys; about {matches:,.0f} pairs of one person"
    ]
    model = Model(version, prior, 0.5, m, u, trained_on, notes, list(blocking), common_list)
    model.threshold = choose_threshold(candidate_probabilities(model, persons), precision)
    return model
