"""The Faust worker: one app, the topology's topics and tables, nine thin agents.

The stages live in their own modules (``ingest``, ``indexing``, ``matching``, ``networks``,
``diffusion``, ``synthesis``), each a small class given exactly what it uses; this module
only wires them (``pipeline.topology`` declares the topics and tables):

1. validate   inbound(+.<NCB>) -> content                     ``ingest.Validate``
2. dedupe     content [content] -> lineage                     ``ingest.Dedupe``
3. index      lineage [lineage] -> hst-messages, enriched, facts ``indexing.Index``
4. fanout     enriched -> match, notify                         ``matching.Fanout``
5. match      match [match_keys] -> links                       ``matching.Match``
6. network    links [networks, message_links] -> hst-links, notify, facts  ``networks.Network``
7. notify     notify [diffused] -> diffusion(+.<NCB>), acks     ``diffusion.Notify``
8. facts      facts [synth_facts] -> cells                      ``synthesis.Facts``
9. aggregate  cells [synth_members, synth_series] -> hst-synthesis, synthesis  ``synthesis.Aggregate``

Every agent has ``concurrency=1`` and guards every event (``runner``): an outage holds it, any
other failure makes it a dead letter. Faust flushes its producer (acks=all) before it commits
offsets, so forwarded records, changelog writes and dead letters are durable before the source
offsets move; ``faustfix`` keeps commits behind every unprocessed record.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.codec.factory import make_codec
from pipeline.core.validation import Limits, MessageValidator
from pipeline.settings import Settings
from pipeline.stream import faustfix, metrics
from pipeline.stream.batches import HOLDS
from pipeline.stream.commitwatch import CommitWatch
from pipeline.stream.delivery import DeliveryReports
from pipeline.stream.diffusion import Notify
from pipeline.stream.faustconf import make_app
from pipeline.stream.indexing import Index
from pipeline.stream.ingest import Dedupe, Validate
from pipeline.stream.matching import Fanout, Match
from pipeline.stream.networks import Network
from pipeline.stream.outputs import Outputs
from pipeline.stream.priority import IndexFirst, Throttle
from pipeline.stream.runner import StageRunner
from pipeline.stream.sink import SearchSink
from pipeline.stream.synthesis import Aggregate, Facts
from pipeline.stream.watchlists import WatchLists
from pipeline.topology import topology

log = logging.getLogger(__name__)


def health(
    worker: str, crashed: dict[str, str], search_up: bool, held: dict[str, float]
) -> tuple[dict[str, Any], int]:
    """``/health``: 503 once an agent has crashed (events may have been lost), else 200.

    Stages held through an outage are reported but keep it 200: a restart cannot bring a
    server back, and the held events go through when it returns.
    """
    body = {
        "status": "crashed" if crashed else "ok",
        "worker": worker,
        "search_up": search_up,
        "held_stages": held,
        "crashed_agents": dict(crashed),
    }
    return body, 503 if crashed else 200


def readiness(worker: str, search_up: bool, held: dict[str, float]) -> tuple[dict[str, Any], int]:
    """``/ready``: 503 while the search engine is down or a stage holds events (backpressure)."""
    ready = search_up and not held
    return {"ready": ready, "worker": worker, "search_up": search_up, "held_stages": held}, (
        200 if ready else 503
    )


class Pipeline:
    """One worker: the app, its stages, and the agents that run them."""

    def __init__(
        self,
        settings: Settings,
        *,
        worker_name: str = "worker-1",
        web_port: int = 6066,
        batch_size: int = 1000,
        batch_within: float = 0.5,
    ) -> None:
        self.settings = s = settings
        self.worker_name = worker_name
        self.crashed: dict[str, str] = {}  # agent -> the exception that escaped it
        self._stopping: asyncio.Future[None] | None = None  # the crash a failed delivery began
        datadir = Path(s.data_dir).resolve() / "workers" / worker_name
        datadir.parent.mkdir(parents=True, exist_ok=True)
        self.app = app = make_app(s, datadir, web_port)
        self._catch_agent_crashes()
        app.sensors.add(DeliveryReports(self.on_undelivered))
        plan = topology(s)
        codec = make_codec(s)
        validator = MessageValidator(codec.reader.raw, Limits(s.max_narrative_chars))
        self.outputs = out = Outputs(app, s, plan, message_codec=codec, coercer=validator.coercer)
        self.sink = sink = SearchSink(s)
        tables = {t.name: app.Table(t.name, partitions=t.partitions) for t in plan.tables}
        self.tables = tables
        indexing = {t.name for t in plan.read_by("validate")} | {s.topic_content, s.topic_lineage}
        self.index_first: IndexFirst | None = None
        if s.index_first_backlog:
            high = s.index_first_backlog
            throttle = Throttle(high, high // 10, max_pause=30.0, min_run=3.0)
            self.index_first = IndexFirst(
                app, indexing, throttle, in_flight=lambda: self.index.pending
            )
        runner = StageRunner(out, self.index_first)
        watchlists = WatchLists(s.watchlist_dir or Path(s.data_dir) / "watchlists")
        self.index = Index(
            s,
            out,
            sink,
            tables["lineage"],
            watchlists,
            runner,
            worker=worker_name,
            batch_size=batch_size,
            batch_within=batch_within,
        )
        per_event: dict[str, Any] = {
            "validate": Validate(s, codec, validator, out),
            "dedupe": Dedupe(s, out, tables["content"]),
            "fanout": Fanout(s, out),
            "notify": Notify(s, out, tables["diffused"]),
        }
        per_batch: dict[str, Any] = {
            "match": Match(s, out, tables["match_keys"]),
            "network": Network(s, out, sink, tables["networks"], tables["message_links"]),
        }
        if s.synthesis_enabled:
            per_event["facts"] = Facts(s, out, tables["synth_facts"])
            per_batch["aggregate"] = Aggregate(
                s, out, sink, tables["synth_members"], tables["synth_series"]
            )

        def agent(name: str, fun: Any) -> None:
            topics = [out.topic(t.name) for t in plan.read_by(name)]
            channel = (
                topics[0]
                if len(topics) == 1
                else app.topic(
                    *(t.get_topic_name() for t in topics),
                    key_serializer="raw",
                    value_serializer="raw",
                    partitions=s.partitions,
                )
            )
            app.agent(channel, name=name, concurrency=1)(fun)

        agent("index", partial(self.index.agent, index_first=self.index_first))
        for name, stage in per_event.items():
            agent(name, partial(runner.per_event, stage=name, handler=stage))
        # The synthesis may lag a few seconds: its busy cells (the week of "all", the main
        # routes) are then written once per batch, not once per message.
        sizes = {"aggregate": (2000, 2.0)}
        for name, stage in per_batch.items():
            size, within = sizes.get(name, (500, 0.5))
            run = partial(runner.per_batch, stage=name, handler=stage, size=size, within=within)
            agent(name, run)
        self._register_views()
        faustfix.install()  # no commit past an unprocessed record (faust #606 and more)
        read = {t for a in app.agents.values() for t in a.channel.topics}
        # Gaps count only on the gateways' topics (they may write in transactions).
        faustfix.guard(read, internal=read - {t.name for t in plan.read_by("validate")})
        if self.index_first is not None:
            app.timer(interval=0.5)(self._index_first_tick)
            revoked: Any = self._index_first_revoked  # mode's handler type: positional-only
            app.on_partitions_revoked.connect(revoked)
        self.commit_watch: CommitWatch | None = None
        app.timer(interval=5.0)(self._watch_commits)
        close: Any = self._close_search  # mode's handler type wants a positional-only sender
        app.on_before_shutdown.connect(close)

    def _catch_agent_crashes(self) -> None:
        """Every agent gets the app's error handler when it is declared: shadow it first."""
        faust_handler = self.app._on_agent_error

        async def on_agent_error(agent: Any, exc: BaseException) -> None:
            await self.on_agent_error(agent, exc)
            await faust_handler(agent, exc)

        self.app._on_agent_error = on_agent_error  # type: ignore[method-assign]

    async def on_agent_error(self, agent: Any, exc: BaseException) -> None:
        """An exception escaped an agent's guards (a bug in a guard): say so loudly.

        Faust restarts the agent, but the events it held may be acknowledged unprocessed:
        log, count, and ``/health`` fails from now on, so an operator (or a probe) acts.
        """
        name = str(getattr(agent, "name", agent)).rsplit(".", 1)[-1]
        self.crashed[name] = f"{type(exc).__name__}: {exc}"[:500]
        metrics.AGENT_CRASHES.labels(name).inc()
        log.critical("agent %s crashed; events it held may be lost: %r", name, exc)

    def on_undelivered(self, exc: BaseException) -> None:
        """A record the broker refused: no commit from now on; stop, so events run again."""
        if self._stopping is not None:  # the first one stopped the worker already
            return
        self.crashed["delivery"] = f"{type(exc).__name__}: {exc}"[:500]
        log.critical(
            "a record was not delivered (%r): nothing is committed from now on; the worker "
            "stops so that the events that sent it are processed again once it restarts",
            exc,
        )
        self._stopping = asyncio.ensure_future(self.app.crash(exc))

    async def _close_search(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Close the search client at shutdown (the streams are empty by then)."""
        await self.sink.close()

    async def _index_first_tick(self) -> None:
        if self.index_first is not None:
            try:
                self.index_first.tick()
            except Exception:  # starting, stopping, or the consumer mid-change: fail open
                self.index_first.revoked()
                log.warning("index first: backlog unknown, derived stages not held", exc_info=True)

    async def _index_first_revoked(self, sender: Any, revoked: Any, **_: Any) -> None:
        if self.index_first is not None:
            self.index_first.revoked()

    async def _watch_commits(self) -> None:
        """Deliver again a partition whose commit a hole holds (pipeline.stream.commitwatch)."""
        if self.commit_watch is None:
            self.commit_watch = CommitWatch(self.app.consumer)
        await self.commit_watch.repair()

    def _register_views(self) -> None:
        worker_name, crashed = self.worker_name, self.crashed
        metrics.SEARCH_UP.set(1)  # the worker command checked the index before starting

        # Faust calls a function view as ``view.get(request)``: plain functions, not methods.
        @self.app.page("/metrics")
        async def metrics_view(view: Any, request: Any) -> Any:
            from prometheus_client import generate_latest

            return view.bytes(generate_latest(metrics.REGISTRY), content_type="text/plain")

        @self.app.page("/health")
        async def health_view(view: Any, request: Any) -> Any:
            search_up = bool(metrics.SEARCH_UP._value.get())
            body, status = health(worker_name, crashed, search_up, HOLDS.held())
            return view.json(body, status=status)

        # Readiness: a worker whose search server is down, or that holds events, is out of
        # service until they go through (backpressure).
        @self.app.page("/ready")
        async def ready_view(view: Any, request: Any) -> Any:
            search_up = bool(metrics.SEARCH_UP._value.get())
            body, status = readiness(worker_name, search_up, HOLDS.held())
            return view.json(body, status=status)
