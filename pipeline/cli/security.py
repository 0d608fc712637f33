"""``hst security``: Kafka users and ACLs for the workers and each NCB."""

from __future__ import annotations

import os

import typer
from rich.table import Table

from pipeline.cli import common

app = typer.Typer(help="Kafka principals and ACLs (run as a super user: HST_SASL_USERNAME=admin).",
                  no_args_is_help=True)  # fmt: skip


def _acl_rows(bindings: list) -> Table:  # type: ignore[type-arg]
    table = Table("principal", "operation", "resource", "name", "pattern")
    for b in bindings:
        table.add_row(
            b.principal, b.operation.name, b.restype.name, b.name, b.resource_pattern_type.name
        )
    return table


@app.command("acls")
def acls(
    ncbs: list[str] = typer.Option([], "--ncb", help="NCB (alpha-3); repeat. Each must be in HST_NCBS."),
    worker: str = typer.Option("hst-worker", "--worker", help="The workers' Kafka user."),
) -> None:  # fmt: skip
    """Print the ACLs `provision` would create (nothing is changed)."""
    from pipeline.kafka.security import ncb_acls, worker_acls

    cfg = common.settings()
    try:
        bindings = worker_acls(cfg, worker) + [b for n in ncbs for b in ncb_acls(cfg, n)]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    common.console.print(_acl_rows(bindings))


@app.command("provision")
def provision_cmd(
    ncbs: list[str] = typer.Option([], "--ncb", help="NCB (alpha-3) to create as user ncb-<NCB>; repeat. Each must be in HST_NCBS."),
    worker: str = typer.Option("hst-worker", "--worker", help="The workers' Kafka user."),
) -> None:  # fmt: skip
    """Create (or update) the SCRAM users and their ACLs; topics first (idempotent).

    Passwords come from the environment, never the command line: HST_WORKER_PASSWORD for
    the workers, HST_NCB_PASSWORD_<NCB> for each NCB.
    """
    from pipeline.kafka.admin import ensure_topics
    from pipeline.kafka.security import ncb_principal, provision

    cfg = common.settings()
    names = {
        "HST_WORKER_PASSWORD": worker,
        **{f"HST_NCB_PASSWORD_{n.upper()}": ncb_principal(n) for n in ncbs},
    }
    missing = [var for var in names if not os.environ.get(var)]
    if missing:
        msg = f"set {', '.join(missing)} in the environment"
        raise typer.BadParameter(msg)
    ensure_topics(cfg)
    try:
        provision(cfg, (worker, os.environ["HST_WORKER_PASSWORD"]),
                  {n.upper(): os.environ[f"HST_NCB_PASSWORD_{n.upper()}"] for n in ncbs})  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    common.console.print(f"users {', '.join(names.values())} and their ACLs are in place")
