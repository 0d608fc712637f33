"""Estimate the person-matching model (``core.linkage``) from labelled reports.

m: the levels of every true pair (two reports of one person); u: the levels of every pair
of different persons when there are at most ``samples`` pairs, else of a seeded random
sample of that many (2 million by default: the strong levels are rare among different
persons, a few in a million, and a small sample leaves their u at the smoothing's floor,
understating the evidence a close name gives); prior: the share of true pairs among all
pairs. The threshold is the lowest probability whose links keep a precision of ``precision`` on the
candidate pairs of the same labelled reports. Only tune data is used: FEBRL 1-2 for
``person-febrl-v1``, generated messages of seeds no test or benchmark reads for
``person-hst-v1``. ``python -m pipeline.generate.linkage_fit`` (``make models``) writes both.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipeline.core.linkage import (
    DEFAULT_BLOCKING,
    U_SAMPLES,
    Model,
    common_keys,
    estimate,
    levels,
)
from pipeline.generate.linkage_eval import evaluate_linkage, pairs_of_one_person
from pipeline.generate.linkage_set import Report, generated_reports, reports

MODELS = Path(__file__).resolve().parent.parent / "core" / "models"
HST_TUNE_SEEDS = (1001, 1002)  # generated tune data: seeds no test or benchmark uses

PROGRESS_STEP = 20_000  # pairs of different persons between two progress reports
THRESHOLDS = (*(round(0.5 + i / 100, 2) for i in range(50)), 0.995, 0.999, 0.9999)


def fit_model(
    labelled: Sequence[Report],
    version: str,
    trained_on: str,
    samples: int = U_SAMPLES,
    precision: float = 0.995,
    seed: int = 7,
    blocking: Sequence[str] = DEFAULT_BLOCKING,
    advance: Callable[[int], object] | None = None,
) -> Model:
    """The model estimated from ``labelled`` (see the module's docstring).

    ``advance(k)`` is told every ``PROGRESS_STEP`` pairs of different persons compared, out
    of ``u_pair_count(labelled, samples)`` (the bulk of the work).
    """
    common_list = common_keys(r.ref for r in labelled)
    common = frozenset(common_list)
    true = [levels(a.ref, b.ref, common) for a, b in pairs_of_one_person(labelled)]
    n = len(labelled)
    prior = len(true) / (n * (n - 1) / 2)
    other = (
        levels(a.ref, b.ref, common) for a, b in _other_pairs(labelled, samples, seed, advance)
    )
    model = estimate(true, other, prior, 0.5, trained_on, version, blocking, common_list)
    # One evaluation gives every threshold's figures (the scores do not depend on it).
    curve = evaluate_linkage(
        labelled, model.keys, lambda a, b: model.score(a, b).probability, 0.5, THRESHOLDS
    ).curve
    model.threshold = next((t for t, c in curve if c.precision >= precision), model.threshold)
    return model


def _every_pair(labelled: Sequence[Report], samples: int) -> bool:
    """Whether u is estimated on every pair (there are no more than ``samples``)."""
    return len(labelled) * (len(labelled) - 1) // 2 <= samples


def u_pair_count(labelled: Sequence[Report], samples: int = U_SAMPLES) -> int:
    """How many pairs of different persons a fit compares to estimate u."""
    if not _every_pair(labelled, samples):
        return samples
    n = len(labelled)
    same = sum(k * (k - 1) // 2 for k in Counter(r.entity for r in labelled).values())
    return n * (n - 1) // 2 - same


def _other_pairs(
    labelled: Sequence[Report],
    samples: int,
    seed: int,
    advance: Callable[[int], object] | None = None,
) -> Iterator[tuple[Report, Report]]:
    """Every pair of different persons if there are at most ``samples``, else a sample."""
    if len({r.entity for r in labelled}) < 2:
        return  # one person: no pair of different ones to draw
    if _every_pair(labelled, samples):
        pairs: Iterable[tuple[Report, Report]] = (
            (a, b) for i, a in enumerate(labelled) for b in labelled[i + 1 :]
        )
    else:
        rng = random.Random(seed)
        pairs = ((rng.choice(labelled), rng.choice(labelled)) for _ in itertools.count())
    drawn = 0
    for a, b in pairs:
        if a.entity == b.entity:
            continue
        yield a, b
        drawn += 1
        if advance is not None and drawn % PROGRESS_STEP == 0:
            advance(PROGRESS_STEP)
        if drawn == samples:
            break
    if advance is not None and drawn % PROGRESS_STEP:
        advance(drawn % PROGRESS_STEP)


def write_model(model: Model, path: Path) -> None:
    """Write a model file (sorted keys, so a re-fit shows as a readable diff)."""
    path.write_text(json.dumps(model.to_dict(), indent=1, sort_keys=True) + "\n")


def _hst_tune() -> list[Report]:
    """The generated tune reports ``person-hst-v1`` is fitted on."""
    return [r for seed in HST_TUNE_SEEDS for r in generated_reports(seed, 3000)]


def main() -> None:
    """Fit and write the shipped models from their tune data."""
    # Blocking, measured on each population's held-out set: FEBRL's names are many and
    # varied, so a name key with another name's initial is cheap and finds pairs with a typo
    # in each name (pair completeness 0.780 -> 0.857). Among HST reports' common names it
    # costs 3 times the match stage's work, and two name keys without a date twice, for no
    # link the threshold lets through: the HST model blocks on dates only. Two names' key
    # prefixes with the year find a typo late in each name (FEBRL 3 year only: pair
    # completeness 0.936 -> 0.944) for 0.3 % more candidates; the HST model, which links no
    # year-only pair, gains nothing from it.
    seeds = ", ".join(map(str, HST_TUNE_SEEDS))
    febrl = ("ky", "kmd", "kf", "dob", "ppy")
    hst = ("ky", "kmd", "dob")
    plans: list[tuple[str, str, Callable[[], list[Report]], tuple[str, ...]]] = [
        ("person-febrl-v1", "FEBRL 1-2 with variants", lambda: reports("tune"), febrl),
        ("person-hst-v1", f"generated HST messages, seeds {seeds} (3,000 each)", _hst_tune, hst),
    ]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn()) as progress:
        for version, trained_on, tune_data, blocking in plans:
            task = progress.add_task(f"{version}: reading its tune data", total=None)
            labelled = tune_data()
            progress.update(
                task, description=f"{version}: estimating u", total=u_pair_count(labelled)
            )
            model = fit_model(
                labelled,
                version,
                trained_on,
                blocking=blocking,
                advance=functools.partial(progress.advance, task),
            )
            write_model(model, MODELS / f"{version}.json")
            progress.console.print(
                f"{version}: threshold {model.threshold}, prior {model.prior:.3g}"
            )


if __name__ == "__main__":
    main()
