"""The field's plain baseline on the same reports: recordlinkage's FEBRL example rule.

recordlinkage's tutorial on FEBRL links two records when more than three of its
comparisons agree: given name and surname (Jaro-Winkler at least 0.85), date of birth,
suburb and state (exact). Person reports carry no address, so here: given name and family
name (first and last name token as written, Jaro-Winkler at least 0.85), birth date
(exact and complete) and nationality (one shared), and a link when three of the four
agree. Judged on the probabilistic matcher's candidate pairs, only the comparison differs:
how much the levels, the weights and the transliteration add to a rule of thumb.
"""

from __future__ import annotations

import jellyfish

from pipeline.core.matching import PersonRef

THRESHOLD = 0.75  # three of four comparisons agree
SIMILAR = 0.85  # recordlinkage's example threshold for names


def _similar(x: str, y: str) -> bool:
    return bool(x and y) and jellyfish.jaro_winkler_similarity(x, y) >= SIMILAR


def score(a: PersonRef, b: PersonRef) -> float:
    """The share of the four comparisons that agree (a link at ``THRESHOLD``)."""
    given = _similar(a.tokens[0], b.tokens[0]) if a.tokens and b.tokens else False
    family = len(a.tokens) > 1 and len(b.tokens) > 1 and _similar(a.tokens[-1], b.tokens[-1])
    birth = None not in a.birth and a.birth == b.birth
    nationality = bool(set(a.nationalities) & set(b.nationalities))
    return (given + family + birth + nationality) / 4
