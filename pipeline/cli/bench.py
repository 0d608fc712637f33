"""``hst bench`` (``make bench``): codec and publish throughput, medians of several runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

import typer
from rich.table import Table

from pipeline.cli import common
from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, generate
from pipeline.generate.synthetic import iter_ndjson
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.publisher import Publisher
from pipeline.settings import BrokerKind
from pipeline.stack.ephemeral import ephemeral_stack

if TYPE_CHECKING:  # annotations only: the bench imports the matcher when it runs
    from pipeline.core.linkage import Model


def _median_rate(runs: int, n: int, fn: Callable[[], object]) -> tuple[float, list[float]]:
    """Median of ``runs`` rates (items per second) of ``fn`` processing ``n`` items."""
    rates = []
    for _ in range(runs):
        gc.collect()  # the previous run's garbage is not this run's cost
        started = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - started))
    return statistics.median(rates), rates


def _matching_quality(validator: MessageValidator, count: int) -> None:
    """Cross-matching on generated ground truth: the stream's matcher before and after."""
    if not count:
        return
    from pipeline.core.linkage import default_model
    from pipeline.generate import baseline_matcher
    from pipeline.generate.evaluate import (
        Matcher,
        enriched_documents,
        evaluate,
        offline_person_links,
        stream_pairs,
    )

    data = generate(GeneratorConfig(count=count, seed=21))
    docs = enriched_documents(data, validator)
    model = default_model()
    matchers = {
        "before": Matcher(
            baseline_matcher.blocking_keys, baseline_matcher.score, baseline_matcher.THRESHOLD
        ),
        f"after ({model.version})": Matcher.of(model),
    }
    # What the match stage does per message: block, then decide every new candidate pair.
    per_message = {}
    for name, run in {
        "before": lambda: stream_pairs(
            docs,
            baseline_matcher.blocking_keys,
            lambda a, b: a if baseline_matcher.score(a, b) >= baseline_matcher.THRESHOLD else None,
        ),
        "after": lambda: offline_person_links(docs, model),
    }.items():
        rate, _ = _median_rate(3, len(docs), run)
        per_message[name] = 1000 / rate
    table = Table(
        "matcher",
        "links",
        "threshold",
        "precision",
        "recall",
        "true / false / missed",
        title=f"cross-matching on ground truth: {count:,} generated messages (held out: seed 21), "
        "pairs of persons in different messages",
    )
    for name, matcher in matchers.items():
        result = evaluate(docs, data.truth, matcher)
        for label, threshold, sc in [
            ("strong", "-", result.strong),
            *[
                ("fuzzy", f"{t:g}", sc)
                for t, sc in result.curve
                if t == matcher.threshold or name.startswith("after")
            ],
        ]:
            chosen = " (chosen)" if threshold == f"{matcher.threshold:g}" else ""
            table.add_row(
                name,
                label,
                threshold + chosen,
                f"{sc.precision:.3f}",
                f"{sc.recall:.3f}",
                f"{sc.true_positives:,} / {sc.false_positives:,} / {sc.false_negatives:,}",
            )
    common.console.print(table)
    common.console.print(
        "recall of strong links: of all true pairs; of fuzzy links: of the pairs that share no "
        f"identifier. Matching cost (the match stage's work, offline): "
        f"{per_message['before']:.2f} → {per_message['after']:.2f} ms per message"
    )


_LINKAGE_COLUMNS = (
    "variant",
    "completeness",
    "precision",
    "recall",
    "recall (kept)",
    "reachable",
)


