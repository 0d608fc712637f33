"""Rebuild ``hst-messages`` and ``hst-links`` from the log into new indices, then swap aliases.

The log is the source of truth and the index a projection of it (``core.projection``):

1. **Snapshot**: the end offsets of the four sources (enriched topic; lineage,
   message_links and networks changelogs) are taken once and stored in a checkpoint file.
2. **Load**: every record up to the snapshot is folded into a ``Projection``.
3. **Write**: the documents and links go into new indices (``<alias>-r<stamp>``, same
   templates), in a stable order; the checkpoint counts what is written, so an interrupted
   rebuild resumes where it stopped (same snapshot, same targets).
4. **Swap**: each alias moves to its new index in one atomic alias update; the live
   workers write into the new indices from then on.
5. **Catch up**: what the workers logged after the snapshot is replayed until a pass finds
   nothing new (they kept running: the old indices took their writes meanwhile).

Writes name concrete indices (no alias yet) with deterministic ids: doing it twice gives
the same indices.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from pipeline.core.projection import Projection
from pipeline.errors import HstError
from pipeline.kafka.logread import Positions, end_offsets, read_between
from pipeline.search.bulk import BulkAction, ItemFailure, bulk_write
from pipeline.search.client import async_client
from pipeline.search.mappings import index_template, links_template
from pipeline.settings import Settings

Progress = Callable[[str, int, int | None], None]  # phase, done, total


class RebuildError(HstError, RuntimeError):
    """The engine refused documents of the rebuild (e.g. a mapping that no longer fits)."""


def sources(settings: Settings) -> dict[str, str]:
    """Projection field -> topic it is folded from."""
    app = settings.app_id
    return {
        "enriched": settings.topic_enriched,
        "lineage": f"{app}-lineage-changelog",
        "message_links": f"{app}-message_links-changelog",
        "networks": f"{app}-networks-changelog",
    }


@dataclass
class Checkpoint:
    """What a rebuild has done so far (a JSON file under the data dir)."""

    snapshot: Positions
    targets: dict[str, str]  # alias -> new index
    written: dict[str, int] = field(default_factory=dict)  # alias -> items written
    swapped: bool = False

    def save(self, path: Path) -> None:
        """Write atomically (a crash leaves the previous checkpoint)."""
        data = {
            "snapshot": [[t, p, o] for (t, p), o in sorted(self.snapshot.items())],
            "targets": self.targets,
            "written": self.written,
            "swapped": self.swapped,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        """The checkpoint in ``path``, None when there is none."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return cls(
            {(t, int(p)): int(o) for t, p, o in data["snapshot"]},
            dict(data["targets"]),
            {k: int(v) for k, v in data["written"].items()},
            bool(data["swapped"]),
        )


@dataclass
class RebuildResult:
    """What a rebuild wrote."""

    targets: dict[str, str]
    documents: int
    links: int
    records_read: int
    caught_up: int
    seconds: float
    previous: dict[str, list[str]]  # alias -> the indices it pointed at before the swap


def fold(
    projection: Projection,
    settings: Settings,
    start: Positions,
    end: Positions,
    progress: Progress | None = None,
) -> tuple[int, set[str]]:
    """Fold the records between ``start`` and ``end``; returns (records, message ids touched)."""
    by_topic = {topic: name for name, topic in sources(settings).items()}
    total = sum(max(0, off - start.get(tp, 0)) for tp, off in end.items())
    touched: set[str] = set()
    read = 0
    for msg in read_between(settings, start, end):
        name = by_topic[str(msg.topic())]
        raw_key, raw_value = msg.key(), msg.value()
        if raw_key is None:
            continue
        # The enriched topic is keyed by the raw message_id; Faust's changelogs by JSON keys.
        key = raw_key.decode() if name == "enriched" else str(orjson.loads(raw_key))
        value = orjson.loads(raw_value) if raw_value is not None else None
        _ts_type, ts_ms = msg.timestamp()
        stamp = (
            dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC).isoformat() if ts_ms > 0 else None
        )
        projection.apply(name, key, value, stamp)
        if name in ("enriched", "lineage"):
            touched.add(key)
        elif name == "message_links":
            touched.add(key)
            for link in value if isinstance(value, list) else []:
                touched.update(link["message_ids"])
        read += 1
        if progress is not None and read % 2000 == 0:
            progress("read", read, total)
    if progress is not None:  # compacted topics have gaps: fewer records than offsets
        progress("read", read, read)
    return read, touched


def _create_target(es: Elasticsearch, alias: str, template: dict[str, Any], stamp: str) -> str:
    """A new index under the alias's template, refresh off while it is loaded."""
    es.indices.put_index_template(name=f"{alias}-template", **template)
    index = f"{alias}-r{stamp}"
    if not es.indices.exists(index=index):
        es.indices.create(index=index, settings={"index": {"refresh_interval": "-1"}})
    return index


async def _write(
    settings: Settings,
    actions: list[BulkAction],
    phase: str,
    done: int,
    total: int,
    progress: Progress | None,
    batch: int,
) -> int:
    """Write ``actions`` from ``done`` on, in batches; permanent failures raise."""
    es = async_client(settings)
    try:
        for start in range(done, len(actions), batch):
            chunk = actions[start : start + batch]
            failures: list[ItemFailure] = await bulk_write(es, chunk)
            if failures:
                first = failures[0]
                msg = (
                    f"{len(failures)} {phase} item(s) refused, e.g. {first.action.doc_id}: "
                    f"{first.status} {first.error_type}: {first.reason}"
                )
                raise RebuildError(msg)
            done = start + len(chunk)
            if progress is not None:
                progress(phase, done, total)
    finally:
        await es.close()
    return done


