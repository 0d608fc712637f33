"""``hst generate``: deterministic synthetic HST messages."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer

from pipeline.cli.common import err_console
from pipeline.core.coerce import parse_timestamp
from pipeline.generate import DEFAULT_UNTIL, GeneratorConfig, generate
from pipeline.generate.synthetic import iter_ndjson


def generate_cmd(
    count: int = typer.Option(1000, "--count", "-n", min=1, help="Number of records to write."),
    seed: int = typer.Option(
        1, "--seed", "-s", help="Random seed: the same seed gives the same output."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="NDJSON output file (default: stdout)."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="Write the ground truth (message -> person -> true identity) as JSON."
    ),
    until: str = typer.Option(
        DEFAULT_UNTIL.isoformat(), help="Latest event/creation time (ISO-8601 with zone)."
    ),
    resend_share: float = typer.Option(0.05, min=0, max=1, help="Share of exact re-sends."),
    duplicate_share: float = typer.Option(
        0.03, min=0, max=1, help="Share of content duplicates (new id)."
    ),
    reuse_share: float = typer.Option(
        0.35, min=0, max=1, help="Chance a person is one seen before."
    ),
) -> None:
    """Write realistic synthetic HST messages as NDJSON (invented persons, real geography).

    Includes exact re-sends, content duplicates under a new message_id, updates and
    withdrawals, and the same persons reported by different NCBs under other spellings,
    scripts and formats, so deduplication and cross-matching can be tested.
    """
    config = GeneratorConfig(count=count, seed=seed, until=parse_timestamp(until),
                             resend_share=resend_share, content_duplicate_share=duplicate_share,
                             reuse_share=reuse_share)  # fmt: skip
    if config.until > dt.datetime.now(tz=dt.UTC):
        err_console.print(
            "[yellow]warning:[/] --until is in the future: such messages will be rejected"
        )
    result = generate(config)
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for line in iter_ndjson(result):
            sink.write(line + "\n")
    finally:
        if out:
            sink.close()
    if truth:
        truth.write_text(json.dumps(result.truth, indent=1))
    kinds = ", ".join(f"{k}={v}" for k, v in result.kinds.items())
    err_console.print(f"generated {len(result.messages):,} records (seed {seed}): {kinds}")
