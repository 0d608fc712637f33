"""The Faust worker.

Three agents, each a thin ``async for`` loop over one topic, ``concurrency=1``, every event
guarded so a failure becomes a dead letter and never a dead agent:

1. ``validate`` on the inbound topic (keyed by message_id): decode either framing, apply the
   gateway's rules; forward to ``<inbound>.content`` keyed by the content hash.
2. ``dedupe`` (table ``content``, keyed by content hash): drop exact re-sends, absorb content
   duplicates into the first id, forward the rest to ``<inbound>.lineage`` keyed by the
   message_id each input concerns (its own id; the superseded id for UPDATE/WITHDRAW).
3. ``index`` (table ``lineage``): decides index/delete/update per message as it arrives and
   hands the actions to an ``IndexWriter`` that keeps one bulk request in flight while the
   next batch fills; it retries while the search server is unavailable (holding the batch:
   backpressure), dead-letters per-item permanent failures, publishes the enriched
   documents, and only then acks the events (manual acks on a ``noack`` stream).

Faust flushes its producer (acks=all) before committing offsets, so forwarded records,
changelog writes and dead letters are durable before the source offsets move.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from pathlib import Path
from typing import Any

import faust
import orjson

from pipeline.codec import ACK, DEAD_LETTER, AvroCodec, CodecError
from pipeline.core.acks import DUPLICATE, RECEIVED, REJECTED, WITHDRAWN, attribute_ncb, make_ack
from pipeline.core.coerce import FieldError, to_json
from pipeline.core.dedupe import (
    ABSORB,
    ALIAS,
    CONTENT_DUPLICATE,
    INDEX,
    RESEND,
    SUPERSEDE,
    decide_content,
    decide_lineage,
)
from pipeline.core.enrich import content_hash, enrich
from pipeline.core.screening import apply_screening
from pipeline.core.validation import (
    Limits,
    MessageValidator,
    ValidationError,
    normalise_ids,
    size_error,
)
from pipeline.kafka.admin import PIPELINE_RECORD_BYTES
from pipeline.kafka.publisher import make_codec
from pipeline.search.bulk import BulkAction, ItemFailure, bulk_write
from pipeline.search.client import async_client, sync_client
from pipeline.search.index import ensure_search
from pipeline.settings import Settings
from pipeline.stream import faustfix, metrics
from pipeline.stream.batches import run_batch, run_event
from pipeline.stream.commitwatch import CommitWatch
from pipeline.stream.crossmatch import CrossMatch
from pipeline.stream.deadletter import MAX_FIELD_ERRORS, DeadLetter, bounded, headers_dict
from pipeline.stream.priority import IndexFirst, Throttle
from pipeline.stream.synthesis import Synthesis
from pipeline.stream.watchlists import WatchLists
from pipeline.stream.writer import IndexWriter

log = logging.getLogger("hst.worker")

# Dead letters of these stages mean the message will not be indexed: a REJECTED ack follows.
_MESSAGE_STAGES = frozenset({"decode", "validate", "dedupe", "enrich", "index"})

# Faust's generic stubs are incomplete (StreamT lacks take_events): treat them as Any.
EventT = Any
StreamT = Any


def utc_now() -> dt.datetime:
    """Wall clock, aware UTC."""
    return dt.datetime.now(tz=dt.UTC)


def _ms(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def faust_broker_urls(settings: Settings) -> list[str]:
    """Faust broker URLs from the bootstrap list."""
    return [f"kafka://{hp.strip()}" for hp in settings.kafka_bootstrap.split(",") if hp.strip()]


def broker_credentials(settings: Settings) -> Any:
    """SASL/TLS credentials for aiokafka, or None for PLAINTEXT."""
    if settings.security_protocol == "PLAINTEXT":
        return None
    import ssl

    ssl_context = None
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        ssl_context = ssl.create_default_context(
            cafile=str(settings.ssl_ca_location) if settings.ssl_ca_location else None
        )
        if settings.ssl_certificate_location and settings.ssl_key_location:
            password = settings.ssl_key_password
            ssl_context.load_cert_chain(
                str(settings.ssl_certificate_location),
                str(settings.ssl_key_location),
                password.get_secret_value() if password else None,
            )
    if settings.security_protocol.startswith("SASL_") and not (
        settings.sasl_mechanism and settings.sasl_username and settings.sasl_password
    ):  # never fall back silently to TLS only or to no authentication
        msg = (
            f"{settings.security_protocol} needs HST_SASL_MECHANISM, HST_SASL_USERNAME "
            "and HST_SASL_PASSWORD"
        )
        raise ValueError(msg)
    if settings.sasl_mechanism and settings.sasl_username and settings.sasl_password:
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    return faust.SSLCredentials(ssl_context) if ssl_context else None


def health(worker: str, crashed: dict[str, str], search_up: bool) -> tuple[dict[str, Any], int]:
    """``/health``: 503 once an agent has crashed (events may have been lost), else 200."""
    body = {
        "status": "crashed" if crashed else "ok",
        "worker": worker,
        "search_up": search_up,
        "crashed_agents": dict(crashed),
    }
    return body, 503 if crashed else 200


class Pipeline:
    """One worker's Faust app, its topics, tables and agents."""

    def __init__(self, settings: Settings, *, worker_name: str = "worker-1", web_port: int = 6066,
                 batch_size: int = 1000, batch_within: float = 0.5) -> None:  # fmt: skip
        self.settings = settings
        self.worker_name = worker_name
        self.crashed: dict[str, str] = {}  # agent -> the exception that escaped it
        self.batch_size = batch_size
        self.batch_within = batch_within
        self.codec = make_codec(settings)
        self.dlq_codec = AvroCodec(DEAD_LETTER)
        self.validator = MessageValidator(
            self.codec.reader.raw, Limits(settings.max_narrative_chars)
        )
        self.datadir = Path(settings.data_dir).resolve() / "workers" / worker_name
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        partitions = settings.partitions
        self.app = faust.App(
            settings.app_id,
            broker=faust_broker_urls(settings),
            broker_credentials=broker_credentials(settings),
            store="rocksdb://",
            datadir=str(self.datadir),
            topic_partitions=partitions,
            topic_replication_factor=settings.replication_factor,
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=1.0,
            broker_session_timeout=settings.broker_session_timeout,
            web_enabled=True,
            web_bind=settings.web_bind,
            web_port=web_port,
            web_host=settings.web_bind,
            table_standby_replicas=0,
            # Finish the events in flight before giving partitions up: otherwise an agent
            # goes on writing a table partition (its changelog) that the next owner has
            # already recovered, and that owner's later writes can be overwritten. Faust's
            # wait can hang on a record read by two agents when one of them had it cleared
            # from its queue (faust #402, #133; seen here on the enriched topic): every
            # topic here has one reading agent.
            stream_wait_empty=True,
            # Batch forwarded records: one produce request per record cost the worker and the
            # broker a fifth more CPU per message (measured: 7.5 -> 6.2 and 3.2 -> 2.5 ms).
            producer_linger=0.01,
            producer_max_batch_size=256 * 1024,
            # An enriched document may be several MB (a message of hundreds of persons): every
            # pipeline topic takes PIPELINE_RECORD_BYTES, and so must one request.
            producer_max_request_size=PIPELINE_RECORD_BYTES + 64 * 1024,
            # Faust logs an ERROR for a partition whose records wait over this long (a hung
            # stream). Under index first, derived stages run ~3 s of every 33 while a backlog
            # is indexed: in the 20,000-message kill run some of their partitions waited 7.5 min
            # and the 300 s default logged 1,064 such errors for a run that lost nothing.
            stream_processing_timeout=900,
        )
        # Every agent gets the app's error handler when it is declared: shadow it on this
        # instance (before any agent) so a crash also reaches on_agent_error.
        faust_handler = self.app._on_agent_error

        async def on_agent_error(agent: Any, exc: BaseException) -> None:
            await self.on_agent_error(agent, exc)
            await faust_handler(agent, exc)

        self.app._on_agent_error = on_agent_error  # type: ignore[method-assign]
        # The shared inbound topic and each NCB's own (HST_NCBS), where the topic binds the source.
        self.inbound = self.app.topic(
            settings.topic_inbound, *(settings.inbound_topic_of(n) for n in settings.ncb_list),
            key_serializer="raw", value_serializer="raw", partitions=settings.partitions,
        )  # fmt: skip
        self.content_topic = self._raw_topic(settings.topic_content)
        self.lineage_topic = self._raw_topic(settings.topic_lineage)
        self.dlq = self._raw_topic(settings.topic_dlq)
        self.enriched = self._raw_topic(settings.topic_enriched)
        self.acks = self._raw_topic(settings.topic_acks)
        self.acks_of = {n: self._raw_topic(settings.acks_topic_of(n)) for n in settings.ncb_list}
        self.ack_codec = AvroCodec(ACK)
        # Keys and values as JSON (Faust's default serializer for tables).
        self.content_table = self.app.Table("content", partitions=partitions)
        self.lineage_table = self.app.Table("lineage", partitions=partitions)
        self._es: Any = None
        self.watchlists = WatchLists(
            settings.watchlist_dir or Path(settings.data_dir) / "watchlists"
        )
        self.app.agent(self.inbound, name="validate", concurrency=1)(self._validate_agent)
        self.app.agent(self.content_topic, name="dedupe", concurrency=1)(self._dedupe_agent)
        self.app.agent(self.lineage_topic, name="index", concurrency=1)(self._index_agent)
        self.crossmatch = CrossMatch(self)
        self.synthesis = Synthesis(self) if settings.synthesis_enabled else None
        self._register_views()
        faustfix.install()  # no commit past an unprocessed record (faust #606 and more)
        read = {t for agent in self.app.agents.values() for t in agent.channel.topics}
        # Gaps count only on the gateways' topics (they may write in transactions).
        faustfix.guard(read, internal=read - set(self.inbound.topics))
        self._index_writer: IndexWriter | None = None
        indexing = set(self.inbound.topics) | {settings.topic_content, settings.topic_lineage}
        self.index_first: IndexFirst | None = None
        if settings.index_first_backlog:
            high = settings.index_first_backlog
            self.index_first = IndexFirst(self.app, indexing,
                                          Throttle(high, high // 10, max_pause=30.0, min_run=3.0),
                                          in_flight=lambda: self.index_pending)  # fmt: skip
            self.app.timer(interval=0.5)(self._index_first_tick)
            revoked: Any = self._index_first_revoked  # mode's handler type: positional-only
            self.app.on_partitions_revoked.connect(revoked)
        self.commit_watch: CommitWatch | None = None
        self.app.timer(interval=5.0)(self._watch_commits)
        close: Any = self._close_search  # mode's handler type wants a positional-only sender
        self.app.on_before_shutdown.connect(close)

    async def _close_search(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Close the search client at shutdown.

        Faust sends this signal once the streams are empty (``stream_wait_empty``): every
        consumed event was acknowledged, so no bulk request is in flight.
        """
        es, self._es = self._es, None
        if es is not None:
            await es.close()

    @property
    def index_pending(self) -> int:
        """Events the index stage read and has not yet written (0 before it started)."""
        return self._index_writer.pending_events if self._index_writer is not None else 0

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

    def _raw_topic(self, name: str) -> Any:
        """A topic of raw bytes (we encode and decode ourselves) with explicit partitions."""
        return self.app.topic(name, key_serializer="raw", value_serializer="raw",
                              partitions=self.settings.partitions)  # fmt: skip

    async def on_agent_error(self, agent: Any, exc: BaseException) -> None:
        """An exception escaped an agent's guards (a bug in a guard): say so loudly.

        Faust restarts the agent, but the events it held may be acknowledged unprocessed:
        log, count, and ``/health`` fails from now on, so an operator (or a probe) acts.
        """
        name = str(getattr(agent, "name", agent)).rsplit(".", 1)[-1]
        self.crashed[name] = f"{type(exc).__name__}: {exc}"[:500]
        metrics.AGENT_CRASHES.labels(name).inc()
        log.critical("agent %s crashed; events it held may be lost: %r", name, exc)

    # -- web -------------------------------------------------------------------------------
    def _register_views(self) -> None:
        worker_name = self.worker_name

        metrics.SEARCH_UP.set(1)  # the worker command checked the index before starting

        # Faust calls a function view as ``view.get(request)``: plain functions, not methods.
        @self.app.page("/metrics")
        async def metrics_view(view: Any, request: Any) -> Any:
            from prometheus_client import generate_latest

            return view.bytes(generate_latest(metrics.REGISTRY), content_type="text/plain")

        crashed = self.crashed

        @self.app.page("/health")
        async def health_view(view: Any, request: Any) -> Any:
            body, status = health(worker_name, crashed, bool(metrics.SEARCH_UP._value.get()))
            return view.json(body, status=status)

        # Readiness: a worker whose search server is down holds its batches (backpressure).
        @self.app.page("/ready")
        async def ready_view(view: Any, request: Any) -> Any:
            up = bool(metrics.SEARCH_UP._value.get())
            return view.json({"ready": up, "worker": worker_name}, status=200 if up else 503)

    # -- dead letters ----------------------------------------------------------------------
    async def dead_letter(self, letter: DeadLetter) -> None:
        """Send a dead letter (durable before the source offset is committed)."""
        source = self._source_record(letter)  # read from the whole original, before bounding
        value = self.dlq_codec.encode(bounded(letter).to_dict(utc_now()))
        await self.dlq.send(key=letter.original_key, value=value)
        metrics.DEAD_LETTERS.labels(letter.stage, letter.error_type).inc()
        if letter.stage in _MESSAGE_STAGES and source is not None:
            await self._reject(letter, source)  # it will not be indexed: tell its gateway

    def _source_record(self, letter: DeadLetter) -> tuple[str, int, int] | None:
        """The inbound record a dead letter stands for (None: an internal input of none)."""
        if self._is_inbound(letter.topic):
            return (letter.topic, letter.partition, letter.offset)
        try:  # an internal stage: the envelope knows the source
            src = orjson.loads(letter.original_value or b"{}").get("src")
        except (orjson.JSONDecodeError, AttributeError):
            src = None
        return (src[0], int(src[1]), int(src[2])) if src else None

    async def _reject(self, letter: DeadLetter, record: tuple[str, int, int]) -> None:
        await self.ack(REJECTED, attribute_ncb(record[0], self.settings.topic_inbound,
                                               letter.original_headers, letter.source_ncb),
                       record, message_id=letter.message_id, stage=letter.stage,
                       reason=f"{letter.error_type}: {letter.reason}"[:4000],
                       errors=[(e.path, e.reason) for e in letter.field_errors[:MAX_FIELD_ERRORS]])  # fmt: skip

    def _is_inbound(self, topic: str) -> bool:
        inbound = self.settings.topic_inbound
        return topic == inbound or attribute_ncb(topic, inbound, {}) != "UNATTRIBUTED"

    # -- acknowledgements ------------------------------------------------------------------
    async def ack(self, state: str, ncb: str, record: tuple[str, int, int], **fields: Any) -> None:
        """Send one acknowledgement to the gateway of ``ncb`` (durable before the commit)."""
        if not self.settings.acks_enabled:
            return
        datum = make_ack(state, ncb, record, utc_now(), **fields)
        topic = self.acks_of.get(ncb, self.acks)  # its own topic if it has one
        await topic.send(key=ncb.encode(), value=self.ack_codec.encode(datum))
        metrics.ACKS.labels(state).inc()

    async def ack_envelope(self, env: dict[str, Any], state: str, **fields: Any) -> None:
        """Acknowledge the inbound record an internal envelope (``record`` + ``src``) came from."""
        record = env["record"]
        topic, partition, offset = env["src"]
        ncb = attribute_ncb(topic, self.settings.topic_inbound, {}, record.get("source_ncb"))
        await self.ack(state, ncb, (topic, int(partition), int(offset)),
                       message_id=record["message_id"], **fields)  # fmt: skip

    async def _dead_letter_event(self, event: EventT, stage: str, error_type: str, reason: str,
                                 field_errors: list[FieldError] | None = None,
                                 message_id: str | None = None, source_ncb: str | None = None) -> None:  # fmt: skip
        msg = event.message
        await self.dead_letter(DeadLetter(
            stage=stage, error_type=error_type, reason=reason, topic=msg.topic,
            partition=msg.partition, offset=msg.offset, original_key=msg.key,
            original_value=msg.value, original_headers=headers_dict(msg.headers),
            field_errors=field_errors or [], message_id=message_id, source_ncb=source_ncb,
        ))  # fmt: skip

    async def _dead_letter_record(
        self, env: dict[str, Any], stage: str, error_type: str, reason: str
    ) -> None:
        """Dead-letter a message from an internal stage: original bytes re-encoded from the record."""
        record = env["record"]
        try:
            datum, _ = self.validator.coercer.to_datum(record)
            value: bytes | None = self.codec.encode(datum)
        except Exception:
            value = orjson.dumps(record)
        topic, partition, offset = env["src"]
        await self.dead_letter(DeadLetter(
            stage=stage, error_type=error_type, reason=reason, topic=topic, partition=partition,
            offset=offset, original_key=record["message_id"].encode(), original_value=value,
            message_id=record["message_id"], source_ncb=record.get("source_ncb"),
        ))  # fmt: skip

    # -- agent loops -------------------------------------------------------------------------
    async def _internal_error(self, stage: str, event: EventT, exc: Exception) -> None:
        """An event ``stage`` could not process becomes an ``internal_error`` dead letter."""
        await self._dead_letter_event(event, stage, "internal_error", repr(exc))

    async def per_event(self, stream: Any, stage: str, handler: Any) -> None:
        """Run ``handler`` on each event: held through outages, else a dead letter."""
        gate = self.index_first

        async def on_error(event: EventT, exc: Exception) -> None:
            # Never a dead agent: the event becomes a dead letter.
            log.error("%s: unexpected error", stage, exc_info=exc)
            await self._internal_error(stage, event, exc)

        async for event in stream.events():
            if gate is not None:
                if event.message.topic in gate.fast:
                    gate.seen(event.message)
                else:  # a derived stage: the indexing path first
                    await gate.wait()
            await run_event(handler, event, stage=stage, on_error=on_error)
            faustfix.mark_done(event)

    async def per_batch(self, stream: Any, stage: str, handler: Any) -> None:
        """Run ``handler(stream, events)`` on batches, held through outages (``run_batch``).

        ``take_events`` acks the batch even if we raise: a failed batch is held and retried
        instead, and an event that fails on its own (not an outage) becomes a dead letter.
        """

        async def handle(batch: list[EventT]) -> None:
            await handler(stream, batch)

        poison = functools.partial(self._internal_error, stage)
        async for events in stream.take_events(500, within=0.5):
            await run_batch(handle, events, stage=stage, on_poison=poison)
            for event in events:
                faustfix.mark_done(event)

    # -- stage 1: decode and validate -------------------------------------------------------
    async def _validate_agent(self, stream: StreamT) -> None:
        await self.per_event(stream, "validate", self.validate_event)

    async def validate_event(self, event: EventT) -> None:
        """Decode, validate and forward one inbound record."""
        msg = event.message
        received = utc_now()
        value = msg.value
        datum: dict[str, Any] | None = None
        failure: tuple[str, str] | None = None
        if not isinstance(value, bytes | bytearray):
            failure = ("empty", "record has no value")
        else:
            try:
                schema_id = self.codec.uncached_registry_id(bytes(value))
                if schema_id is not None:  # a registry lookup: off the event loop
                    await asyncio.to_thread(self.codec.fetch_registry_schema, schema_id)
                datum = normalise_ids(self.codec.decode(bytes(value)))
            except CodecError as exc:
                failure = (exc.error_type, str(exc))
        claimed = (datum or {}).get("source_ncb")
        message_id = (datum or {}).get("message_id")
        ncb = attribute_ncb(msg.topic, self.settings.topic_inbound, headers_dict(msg.headers),
                            claimed if isinstance(claimed, str) else None)  # fmt: skip
        await self.ack(RECEIVED, ncb, (msg.topic, msg.partition, msg.offset),
                       message_id=message_id if isinstance(message_id, str) else None)  # fmt: skip
        if failure is not None or datum is None:
            error_type, reason = failure or ("undecodable", "record could not be decoded")
            await self._dead_letter_event(event, "decode", error_type, reason)
            metrics.EVENTS.labels("validate", "dead_letter").inc()
            return
        bound = ncb if msg.topic != self.settings.topic_inbound else None
        if bound is not None and claimed != bound:  # an NCB may only publish as itself
            reason = f"source_ncb {claimed!r} on {msg.topic}, the topic of {bound}"
            await self._dead_letter_event(event, "validate", "source_mismatch", reason,
                                          [FieldError("source_ncb", f"must be {bound}, the authenticated source")],
                                          message_id if isinstance(message_id, str) else None,
                                          claimed if isinstance(claimed, str) else None)  # fmt: skip
            metrics.EVENTS.labels("validate", "dead_letter").inc()
            return
        too_large = size_error(len(value), self.validator.limits)
        if too_large is not None:  # a gateway that skipped the limit: refused, never half-processed
            await self._dead_letter_event(event, "validate", "too_large", too_large.reason,
                                          [too_large], message_id, claimed)  # fmt: skip
            metrics.EVENTS.labels("validate", "dead_letter").inc()
            return
        try:
            self.validator.check_record(datum, now=received)
        except ValidationError as exc:
            await self._dead_letter_event(event, "validate", "invalid_field", str(exc), exc.errors,
                                          datum.get("message_id"), datum.get("source_ncb"))  # fmt: skip
            metrics.EVENTS.labels("validate", "dead_letter").inc()
            return
        record = to_json(datum)
        digest = content_hash(record)
        env = {"record": record, "hash": digest, "src": [msg.topic, msg.partition, msg.offset],
               "ts": int(msg.timestamp * 1000), "received_at": _ms(received)}  # fmt: skip
        await self.content_topic.send(key=digest.encode(), value=orjson.dumps(env))
        metrics.EVENTS.labels("validate", "forwarded").inc()

    # -- stage 2: deduplicate ---------------------------------------------------------------
    async def _dedupe_agent(self, stream: StreamT) -> None:
        await self.per_event(stream, "dedupe", self.dedupe_event)

    async def dedupe_event(self, event: EventT) -> None:
        """Drop exact re-sends, absorb content duplicates, forward new messages."""
        env = orjson.loads(event.message.value or b"{}")
        record = env["record"]
        message_id = record["message_id"]
        decision = decide_content(self.content_table.get(env["hash"]), message_id, env["src"])
        self.content_table[env["hash"]] = decision.state
        metrics.EVENTS.labels("dedupe", decision.outcome).inc()
        if decision.outcome in (RESEND, CONTENT_DUPLICATE):
            first = decision.state["first_id"]
            reason = (f"re-send of {message_id}, already received" if first == message_id
                      else f"same content as {first}: not indexed again; the document records it")  # fmt: skip
            await self.ack_envelope(env, DUPLICATE, duplicate_of=first, reason=reason)
        elif record["action"] == "WITHDRAW":  # new, or a replay of our own processing
            target = record.get("supersedes_message_id")
            await self.ack_envelope(env, WITHDRAWN, document_id=target,
                                    reason=f"{target} is withdrawn from the index and from "
                                           "everyone who received it")  # fmt: skip
        if decision.absorb_into is not None:
            if decision.outcome == CONTENT_DUPLICATE:
                log.debug("content duplicate %s of %s", message_id, decision.absorb_into)
            absorb = {"role": ABSORB, "target": decision.absorb_into, "absorbed": decision.absorbed}
            await self._to_lineage(absorb)
            await self._to_lineage(
                {"role": ALIAS, "target": message_id, "into": decision.absorb_into}
            )
        if not decision.forward:
            return
        if record["action"] != "WITHDRAW":
            await self._to_lineage({**env, "role": INDEX, "target": message_id})
        supersedes = record.get("supersedes_message_id")
        if supersedes:
            await self._to_lineage({"role": SUPERSEDE, "target": supersedes, "by": message_id,
                                    "kind": record["action"]})  # fmt: skip

    async def _to_lineage(self, envelope: dict[str, Any]) -> None:
        """Send a lineage input keyed by the message_id it concerns."""
        await self.lineage_topic.send(key=envelope["target"].encode(), value=orjson.dumps(envelope))

    # -- stage 3: enrich and index ----------------------------------------------------------
    async def _index_agent(self, stream: StreamT) -> None:
        manual = stream.noack()  # events are acked by the writer once their effects are durable

        async def ack(event: EventT) -> None:
            faustfix.mark_done(event)
            await manual.ack(event)

        poison = functools.partial(self._internal_error, "index")
        writer = IndexWriter(self.write_batch, ack, poison, max_batch=self.batch_size,
                             linger=self.batch_within, max_pending=4 * self.batch_size)  # fmt: skip
        self._index_writer = writer
        try:
            async for event in manual.events():
                if self.index_first is not None:
                    self.index_first.seen(event.message)
                try:
                    actions = await self.prepare_event(event)
                except Exception as exc:  # never a dead agent: the event becomes a dead letter
                    log.exception("index: unexpected error")
                    await poison(event, exc)
                    actions = []
                await writer.put(event, actions)
        finally:
            await writer.stop()

    async def prepare_event(self, event: EventT) -> list[BulkAction]:
        """Decide one lineage input (table write, forwards); return its bulk actions."""
        alias = self.settings.index_alias
        env = orjson.loads(event.message.value or b"{}")
        target = env["target"]
        decision = decide_lineage(self.lineage_table.get(target), env["role"], env)
        if decision.conflict:
            await self._dead_letter_record(env, "dedupe", "message_id_conflict", decision.conflict)
            return []
        self.lineage_table[target] = decision.state
        if env["role"] == INDEX and decision.action is None and "record" in env:
            by = decision.state.get("by")  # superseded or withdrawn before it reached the index
            await self.ack_envelope(env, WITHDRAWN, document_id=target,
                                    reason=f"{decision.state.get('status')} by {by} before it was indexed")  # fmt: skip
        for follow in decision.forward:
            await self._to_lineage(follow)
        metrics.EVENTS.labels("index", f"{env['role']}:{decision.action}").inc()
        if decision.action == "delete":
            return [BulkAction("delete", alias, target)]
        if decision.action == "update":
            return [
                BulkAction("update", alias, target, {"absorbed_message_ids": decision.absorbed})
            ]
        if decision.action != "index":
            return []
        try:
            doc = enrich(env["record"])
        except Exception as exc:
            log.exception("index: cannot enrich %s", target)
            await self._dead_letter_record(env, "enrich", "enrich_error", repr(exc))
            return []
        apply_screening(doc, self.watchlists.index().screen(doc))
        topic, partition, offset = env["src"]
        doc["absorbed_message_ids"] = decision.absorbed
        doc["kafka"] = {
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "timestamp": env["ts"],
        }
        doc["processing"] = {"received_at": env["received_at"], "worker": self.worker_name}
        return [BulkAction("index", alias, target, doc, ref=env)]

    async def write_batch(self, actions: list[BulkAction]) -> None:
        """One bulk request (retried while the search server is unavailable), then results."""
        indexed_at = _ms(utc_now())
        for action in actions:
            if action.op == "index" and action.doc is not None:
                action.doc["processing"]["indexed_at"] = indexed_at
        started = time.perf_counter()
        failures = await self.write(actions)
        metrics.BULK_SECONDS.observe(time.perf_counter() - started)
        metrics.SEARCH_UP.set(1)
        failed_ids = set()
        for failure in failures:
            failed_ids.add(failure.action.doc_id)
            env = failure.action.ref or {"record": None}
            reason = f"{failure.status} {failure.error_type}: {failure.reason}"
            if env.get("record"):
                await self._dead_letter_record(env, "index", failure.error_type, reason)
            else:
                log.error("index: %s %s failed permanently: %s", failure.action.op,
                          failure.action.doc_id, reason)  # fmt: skip
        for action in actions:  # withdrawn or superseded: tell whoever received it
            if action.op == "delete" and action.doc_id not in failed_ids:
                # A tombstone: the compacted enriched topic forgets it (`hst reindex` too).
                await self.enriched.send(key=action.doc_id.encode(), value=None)
                await self.crossmatch.withdrawn(action.doc_id)
                if self.synthesis is not None:
                    await self.synthesis.withdrawn(action.doc_id)
        acked_at = _ms(utc_now())  # the documents are searchable from here (latency measurement)
        for action in actions:
            if action.op == "index" and action.doc_id not in failed_ids and action.doc is not None:
                action.doc["processing"]["acked_at"] = acked_at
                value = orjson.dumps(action.doc)
                await self.enriched.send(key=action.doc_id.encode(), value=value)
                if self.synthesis is not None:  # its own copy: one reading agent per topic
                    await self.synthesis.facts_topic.send(key=action.doc_id.encode(), value=value)

    async def write(self, actions: list[BulkAction]) -> list[ItemFailure]:
        """Bulk-write through the aliases, held through outages; returns permanent failures."""
        return await bulk_write(self.es, actions, on_retry=self._on_search_retry,
                                on_missing_index=self._set_search_up_again)  # fmt: skip

    async def _set_search_up_again(self, missing: set[str]) -> None:
        """An engine that lost its indices gets templates, indices and aliases back first."""
        log.warning("search: %s missing; installing the templates and aliases again",
                    ", ".join(sorted(missing)))  # fmt: skip
        settings = self.settings
        await asyncio.to_thread(lambda: ensure_search(sync_client(settings), settings))

    async def _on_search_retry(self, reason: str, delay: float) -> None:
        metrics.SEARCH_RETRIES.inc()
        metrics.SEARCH_UP.set(0)

    @property
    def es(self) -> Any:
        """The async search client, created inside the worker's event loop."""
        if self._es is None:
            self._es = async_client(self.settings)
        return self._es
