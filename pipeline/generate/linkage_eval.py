"""Person matching judged on the labelled reports of ``linkage_set``, per kind of variant.

For a blocker (the keys a person is filed under) and a scorer (a pair's score), reports:

- pair completeness: the share of true pairs that become candidates (share a key);
- strong identifiers: precision and recall of links by a shared identifier, and how many
  decoys (same number, another issuing country) were linked (must be none);
- fuzzy links: precision and recall at a threshold, on the true pairs that share no
  identifier (the pairs only fuzzy matching can find), per variant, and the curve over
  thresholds. A pair's variant is that of its non-original report ("mixed" when both are
  duplicates with different variants); a false link counts against each report's variant
  (and "mixed" when they are two different ones);
- the reachable recall (``level_ceiling``): the most any matcher on the same levels could
  link at a precision.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.core.linkage import TARGET_PRECISION
from pipeline.core.matching import PersonRef
from pipeline.generate.evaluate import candidate_pairs, components
from pipeline.generate.linkage_set import Report, substituted

Pair = tuple[str, str]


@dataclass
class Counts:
    """True positives, false positives and misses of one group of pairs."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of links made that are true."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs linked."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class LinkageReport:
    """Every figure of one evaluation."""

    reports: int
    true_pairs: int
    candidates: int
    completeness: dict[str, float]  # variant -> share of its true pairs that are candidates
    strong: Counts
    decoys_linked: int
    fuzzy: dict[str, Counts]  # variant (and "all") -> counts at the threshold
    # The same, on the true pairs whose values FEBRL did not replace (``substituted``).
    fuzzy_kept: dict[str, Counts] = field(default_factory=dict)
    curve: list[tuple[float, Counts]] = field(default_factory=list)
    # True pairs without a shared identifier found in one linked set (directly or through
    # other reports of the person); "all" counts the wrong pairs such sets hold as fp.
    clustered: dict[str, Counts] = field(default_factory=dict)


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def pairs_of_one_person(reports: Sequence[Report]) -> list[tuple[Report, Report]]:
    """Every pair of reports of one person (the true pairs)."""
    by_entity: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        by_entity[r.entity].append(r)
    return [
        (a, b) for group in by_entity.values() for i, a in enumerate(group) for b in group[i + 1 :]
    ]


def _variant(a: Report, b: Report) -> str:
    kinds = {r.variant for r in (a, b) if r.variant != "original"}
    return kinds.pop() if len(kinds) == 1 else ("original" if not kinds else "mixed")


def _share_identifier(a: Report, b: Report) -> bool:
    """Whether two reports carry one identifier (a pair strong links find)."""
    return bool(set(a.ref.identifiers) & set(b.ref.identifiers))


def _charged(a: Report, b: Report) -> set[str]:
    """The kinds a false link between ``a`` and ``b`` counts against.

    Each report's variant, and "mixed" when both are variants and differ: the kind the
    pair would have were it true.
    """
    kinds = {r.variant for r in (a, b)} - {"original", "decoy"}
    return kinds | {"mixed"} if len(kinds) == 2 else kinds


