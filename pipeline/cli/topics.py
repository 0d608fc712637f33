"""``hst topics``: create the pipeline's topics."""

from __future__ import annotations

import typer

from pipeline.cli import common
from pipeline.kafka.admin import ensure_topics, pipeline_topics

app = typer.Typer(help="Kafka topics of the pipeline.")


@app.command("create")
def create() -> None:
    """Create every topic with explicit partitions and settings (harmless when they exist)."""
    cfg = common.settings()
    specs = {s.name: s for s in pipeline_topics(cfg)}
    for name, state in ensure_topics(cfg).items():
        spec = specs[name]
        common.console.print(
            f"{name:20} {state:8} partitions={spec.partitions} rf={spec.replication_factor}"
        )
