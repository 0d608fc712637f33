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


@contextlib.contextmanager
def ephemeral_stack(
    broker: BrokerKind = "auto", *, say: Say = lambda _m: None, keep: bool = False
) -> Iterator[Settings]:
    """Start a private stack; yield settings pointing at it; stop it by pid and clean up."""
    root = Path(tempfile.mkdtemp(prefix="hst-stack-"))
    kafka_port, controller_port, search_port = free_ports(3)  # distinct
    settings = Settings(
        data_dir=root,
        broker=broker,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        search_port=search_port,
    )
    stack = Stack(settings)
    try:
        info = stack.up(say=say)
        yield settings.model_copy(
            update={
                "bootstrap_servers": info["bootstrap_servers"],
                "search_url": info["search_url"],
                "search_compat_headers": True,  # the embedded OpenSearch-compatible server
            }
        )
    finally:
        stack.down()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
