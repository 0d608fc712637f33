"""``hst matching``: fit and judge a person-matching model; refile; links by model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pipeline.cli.common import console
from pipeline.core.linkage import (
    BLOCKING_RULES,
    DEFAULT_BLOCKING,
    DEFAULT_MODEL,
    TARGET_PRECISION,
    U_SAMPLES,
    load_model,
)

if TYPE_CHECKING:
    from pipeline.generate.linkage_set import Report

app = typer.Typer(
    help="Person matching: fit a model on your own labelled reports (NDJSON, one report per "
    'line: {"entity": ..., "person": {...}}) or judge a model on them; after a model change, '
    "refile the live persons and see which links each model made."
)

_BLOCKING_HELP = (
    "Blocking rules, comma-separated: ky (name key + birth year), kmd (name key + month and "
    "day), kk (two name keys), kf (name key + another name's initial), dob (full birth date), "
    "ppy (two name keys' first two letters + birth year)."
)


def _labelled(path: Path, *, unlabelled: bool = False) -> list[Report]:
    from pipeline.generate.linkage_set import LabelledError, read_labelled

    try:
        reports = read_labelled(path, labelled=not unlabelled)
    except (OSError, LabelledError) as e:
        console.print(f"[red]error:[/] {e}", soft_wrap=True)
        raise typer.Exit(1) from None
    if not unlabelled and len({r.entity for r in reports}) == len(reports):
        console.print(
            f"[red]error:[/] {path}: no two reports share an entity: nothing to learn",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    return reports


@app.command("fit")
def fit(
    labelled: Path = typer.Argument(..., help="Reports (NDJSON), labelled unless --unlabelled."),
    name: str = typer.Option(..., "--name", help="The model's version, e.g. person-ita-v1."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (JSON)."),
    precision: float | None = typer.Option(
        None,
        min=0.5,
        max=1.0,
        help="Precision the threshold must keep on these reports (default 0.995; 0.999 "
        "with --unlabelled, where it is the model's own estimate, optimistic among common "
        "names).",
        show_default=False,
    ),
    samples: int = typer.Option(
        U_SAMPLES,
        min=1000,
        help="Pairs of different persons u is estimated on: all of them when there are no "
        "more, else a random sample of this many.",
    ),
    blocking: str = typer.Option(",".join(DEFAULT_BLOCKING), help=_BLOCKING_HELP),
    unlabelled: bool = typer.Option(
        False,
        "--unlabelled",
        help="The reports carry no entity (nobody knows which are one person): m by "
        "expectation-maximisation, the threshold by the model's own expected precision.",
    ),
) -> None:
    """Estimate m, u, the prior and the threshold from reports; write a model file.

    Labelled reports (two lines with one entity are one person) give m and the threshold
    directly. With --unlabelled, u comes from random pairs, m from EM over the pairs that
    share a birth date (names) or two names (birth dates), and the threshold keeps the
    model's own expected precision: fewer links than a labelled fit, as precise. Point
    HST_PERSON_MODEL at the file to have the stream use it, then `hst matching refile`.
    """
    from pipeline.generate.linkage_em import TooFewPairsError, fit_unlabelled
    from pipeline.generate.linkage_fit import fit_model, u_pair_count, write_model

    reports = _labelled(labelled, unlabelled=unlabelled)
    precision = precision or (0.999 if unlabelled else 0.995)
    rules = tuple(r.strip() for r in blocking.split(",") if r.strip())
    unknown = set(rules) - set(BLOCKING_RULES)
    if unknown:
        msg = f"unknown blocking rules: {', '.join(sorted(unknown))}"
        raise typer.BadParameter(msg, param_hint="--blocking")
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        total = samples if unlabelled else u_pair_count(reports, samples)
        task = progress.add_task(f"estimating u on {len(reports):,} reports", total=total)

        def advance(pairs: int) -> None:
            progress.advance(task, pairs)

        try:
            if unlabelled:
                model = fit_unlabelled([r.ref for r in reports], name, str(labelled.name),
                                       samples, precision, blocking=rules, advance=advance)  # fmt: skip
            else:
                model = fit_model(reports, name, str(labelled.name), samples, precision,
                                  blocking=rules, advance=advance)  # fmt: skip
        except TooFewPairsError as e:
            console.print(f"[red]error:[/] {labelled}: {e}", soft_wrap=True)
            raise typer.Exit(1) from None
    write_model(model, out)
    console.print(
        f"{name}: threshold {model.threshold}, prior {model.prior:.3g}, blocking "
        f"{', '.join(model.blocking)} -> {out}"
    )


@app.command("evaluate")
def evaluate(
    labelled: Path = typer.Argument(..., help="Labelled reports (NDJSON)."),
    model_name: str = typer.Option(
        DEFAULT_MODEL, "--model", help="A shipped model's name or a model file's path."
    ),
    precision: float = typer.Option(
        TARGET_PRECISION,
        "--precision",
        min=0.5,
        max=1.0,
        help="The precision the reachable recall is computed at.",
    ),
) -> None:
    """Pair completeness, strong and fuzzy precision and recall (per kind) of a model.

    "reachable" is the highest recall any matcher comparing what this model compares (on
    the same candidates) could reach at --precision, told by the labels which combinations
    of levels are clean: a kind far under it is the model's to gain; one near it is what
    the reports hold.
    """
    from pipeline.generate.linkage_eval import evaluate_linkage, level_ceiling

    reports = _labelled(labelled)
    try:
        model = load_model(model_name)
    except ValueError as e:
        console.print(f"[red]error:[/] {e}", soft_wrap=True)
        raise typer.Exit(1) from None
    result = evaluate_linkage(
        reports,
        model.keys,
        lambda a, b: model.score(a, b).probability,
        model.threshold,
        curve=(0.5, 0.8, 0.9, 0.95, 0.99),
    )
    reachable = level_ceiling(reports, model.keys, model.combination, precision)
    table = Table(
        "kind",
        "pair completeness",
        "precision",
        "recall",
        f"reachable at P≥{precision:g}",
        title=f"{model.version} on {labelled.name}: {result.reports:,} reports, "
        f"{result.true_pairs:,} true pairs (fuzzy: pairs that share no identifier)",
    )
    for kind, counts in sorted(result.fuzzy.items()):
        table.add_row(
            kind,
            f"{result.completeness.get(kind, 0):.3f}",
            f"{counts.precision:.3f}",
            f"{counts.recall:.3f}",
            f"{reachable[kind]:.3f}" if kind in reachable else "-",
        )
    console.print(table)
    console.print(
        f"strong identifiers: precision {result.strong.precision:.3f}, recall "
        f"{result.strong.recall:.3f}; threshold curve: "
        + ", ".join(f"p≥{t:g}: P {c.precision:.3f} R {c.recall:.3f}" for t, c in result.curve)
    )


@app.command("refile")
def refile(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Read and count what would be sent; send nothing."
    ),
) -> None:
    """File every live person again under the keys of the model the workers run.

    Run it once the workers run a release that changes name keys or a new model, with the
    workers' HST_PERSON_MODEL: persons reported before are then found through the new keys,
    and pairs of them the new model links are linked (networks and notices follow). Persons
    are read from the enriched topic; the match stage matches each again under each key,
    so links it made already come again with the same ids (recorded once). Links made
    before stay. Safe to run again: it adds nothing, and remakes a link lost to a crash.
    """
    from pipeline.cli import common
    from pipeline.kafka.logread import LogReadError
    from pipeline.stream.refile import RefileError
    from pipeline.stream.refile import refile as refile_persons

    cfg = common.settings()
    try:
        model = load_model(cfg.person_model)
    except ValueError as e:
        console.print(f"[red]error:[/] {e}", soft_wrap=True)
        raise typer.Exit(1) from None
    with common.phase_progress(lambda _phase: "msgs") as progress:
        try:
            result = refile_persons(cfg, model, dry_run=dry_run, progress=progress)
        except (LogReadError, RefileError) as e:
            console.print(f"[red]refile failed:[/] {e}", soft_wrap=True)
            raise typer.Exit(1) from None
    verb = "would send" if dry_run else "sent"
    console.print(
        f"{result.persons:,} persons of {result.documents:,} live messages under "
        f"{model.version}'s keys: {verb} {result.requests:,} requests in {result.records:,} "
        f"records to {cfg.topic_match}"
    )


@app.command("links")
def links() -> None:
    """Fuzzy links in the index by the person model that made them.

    Each fuzzy link records its model: version and a digest of its weights. After a new
    model and `hst matching refile`, every link the new model makes carries its stamp; a
    link still stamped by an earlier model is one the new model did not make again. No link
    is withdrawn: review them in Kibana (kind:fuzzy_person and not model:"<the stamp>").
    """
    from pipeline.cli import common
    from pipeline.search.client import sync_client
    from pipeline.search.query import NO_STAMP, fuzzy_links_by_model

    cfg = common.settings()
    try:
        current = load_model(cfg.person_model).stamp
    except ValueError as e:
        console.print(f"[red]error:[/] {e}", soft_wrap=True)
        raise typer.Exit(1) from None
    counts = fuzzy_links_by_model(sync_client(cfg), cfg.links_alias)
    table = Table("model", "fuzzy links", "", title=f"fuzzy links in {cfg.links_alias}")
    for stamp, n in sorted(counts.items(), key=lambda kv: (kv[0] != current, -kv[1])):
        note = {current: "the workers' model (HST_PERSON_MODEL)",
                NO_STAMP: "made before links recorded their model"}.get(stamp, "an earlier model")  # fmt: skip
        table.add_row(common.esc(stamp), f"{n:,}", note)
    console.print(table)
    others = sum(n for stamp, n in counts.items() if stamp != current)
    console.print(
        f"{others:,} of {sum(counts.values()):,} fuzzy links were not made by {current}"
        + (
            " (run `hst matching refile` after a model change to remake its links)"
            if others
            else ""
        )
    )