def rebuild(
    settings: Settings,
    checkpoint_path: Path,
    *,
    fresh: bool = False,
    batch: int = 1000,
    progress: Progress | None = None,
    sync_es: Elasticsearch,
    max_catch_up_passes: int = 20,
) -> RebuildResult:
    """Rebuild both indices from the log (resuming an interrupted rebuild unless ``fresh``)."""
    started = dt.datetime.now(tz=dt.UTC)
    checkpoint = Checkpoint.load(checkpoint_path)
    if fresh and checkpoint is not None:
        if not checkpoint.swapped:  # the interrupted rebuild's half-filled indices
            for index in checkpoint.targets.values():
                sync_es.indices.delete(index=index, ignore_unavailable=True)
        checkpoint = None
    messages, links = settings.index_alias, settings.links_alias
    if checkpoint is None:
        stamp = started.strftime("%Y%m%d%H%M%S")
        checkpoint = Checkpoint(
            snapshot=end_offsets(settings, list(sources(settings).values())),
            targets={
                messages: _create_target(sync_es, messages, index_template(messages), stamp),
                links: _create_target(sync_es, links, links_template(links), stamp),
            },
        )
        checkpoint.save(checkpoint_path)
    projection = Projection()
    read, _touched = fold(projection, settings, {}, checkpoint.snapshot, progress)
    ids = projection.live_ids()
    link_docs = projection.links()
    previous: dict[str, list[str]] = {}
    if not checkpoint.swapped:  # a resumed rebuild past the swap only catches up
        doc_actions = [
            BulkAction(
                "index",
                checkpoint.targets[messages],
                mid,
                projection.document(mid),
                require_alias=False,
            )
            for mid in ids
        ]
        link_actions = [
            BulkAction(
                "index", checkpoint.targets[links], str(x["link_id"]), x, require_alias=False
            )
            for x in link_docs
        ]
        for alias, actions in ((messages, doc_actions), (links, link_actions)):
            done = checkpoint.written.get(alias, 0)
            phase = "documents" if alias == messages else "links"

            def saving(phase_: str, n: int, total: int | None, alias_: str = alias) -> None:
                checkpoint.written[alias_] = n
                checkpoint.save(checkpoint_path)
                if progress is not None:
                    progress(phase_, n, total)

            asyncio.run(_write(settings, actions, phase, done, len(actions), saving, batch))
        for alias, index in checkpoint.targets.items():
            sync_es.indices.put_settings(
                index=index, settings={"index": {"refresh_interval": None}}
            )
            sync_es.indices.refresh(index=index)
            previous[alias] = _swap(sync_es, alias, index)
        checkpoint.swapped = True
        checkpoint.save(checkpoint_path)
    caught_up = _catch_up(
        settings, projection, checkpoint, checkpoint_path, batch, progress, max_catch_up_passes
    )
    checkpoint_path.unlink(missing_ok=True)
    seconds = (dt.datetime.now(tz=dt.UTC) - started).total_seconds()
    return RebuildResult(
        dict(checkpoint.targets), len(ids), len(link_docs), read, caught_up, seconds, previous
    )


def _swap(es: Elasticsearch, alias: str, index: str) -> list[str]:
    """Point ``alias`` at ``index`` only, in one atomic update; returns the indices it left."""
    current = list(es.indices.get_alias(name=alias)) if es.indices.exists_alias(name=alias) else []
    actions: list[dict[str, Any]] = [
        {"remove": {"index": old, "alias": alias}} for old in current if old != index
    ]
    actions.append({"add": {"index": index, "alias": alias}})
    es.indices.update_aliases(actions=actions)
    return [old for old in current if old != index]


def _catch_up(
    settings: Settings,
    projection: Projection,
    checkpoint: Checkpoint,
    path: Path,
    batch: int,
    progress: Progress | None,
    max_passes: int,
) -> int:
    """Replay what was logged after the snapshot until a pass finds nothing; returns items written."""
    messages, links = settings.index_alias, settings.links_alias
    written = 0
    for _ in range(max_passes):
        end = end_offsets(settings, list(sources(settings).values()))
        if all(off <= checkpoint.snapshot.get(tp, 0) for tp, off in end.items()):
            break  # nothing logged since the last pass
        networks_before = {mid: projection.network_id(mid) for mid in projection.message_links}
        links_before = {str(x["link_id"]): x for x in projection.links()}
        _read, touched = fold(projection, settings, checkpoint.snapshot, end)
        touched |= {
            mid
            for mid in projection.message_links
            if projection.network_id(mid) != networks_before.get(mid)
        }
        actions: list[BulkAction] = []
        for mid in sorted(touched):
            doc = projection.document(mid)
            target = checkpoint.targets[messages]
            actions.append(
                BulkAction("index", target, mid, doc, require_alias=False)
                if doc
                else BulkAction("delete", target, mid)
            )
        links_now = {str(x["link_id"]): x for x in projection.links()}
        for link_id, link in links_now.items():
            if links_before.get(link_id) != link:  # new, or changed (e.g. its network merged)
                actions.append(
                    BulkAction(
                        "index", checkpoint.targets[links], link_id, link, require_alias=False
                    )
                )
        actions += [
            BulkAction("delete", checkpoint.targets[links], link_id)
            for link_id in links_before
            if link_id not in links_now
        ]
        asyncio.run(_write(settings, actions, "catch-up", 0, len(actions), progress, batch))
        written += len(actions)
        checkpoint.snapshot = {**checkpoint.snapshot, **end}
        checkpoint.save(path)
    return written
