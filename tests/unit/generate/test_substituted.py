"""Which true pairs FEBRL made look like two persons (``linkage_set.substituted``)."""

from __future__ import annotations

from pipeline.core.matching import PersonRef
from pipeline.generate.linkage_set import Report, substituted

REF = PersonRef("m", "P1", "GS", None, "", (), (None, None, None), (), ())


def _report(given: str, surname: str, dob: str) -> Report:
    return Report("r", "e", "typo", REF, (given, surname, dob))


def test_a_typo_is_not_a_substitution_but_another_name_or_date_is() -> None:
    base = _report("mia", "fenwick", "19900517")
    assert not substituted(base, _report("mia", "fenwik", "19900517"))
    assert not substituted(base, _report("fenwick", "mia", "19900518"))  # swapped, one digit
    assert not substituted(base, _report("", "fenwick", ""))  # a value missing
    assert substituted(base, _report("sophie", "fenwick", "19900517"))  # another given name
    assert substituted(base, _report("mia", "fenwick", "19620102"))  # another date
