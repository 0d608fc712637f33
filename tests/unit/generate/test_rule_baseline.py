"""The plain baseline the bench reports beside the probabilistic matcher."""

from __future__ import annotations

from pipeline.core.matching import PersonRef
from pipeline.generate.rule_baseline import THRESHOLD, score


def _ref(
    name: str, birth: tuple[int | None, int | None, int | None], nat: str = "SYR"
) -> PersonRef:
    toks = tuple(name.split())
    return PersonRef("m", "P1", "ITA", None, name, toks, birth, (nat,), ())


def test_three_of_four_comparisons_make_a_link() -> None:
    a = _ref("mia fenwick", (1990, 5, 17))
    assert score(a, _ref("mia fenwick", (1990, 5, 17))) == 1.0
    assert score(a, _ref("mia fenwich", (1990, 5, 18))) >= THRESHOLD  # names close, date off
    assert score(a, _ref("mia fenwick", (1990, None, None), "AFG")) < THRESHOLD


def test_names_are_compared_as_written_first_to_first_last_to_last() -> None:
    a = _ref("mia fenwick", (1990, 5, 17))
    assert score(a, _ref("fenwick mia", (1990, 5, 17))) == 0.5  # swapped: the rule misses it
    assert score(_ref("fenwick", (None, None, None)), _ref("fenwick", (None, None, None))) == 0.5