def evaluate_linkage(
    reports: Sequence[Report],
    blocker: Callable[[PersonRef], Iterable[str]],
    scorer: Callable[[PersonRef, PersonRef], float],
    threshold: float,
    curve: Sequence[float] = (),
) -> LinkageReport:
    """Judge a blocker and a scorer on labelled reports (see the module's docstring)."""
    by_id = {r.report_id: r for r in reports}
    true_pairs = {_pair(a.report_id, b.report_id) for a, b in pairs_of_one_person(reports)}
    # Strong identifiers.
    by_identifier: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        for key in r.ref.identifiers:
            by_identifier[key].append(r)
    strong = {
        _pair(a.report_id, b.report_id)
        for group in by_identifier.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
    }
    sharing = {p for p in true_pairs if _share_identifier(by_id[p[0]], by_id[p[1]])}
    strong_counts = Counts(
        len(strong & true_pairs), len(strong - true_pairs), len(sharing - strong)
    )
    decoys = sum(
        1
        for a, b in strong
        if by_id[a].entity != by_id[b].entity and "decoy" in (by_id[a].variant, by_id[b].variant)
    )
    # Candidates: pairs filed under a common key.
    candidates = {
        _pair(reports[i].report_id, reports[j].report_id)
        for i, j in candidate_pairs(blocker(r.ref) for r in reports)
    }
    variant_of = {p: _variant(by_id[p[0]], by_id[p[1]]) for p in true_pairs}
    kinds = set(variant_of.values())  # a kind no true pair has gets no row
    completeness: dict[str, float] = {}
    for v in sorted(set(variant_of.values())):
        of_variant = [p for p in true_pairs if variant_of[p] == v]
        completeness[v] = sum(p in candidates for p in of_variant) / len(of_variant)
    completeness["all"] = len(candidates & true_pairs) / len(true_pairs) if true_pairs else 1.0
    # Fuzzy links on the pairs that share no identifier.
    scores = {p: scorer(by_id[p[0]].ref, by_id[p[1]].ref) for p in candidates - strong}
    wanted = true_pairs - sharing

    def counts(at: float, wanted: set[Pair] = wanted) -> dict[str, Counts]:
        out: dict[str, Counts] = defaultdict(Counts)
        linked = {p for p, s in scores.items() if s >= at}
        for p in linked:
            v = variant_of.get(p, "false")
            if p in true_pairs and p not in wanted:
                continue  # a true pair left out of this count
            if p in wanted:
                out[v].tp += 1
                out["all"].tp += 1
            else:
                out["all"].fp += 1
                for kind in _charged(by_id[p[0]], by_id[p[1]]) & kinds:
                    out[kind].fp += 1
        for p in wanted - linked:
            out[variant_of[p]].fn += 1
            out["all"].fn += 1
        return dict(out)

    def clustered() -> dict[str, Counts]:
        """Pairs in one component of the links (strong and fuzzy): what networks join."""
        linked = strong | {p for p, sc in scores.items() if sc >= threshold}
        component = components(linked, by_id)
        members: dict[str, list[str]] = defaultdict(list)
        for report_id, root in component.items():
            members[root].append(report_id)
        out: dict[str, Counts] = defaultdict(Counts)
        for p in wanted:
            found = component[p[0]] == component[p[1]]
            for v in (variant_of[p], "all"):
                out[v].tp += found
                out[v].fn += not found
        out["all"].fp = sum(
            by_id[a].entity != by_id[b].entity
            for group in members.values()
            for i, a in enumerate(group)
            for b in group[i + 1 :]
        )
        return dict(out)

    return LinkageReport(
        reports=len(reports),
        true_pairs=len(true_pairs),
        candidates=len(candidates),
        completeness=completeness,
        strong=strong_counts,
        decoys_linked=decoys,
        fuzzy=counts(threshold),
        fuzzy_kept=counts(
            threshold, {p for p in wanted if not substituted(by_id[p[0]], by_id[p[1]])}
        ),
        curve=[(t, counts(t)["all"]) for t in curve],
        clustered=clustered(),
    )


def level_ceiling(
    reports: Sequence[Report],
    blocker: Callable[[PersonRef], Iterable[str]],
    compare: Callable[[PersonRef, PersonRef], Hashable],
    precision: float = TARGET_PRECISION,
) -> dict[str, float]:
    """The highest recall per kind a matcher scoring ``compare``'s levels could reach here.

    The candidate pairs (``blocker``'s, the only pairs a matcher scores) are grouped by their
    combination of comparison levels; for each kind, whole combinations are linked best
    first, by that kind's precision *judged with the labels*, as long as the kind's
    precision stays at ``precision`` or above. A bound, not a result: no matcher can tell
    apart two pairs with the same combination, this one is told which combinations are
    cleanest, and it may choose per kind (a matcher does not know a pair's kind). It is the
    bound of this blocking (pair completeness bounds it in turn). A false link counts
    against the kinds ``evaluate_linkage`` charges it to. Pairs sharing an identifier are
    left out (strong links find them).
    """
    idx = {r.report_id: i for i, r in enumerate(reports)}
    candidates = candidate_pairs(blocker(r.ref) for r in reports)
    true_of: dict[Hashable, Counter[str]] = defaultdict(Counter)
    false_of: dict[Hashable, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    true_pairs = set()
    for a, b in pairs_of_one_person(reports):
        i, j = sorted((idx[a.report_id], idx[b.report_id]))
        true_pairs.add((i, j))
        if _share_identifier(a, b):
            continue
        kinds = (_variant(a, b), "all")
        totals.update(kinds)
        if (i, j) in candidates:
            true_of[compare(a.ref, b.ref)].update(kinds)
    for i, j in candidates - true_pairs:
        a, b = reports[i], reports[j]
        if _share_identifier(a, b):
            continue
        false_of[compare(a.ref, b.ref)].update([*_charged(a, b), "all"])

    def bound(kind: str) -> float:
        """True pairs of the best selection: cleanest first, the last one in part.

        Cumulative precision only falls along the ranking, so this greedy fill (the last
        combination taken in the part that keeps ``precision``) is the linear relaxation's
        optimum: no selection of whole combinations finds more.
        """
        ranked = sorted(
            (c for c in true_of if true_of[c][kind]),
            key=lambda c: -true_of[c][kind] / (true_of[c][kind] + false_of[c][kind]),
        )
        found = wrong = 0.0
        for combination in ranked:
            t, f = true_of[combination][kind], false_of[combination][kind]
            share = 1.0
            room = found - precision * (found + wrong)  # false links the selection can take
            if room < precision * (t + f) - t:
                share = max(room, 0.0) / (precision * (t + f) - t)
            found, wrong = found + share * t, wrong + share * f
            if share < 1:
                break
        return found

    return {kind: bound(kind) / total for kind, total in totals.items()}
