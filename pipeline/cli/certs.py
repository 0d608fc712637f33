"""``hst certs``: a private CA and server certificates for TLS listeners."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli import common

app = typer.Typer(help="A private certificate authority and certificates for Kafka, Elasticsearch and Kibana.",
                  no_args_is_help=True)  # fmt: skip


@app.command("create")
def create(
    out: Path = typer.Option(..., "--out", help="Directory for ca.pem, ca.key and <host>.pem|.key|.keystore.pem."),
    hosts: list[str] = typer.Option(..., "--host", help="HOST[=NAME,NAME...]: a certificate for HOST valid for the names (DNS or IP), e.g. kafka-1=kafka-1,localhost,127.0.0.1."),

    days: int = typer.Option(825, "--days", min=1, help="Validity in days."),
) -> None:  # fmt: skip
    """Create a CA (kept if ``ca.pem`` exists) and one certificate per --host.

    To encrypt the keystores' keys (PBES2; Kafka's PEM loader cannot read those: leave it
    unset for Kafka), set HST_KEYSTORE_PASSWORD: never on the command line, where ``ps``
    and the shell history would show it.
    """
    import os

    from pipeline.stack.certs import create_ca, issue

    keystore_password = os.environ.get("HST_KEYSTORE_PASSWORD") or None

    if not (out / "ca.pem").exists():
        create_ca(out, days=days)
        common.console.print(f"created CA {out / 'ca.pem'}")
    for spec in hosts:
        host, _, names = spec.partition("=")
        issued = issue(
            out, host, [n for n in names.split(",") if n] or [host], keystore_password, days
        )
        common.console.print(f"{host}: {issued.cert}, {issued.key}, {issued.keystore}")
