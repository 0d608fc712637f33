"""``hst run`` (what ``make run`` does): the main job on the embedded stack."""

from __future__ import annotations

import typer

from pipeline.cli import common
from pipeline.cli.publish import publish_stream
from pipeline.generate import GeneratorConfig, generate
from pipeline.generate.synthetic import iter_ndjson
from pipeline.kafka.admin import ensure_topics
from pipeline.stack import Stack, StackError


def run(
    count: int = typer.Option(5000, "--count", "-n", help="Messages to generate and publish."),
    seed: int = typer.Option(1, "--seed", help="Generator seed."),
) -> None:
    """Bring the embedded stack up, create the topics, generate a data set and publish it."""
    cfg = common.settings()
    console = common.console
    console.rule("[bold]1. embedded stack")
    try:
        info = Stack(cfg).up(say=lambda m: console.print(f"[yellow]{m}[/]"))
    except StackError as exc:
        common.err_console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"broker {info['broker']} at {info['bootstrap_servers']}; search at {info['search_url']}"
    )
    console.rule("[bold]2. topics")
    for name, state in ensure_topics(cfg).items():
        console.print(f"{name:16} {state}")
    console.rule(f"[bold]3. generate {count:,} messages (seed {seed})")
    data = generate(GeneratorConfig(count=count, seed=seed))
    path = cfg.data_dir / f"demo-{seed}-{count}.ndjson"
    path.write_text("\n".join(iter_ndjson(data)) + "\n", encoding="utf-8")
    console.print(", ".join(f"{k}={v}" for k, v in data.kinds.items()) + f" -> {path}")
    console.rule("[bold]4. publish as the NCB gateways would")
    with path.open(encoding="utf-8") as stream:
        result = publish_stream(stream, ncb=None, dry_run=False, total=count)
    rate = result.published / result.seconds if result.seconds else 0.0
    console.print(
        f"[green]published {result.published:,}[/] rejected {len(result.rejected)} "
        f"in {result.seconds:.1f}s ({rate:,.0f} msg/s) to {cfg.topic_inbound}"
    )
    console.rule("[bold]next")
    console.print("inspect: hst stack status | stop: make stop (hst stack down)")
