"""``hst worker``: run one stream worker (Faust) against the configured broker and search."""

from __future__ import annotations

import logging

import typer

from pipeline.cli import common


def worker(
    name: str = typer.Option(
        "worker-1",
        "--name",
        envvar="HST_WORKER_NAME",
        help="Worker name: its RocksDB state lives in <data_dir>/workers/<name> (a StatefulSet passes the pod name).",
    ),
    web_port: int = typer.Option(
        6066,
        "--web-port",
        help="Port of the /health, /ready and /metrics endpoint (address: HST_WEB_BIND).",
    ),
    loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning or error."),
    batch_size: int = typer.Option(
        1000,
        help="Most documents per bulk request (under load a batch is what arrived while the previous request was in flight).",
    ),
    batch_within: float = typer.Option(
        0.5, help="Seconds an idle writer lingers to gather a batch (latency at low load)."
    ),
) -> None:
    """Run a worker: validate, deduplicate, enrich and index HST messages.

    Topics and the index are created first (idempotent). Several workers with different
    --name and --web-port share the partitions of one consumer group.
    """
    from faust.worker import Worker

    from pipeline.core.geo import reference_points
    from pipeline.kafka.admin import ensure_topics
    from pipeline.search.client import sync_client
    from pipeline.search.index import ensure_search
    from pipeline.stream.app import Pipeline

    cfg = common.settings()
    level = logging.getLevelName(loglevel.upper())
    logging.basicConfig(level=level)
    # Faust's worker leaves the root logger at DEBUG (its handler filters), so every debug
    # call in aiokafka and Faust built a record: 9 % of the worker's CPU under load
    # (py-spy). The libraries' and this package's loggers get the level asked for.
    for library in ("aiokafka", "faust", "mode", "pipeline", "asyncio", "elasticsearch"):
        logging.getLogger(library).setLevel(level)
    # One line per HTTP request at INFO drowns the worker log.
    logging.getLogger("elastic_transport").setLevel(max(logging.WARNING, level))
    # "producer buffer full": Faust's normal backpressure on table changelog writes under a
    # backlog, logged at WARNING for every wait (hundreds of lines per minute); not a fault.
    logging.getLogger("faust.transport.producer").setLevel(max(logging.ERROR, level))
    ensure_topics(cfg)
    ensure_search(sync_client(cfg), cfg)  # never write into an index without the template
    # The countries' reference points load in 1.3 s: now, not inside the first event.
    reference_points()
    pipeline = Pipeline(cfg, worker_name=name, web_port=web_port, batch_size=batch_size,
                        batch_within=batch_within)  # fmt: skip
    Worker(pipeline.app, loglevel=loglevel).execute_from_commandline()