def _person_linkage() -> None:
    """The probabilistic matcher against the old one, on the held-out labelled reports."""
    from pipeline.core import linkage
    from pipeline.generate import baseline_matcher, rule_baseline
    from pipeline.generate.linkage_eval import evaluate_linkage, level_ceiling
    from pipeline.generate.linkage_set import febrl_file, reports

    if febrl_file("dataset3.csv") is None:
        common.console.print("person linkage: FEBRL data not installed (make venv installs it)")
        return
    held_out = reports("report")
    model = linkage.load_model("person-febrl-v1")
    runs = {
        "before": (
            baseline_matcher.blocking_keys,
            baseline_matcher.score,
            baseline_matcher.THRESHOLD,
        ),
        "after": (
            model.keys,
            lambda a, b: model.score(a, b).probability,
            model.threshold,
        ),
        "rule": (model.keys, rule_baseline.score, rule_baseline.THRESHOLD),
    }
    results = {}
    seconds = {}
    for name, (blocker, scorer, threshold) in runs.items():
        started = time.perf_counter()
        results[name] = evaluate_linkage(
            held_out, blocker, scorer, threshold, curve=(0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
        )
        seconds[name] = time.perf_counter() - started
    before, after, rule = results["before"], results["after"], results["rule"]
    reachable = level_ceiling(held_out, model.keys, model.combination)
    table = Table(
        *_LINKAGE_COLUMNS,
        "in one set",
        title=f"person links on held-out reports (FEBRL 3 + variants: {after.reports:,} "
        f"reports, {after.true_pairs:,} true pairs): before → after ({model.version})",
    )
    for v in sorted(after.fuzzy):
        b, a = before.fuzzy.get(v), after.fuzzy[v]
        bk, ak = before.fuzzy_kept.get(v), after.fuzzy_kept.get(v)
        table.add_row(
            v,
            f"{before.completeness.get(v, 0):.3f} → {after.completeness.get(v, 0):.3f}",
            f"{b.precision if b else 1:.3f} → {a.precision:.3f}",
            f"{b.recall if b else 0:.3f} → {a.recall:.3f}",
            f"{bk.recall if bk else 0:.3f} → {ak.recall:.3f}" if ak else "-",
            f"{reachable[v]:.3f}" if v in reachable else "-",
            f"{before.clustered[v].recall:.3f} → {after.clustered[v].recall:.3f}"
            if v in after.clustered and v in before.clustered
            else "-",
        )
    common.console.print(table)
    common.console.print(
        f"strong identifiers: precision {after.strong.precision:.3f}, recall "
        f"{after.strong.recall:.3f}, decoys linked {after.decoys_linked}; candidates "
        f"{before.candidates:,} → {after.candidates:,}; evaluation time {seconds['before']:.1f} s "
        f"→ {seconds['after']:.1f} s (blocking + scoring every candidate pair)"
    )
    common.console.print(
        "plain baseline, recordlinkage's FEBRL example rule (3 of 4 agree: given and family "
        "name at Jaro-Winkler ≥ 0.85, full birth date, nationality) on the same candidates "
        f"as after: precision {rule.fuzzy['all'].precision:.3f}, recall "
        f"{rule.fuzzy['all'].recall:.3f} (kept {rule.fuzzy_kept['all'].recall:.3f})"
    )
    wrong = after.clustered["all"]
    common.console.print(
        "completeness: true pairs that are candidates (share a blocking key). in one set: "
        "linked directly or through other reports of the person, as networks join them; "
        f"the sets hold {wrong.fp:,} pairs of different persons against {wrong.tp:,} true pairs"
    )
    common.console.print(
        "recall (kept): on the true pairs whose names FEBRL did not swap for other names and "
        "whose birth dates it did not rewrite (3+ digits): what reports of two persons look like"
    )
    common.console.print(
        f"reachable: the highest recall any matcher comparing these levels on these candidates "
        f"could reach at precision {linkage.TARGET_PRECISION:g}, told by the labels which "
        "combinations of levels are clean (linkage_eval.level_ceiling): a recall under it is "
        "the model's to gain, the bound itself what the reports hold"
    )
    common.console.print(
        "threshold curve (after): "
        + ", ".join(f"p≥{t:g}: P {c.precision:.3f} R {c.recall:.3f}" for t, c in after.curve)
    )
    _second_held_out(model)
    _without_labels(model)


def _without_labels(labelled: Model) -> None:
    """A model fitted on the tune reports without their labels, on both held-out sets."""
    from pipeline.generate.linkage_em import fit_unlabelled
    from pipeline.generate.linkage_eval import evaluate_linkage
    from pipeline.generate.linkage_set import febrl_file, reports

    if febrl_file("dataset4b.csv") is None:
        return
    with common.console.status("fitting a model on FEBRL 1-2 without their labels..."):
        tune = [r.ref for r in reports("tune")]
        model = fit_unlabelled(tune, "unlabelled", "FEBRL 1-2", blocking=labelled.blocking)
    table = Table(
        "variant",
        "FEBRL 3: precision / recall",
        "FEBRL 4: precision / recall",
        title=f"fitted without labels (hst matching fit --unlabelled on FEBRL 1-2): threshold "
        f"{model.threshold}",
    )
    found = {}
    for split in ("report", "second"):
        found[split] = evaluate_linkage(
            reports(split), model.keys, lambda a, b: model.score(a, b).probability, model.threshold
        ).fuzzy
    for v in sorted(found["report"]):
        if v == "decoy":
            continue
        cells = [
            f"{c.precision:.3f} / {c.recall:.3f}" if (c := found[s].get(v)) else "-"
            for s in ("report", "second")
        ]
        table.add_row(v, *cells)
    common.console.print(table)


def _second_held_out(model: Model) -> None:
    """The same model on FEBRL 4: one duplicate per person, a population twice as large."""
    from pipeline.generate import rule_baseline
    from pipeline.generate.linkage_eval import evaluate_linkage, level_ceiling
    from pipeline.generate.linkage_set import febrl_file, reports

    if febrl_file("dataset4b.csv") is None:
        return
    second = reports("second")
    found = evaluate_linkage(
        second, model.keys, lambda a, b: model.score(a, b).probability, model.threshold
    )
    rule = evaluate_linkage(second, model.keys, rule_baseline.score, rule_baseline.THRESHOLD)
    reachable = level_ceiling(second, model.keys, model.combination)
    table = Table(
        *_LINKAGE_COLUMNS,
        "rule: precision / recall",
        title=f"second held-out set (FEBRL 4 + variants: {found.reports:,} reports, one "
        f"duplicate per person, {found.true_pairs:,} true pairs): {model.version}",
    )
    for v in sorted(found.fuzzy):
        if v == "decoy":
            continue
        a, k, r = found.fuzzy[v], found.fuzzy_kept.get(v), rule.fuzzy[v]
        table.add_row(
            v,
            f"{found.completeness.get(v, 0):.3f}",
            f"{a.precision:.3f}",
            f"{a.recall:.3f}",
            f"{k.recall:.3f}" if k else "-",
            f"{reachable[v]:.3f}" if v in reachable else "-",
            f"{r.precision:.3f} / {r.recall:.3f}",
        )
    common.console.print(table)
    common.console.print(
        f"strong identifiers: precision {found.strong.precision:.3f}, recall "
        f"{found.strong.recall:.3f}, decoys linked {found.decoys_linked}; rule: recordlinkage's "
        "FEBRL example rule on the same candidates"
    )


@contextlib.contextmanager
def _osmem(cfg: Any) -> Iterator[tuple[Any, int | None]]:
    """An osmem server on a free port beside the stack: (settings, pid)."""
    import tempfile
    from pathlib import Path

    from pipeline.stack.servers import OsmemServer, free_port

    server = OsmemServer(Path(tempfile.mkdtemp(prefix="hst-osmem-")), free_port())
    server.start(lambda _m: None)
    try:
        server.wait_ready(60)
        record = server.running()
        yield cfg.model_copy(update={"search_url": server.address}), record.pid if record else None
    finally:
        server.stop()


def bench(
    messages: int = typer.Option(10_000, help="Messages per publish run."),
    e2e_messages: int = typer.Option(3000, help="Messages in the end-to-end run (0 to skip)."),
    bulletin_messages: int = typer.Option(
        10_000, help="Messages indexed for the bulletin timing (0 to skip)."
    ),
    match_messages: int = typer.Option(
        3000, help="Generated messages for cross-matching precision/recall (0 to skip)."
    ),
    latency_rate: float = typer.Option(
        100.0,
        help="Offered load (msgs/s) of the end-to-end latency run (publish -> searchable, every "
        "stage on; the derived stages catch up after it, before the backlog run).",
    ),
    runs: int = typer.Option(5, help="Runs per measurement (the median is reported)."),
    broker: str = typer.Option(
        "auto", help="Broker for the publish benchmark: auto, kafka, tansu."
    ),
    compare_osmem: bool = typer.Option(
        False,
        "--compare-osmem",
        help="Also measure osmem's bulk ceiling on the same documents (extra nojdk).",
    ),
) -> None:
    """Measure codec, publish, cross-matching and end-to-end figures on a private stack.

    The stack (Apache Kafka + OpenSearch) is started for the run and removed after it. With
    HST_SEARCH_URL set, the end-to-end part measures that search engine instead (its CPU is
    then not reported).
    """
    if broker not in get_args(BrokerKind):
        msg = f"{broker!r} is not one of {get_args(BrokerKind)}"
        raise typer.BadParameter(msg, param_hint="--broker")
    console = common.console
    console.print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    data = generate(GeneratorConfig(count=messages, seed=42))
    codec = AvroCodec(HST_MESSAGE)
    validator = MessageValidator(codec.writer.raw)
    now = dt.datetime.now(tz=dt.UTC)
    records = [validator.validate(m, now=now) for m in data.messages]
    encoded = [codec.encode(r) for r in records]
    avg = sum(map(len, encoded)) / len(encoded)
    sample = records[:2000]
    sample_bytes = encoded[:2000]

    table = Table("measure", "median", "runs", title=f"HST message, {avg:,.0f} bytes on average")
    med, all_ = _median_rate(
        runs, len(sample), lambda: [validator.validate(m, now=now) for m in data.messages[:2000]]
    )
    table.add_row("validate JSON (records/s)", f"{med:,.0f}", " ".join(f"{r:,.0f}" for r in all_))
    _matching_quality(validator, match_messages)
    _person_linkage()
    med, all_ = _median_rate(runs, len(sample), lambda: [codec.encode(r) for r in sample])
    table.add_row(
        "encode, fastavro (records/s)", f"{med:,.0f}", " ".join(f"{r:,.0f}" for r in all_)
    )
    med, all_ = _median_rate(runs, len(sample), lambda: [codec.decode(b) for b in sample_bytes])
    table.add_row(
        "decode, fastavro (records/s)", f"{med:,.0f}", " ".join(f"{r:,.0f}" for r in all_)
    )
    import avro.io

    ref_writer = avro.io.DatumWriter(avro.schema.parse(codec.writer.json()))

    def ref_encode() -> None:
        for r in sample[:500]:
            ref_writer.write(r, avro.io.BinaryEncoder(io.BytesIO()))

    med, all_ = _median_rate(runs, 500, ref_encode)
    table.add_row(
        "encode, avro reference (records/s)", f"{med:,.0f}", " ".join(f"{r:,.0f}" for r in all_)
    )
    console.print(table)

    # HST_SEARCH_URL (with its credentials) benchmarks that engine instead of the embedded one.
    external = common.settings() if common.settings().search_url else None
    console.print("starting a private embedded stack for the publish benchmark...")
    with ephemeral_stack(cast(BrokerKind, broker), say=console.print, search=external) as cfg:
        ensure_topics(cfg)
        table = Table(
            "measure",
            "median",
            "runs",
            title=f"publish {messages:,} messages, acks=all, idempotent",
        )

        def publish_all() -> None:
            with Publisher(cfg) as pub:
                for r in records:
                    pub.publish(r)

        med, all_ = _median_rate(max(3, runs - 2), len(records), publish_all)
        table.add_row(
            "encode + publish (msgs/s)", f"{med:,.0f}", " ".join(f"{r:,.0f}" for r in all_)
        )
        lines = list(iter_ndjson(data))

        def validate_and_publish() -> None:
            with Publisher(cfg) as pub:
                for line in lines:
                    pub.publish_json(json.loads(line))

        med, all_ = _median_rate(max(3, runs - 2), len(lines), validate_and_publish)
        table.add_row(
            "parse + validate + publish (msgs/s)",
            f"{med:,.0f}",
            " ".join(f"{r:,.0f}" for r in all_),
        )
        console.print(table)
        if bulletin_messages:
            from pipeline.cli.bench_report import run_bulletin_bench
            from pipeline.search.client import sync_client
            from pipeline.search.index import ensure_search

            bulletin_cfg = cfg.model_copy(
                update={
                    "index_alias": "hst-bench-bulletin",
                    "links_alias": "hst-links-bench-bulletin",
                }
            )
            ensure_search(sync_client(bulletin_cfg), bulletin_cfg)
            run_bulletin_bench(bulletin_cfg, console, bulletin_messages, runs=3)
        if e2e_messages:
            from pipeline.cli.bench_e2e import run_e2e
            from pipeline.stack import Stack

            status = Stack(cfg).status()
            engine = status["search"]
            compare = []
            with contextlib.ExitStack() as extra:
                if compare_osmem:
                    compare.append(("osmem", *extra.enter_context(_osmem(cfg))))
                run_e2e(
                    cfg,
                    console,
                    e2e_messages,
                    batch=500,
                    latency_rate=latency_rate,
                    engine_pid=status[engine]["pid"] if engine else None,
                    broker_pid=status[status["broker"]]["pid"],
                    broker_log_dir=(
                        Path(status["kafka"]["log"]).parent / "data"
                        if status["broker"] == "kafka"
                        else None
                    ),
                    engine=(
                        f"{engine} {status[engine].get('version') or ''}".strip()
                        if engine
                        else f"search engine at {cfg.search_endpoint}"
                    ),
                    compare=compare,
                )
