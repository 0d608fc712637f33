"""``hst``: command line of the HST pipeline."""

from __future__ import annotations

import typer

from pipeline.cli import acks as acks_cmd
from pipeline.cli import bench as bench_cmd
from pipeline.cli import certs as certs_cmd
from pipeline.cli import generate as generate_cmd
from pipeline.cli import inbox as inbox_cmd
from pipeline.cli import kibana as kibana_cmd
from pipeline.cli import matching as matching_cmd
from pipeline.cli import ops, replay, schemas, stack, topics
from pipeline.cli import publish as publish_cmd
from pipeline.cli import reindex as reindex_cmd
from pipeline.cli import report as report_cmd
from pipeline.cli import retention as retention_cmd
from pipeline.cli import run as run_cmd
from pipeline.cli import search as search_cmd
from pipeline.cli import security as security_cmd
from pipeline.cli import worker as worker_cmd

app = typer.Typer(
    name="hst",
    help="HST pipeline: NCB messages on migrant smuggling and trafficking, from Kafka to search.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(certs_cmd.app, name="certs")
app.add_typer(kibana_cmd.app, name="kibana")
app.add_typer(security_cmd.app, name="security")
app.add_typer(retention_cmd.app, name="retention")
app.command("setup")(kibana_cmd.setup)
app.add_typer(schemas.app, name="schemas")
app.add_typer(matching_cmd.app, name="matching")
app.add_typer(topics.app, name="topics")
app.command("publish")(publish_cmd.publish)
app.command("generate")(generate_cmd.generate_cmd)
app.command("run")(run_cmd.run)
app.command("bench")(bench_cmd.bench)
app.command("worker")(worker_cmd.worker)
app.command("search")(search_cmd.search)
app.command("stats")(ops.stats)
app.command("inbox")(inbox_cmd.inbox)
app.command("acks")(acks_cmd.acks)
app.command("network")(inbox_cmd.network)
app.command("report")(report_cmd.report)
app.command("reindex")(reindex_cmd.reindex)
app.add_typer(ops.dlq_app, name="dlq")
app.add_typer(replay.app, name="replay")


def main() -> None:
    """The ``hst`` command.

    An error of the project's, or a server's refusal or silence, ends with one readable line
    and exit 1; anything else is a defect and keeps its traceback.
    """
    import logging

    from pipeline.cli.common import err_console, esc, server_failure
    from pipeline.errors import HstError
    from pipeline.settings import KAFKA_CLIENT_LOGGER

    # The Kafka client's warnings are retries it recovers from; its errors are shown.
    logging.getLogger(KAFKA_CLIENT_LOGGER).setLevel(logging.ERROR)

    try:
        app()
    except HstError as exc:
        err_console.print(f"[red]error:[/] {esc(exc)}")
        raise SystemExit(1) from None
    except Exception as exc:
        line = server_failure(exc)
        if line is None:
            raise
        err_console.print(f"[red]error:[/] {esc(line)}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
