"""The person matcher the stream used before the probabilistic one (issue 21), kept as a yardstick.

``make bench`` and the evaluation tests report it beside ``core.linkage`` ("before" and
"after"): a weighted sum of name similarity (Jaro-Winkler of the best token alignment),
birth-date agreement (a conflict vetoes; a person without a birth year is never a
candidate) and nationality, linked at 0.92. Nothing in the stream uses it.
"""

from __future__ import annotations

from itertools import permutations

import jellyfish

from pipeline.core.matching import PersonRef
from pipeline.core.names import name_key

THRESHOLD = 0.92


def blocking_keys(person: PersonRef) -> list[str]:
    """Each name token's skeleton with the birth year (none without a birth year)."""
    if person.birth[0] is None:
        return []
    keys = {name_key(t) for t in person.tokens}
    return sorted(f"name:{k}:{person.birth[0]}" for k in keys if len(k) >= 2)


def _birth_agreement(a: PersonRef, b: PersonRef) -> float | None:
    """None = contradiction (veto); 0.3 = unknown or the year only; 1.0 = same full date."""
    if a.birth[0] is None or b.birth[0] is None:
        return 0.3
    shared = 0
    for x, y in zip(a.birth, b.birth, strict=True):
        if x is None or y is None:
            break
        if x != y:
            return None
        shared += 1
    return {1: 0.3, 2: 0.6, 3: 1.0}[shared]


def name_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Jaro-Winkler of the best token alignment (order-free; extra tokens cost a little)."""
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(long_) > 5:
        return jellyfish.jaro_winkler_similarity(" ".join(sorted(a)), " ".join(sorted(b)))
    best = 0.0
    for perm in permutations(long_, len(short)):
        sims = [jellyfish.jaro_winkler_similarity(x, y) for x, y in zip(short, perm, strict=True)]
        sims = [
            max(s, 0.95) if name_key(x) == name_key(y) and len(name_key(x)) >= 3 else s
            for s, x, y in zip(sims, short, perm, strict=True)
        ]
        best = max(best, sum(sims) / len(sims))
    return best * (1.0 - 0.04 * (len(long_) - len(short)))


def score(a: PersonRef, b: PersonRef) -> float:
    """The old fuzzy score in [0, 1]."""
    birth = _birth_agreement(a, b)
    if birth is None:
        return 0.0
    nat = 0.5
    if a.nationalities and b.nationalities:
        nat = 1.0 if set(a.nationalities) & set(b.nationalities) else 0.0
    return 0.70 * name_similarity(a.tokens, b.tokens) + 0.20 * birth + 0.10 * nat
