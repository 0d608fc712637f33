"""The ceiling of comparison levels: what no matcher seeing only them could beat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.core import linkage
from pipeline.core.matching import PersonRef
from pipeline.generate.linkage_eval import evaluate_linkage, level_ceiling
from pipeline.generate.linkage_set import Report, febrl_file, read_labelled, reports

# Three persons reported twice under one full name; John Smith also as John Brown; another
# John (Jones) once: "same given name, other family name" holds one true pair and two
# pairs of different persons.
_LINES = [
    ("ann", "ann lee", "original"),
    ("ann", "ann lee", "typo"),
    ("bob", "bob kay", "original"),
    ("bob", "bob kay", "typo"),
    ("cyd", "cyd orr", "original"),
    ("cyd", "cyd orr", "typo"),
    ("john", "john smith", "original"),
    ("john", "john brown", "typo"),
    ("jones", "john jones", "original"),
]


def _reports(tmp_path: Path, lines: list[tuple[str, str, str]] = _LINES) -> list[Report]:
    """``(entity, "given family", variant)`` lines as an NCB's labelled reports."""
    path = tmp_path / "labelled.ndjson"
    out = []
    for entity, name, variant in lines:
        given, family = name.split()
        person = {"name": {"given_name": given, "family_name": family}}
        out.append(json.dumps({"entity": entity, "person": person, "variant": variant}))
    path.write_text("\n".join(out) + "\n")
    return read_labelled(path)


def _tokens(ref: PersonRef) -> list[str]:
    return ref.name.split()


def _names_agree(a: PersonRef, b: PersonRef) -> tuple[bool, bool]:
    (ga, fa), (gb, fb) = _tokens(a), _tokens(b)
    return ga == gb, fa == fb


def _one_block(_ref: PersonRef) -> list[str]:
    return ["everyone"]


def test_a_combination_as_common_among_strangers_as_among_pairs_is_out_of_reach(
    tmp_path: Path,
) -> None:
    found = level_ceiling(_reports(tmp_path), _one_block, _names_agree, precision=0.99)
    # 3 of 4 true pairs have a full name no two persons share; the fourth's combination
    # holds 1 true pair against 2 namesakes (1 with a typo report): a sliver of it keeps 0.99.
    assert 0.75 <= found["all"] < found["typo"] < 0.76


def test_a_lower_precision_admits_the_namesakes(tmp_path: Path) -> None:
    found = level_ceiling(_reports(tmp_path), _one_block, _names_agree, precision=0.5)
    assert found["typo"] == 1.0


def test_only_the_pairs_blocking_compares_count(tmp_path: Path) -> None:
    def by_family(ref: PersonRef) -> list[str]:
        return [_tokens(ref)[1]]

    # Smith ~ Brown (the true pair) is never compared, nor is Jones with any John.
    found = level_ceiling(_reports(tmp_path), by_family, _names_agree, precision=0.5)
    assert found["typo"] == 0.75


@pytest.mark.skipif(febrl_file("dataset3.csv") is None, reason="FEBRL data not installed")
def test_the_shipped_model_stays_under_its_levels_ceiling_on_held_out_reports() -> None:
    model = linkage.load_model("person-febrl-v1")
    held_out = reports("report")
    ceiling = level_ceiling(held_out, model.keys, model.combination, precision=0.99)
    found = evaluate_linkage(
        held_out, model.keys, lambda a, b: model.score(a, b).probability, model.threshold
    ).fuzzy
    # The model's score is a function of the combination: where it keeps 0.99, its links
    # are one selection of combinations, so it cannot beat the bound.
    kept = [k for k, c in found.items() if k != "mixed" and c.precision >= 0.99]
    assert len(kept) >= 6
    for kind in kept:
        assert found[kind].recall <= ceiling[kind] + 1e-9, kind
    # Reports without a birth date: a name FEBRL replaced leaves one name and nationality,
    # which namesakes share as often as true pairs do.
    assert ceiling["no_birth"] < 0.90 < ceiling["typo"]


def test_a_false_link_counts_once_against_each_kind_it_could_have_been(tmp_path: Path) -> None:
    lines = [
        ("ann", "ann lee", "original"),
        ("ann", "ann lee", "typo"),
        ("dan", "dan ray", "typo"),  # Dan's two reports: a pair of two variants ("mixed")
        ("dan", "ray dan", "swapped"),
    ]
    found = evaluate_linkage(_reports(tmp_path, lines), _one_block, lambda _a, _b: 1.0, 0.5).fuzzy
    # Ann's typo ~ Dan's typo counts once against typo; Ann's typo ~ Dan's swapped against
    # typo and mixed; swapped, with no true pair of its own, gets no row.
    assert (found["typo"].tp, found["typo"].fp) == (1, 3)
    assert (found["mixed"].tp, found["mixed"].fp) == (1, 1)
    assert "swapped" not in found
    assert found["all"].fp == 4
