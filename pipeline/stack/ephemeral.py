"""A throw-away stack on free ports in a temporary directory (tests, benchmarks)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.settings import BrokerKind, Settings
from pipeline.stack.servers import Say, free_ports
from pipeline.stack.stack import Stack

_SEARCH_FIELDS = ("search_url", "search_username", "search_password", "search_api_key",
                  "search_ca_certs", "search_compat_headers")  # fmt: skip


@contextlib.contextmanager
def ephemeral_stack(
    broker: BrokerKind = "auto",
    *,
    say: Say = lambda _m: None,
    keep: bool = False,
    search: Settings | None = None,
) -> Iterator[Settings]:
    """Start a private stack; yield settings pointing at it; stop it by pid and clean up.

    ``search``: settings of an external search engine (URL, credentials) to use instead of
    starting the embedded one (e.g. to prove the project on a production Elasticsearch).
    """
    root = Path(tempfile.mkdtemp(prefix="hst-stack-"))
    kafka_port, controller_port, search_port, transport_port = free_ports(4)  # distinct
    settings = Settings(
        data_dir=root,
        broker=broker,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        search_port=search_port,
        search_transport_port=transport_port,
    )
    stack = Stack(settings)
    try:
        info = stack.up(say=say, search=search is None)
        if search is None:
            # OpenSearch (or osmem) spoken to with the Elasticsearch client.
            engine = {"search_url": info["search_url"], "search_compat_headers": True}
        else:
            engine = {name: getattr(search, name) for name in _SEARCH_FIELDS}
        yield settings.model_copy(update={"bootstrap_servers": info["bootstrap_servers"], **engine})
    finally:
        stack.down()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
