"""Bad input on the inbound topic: refused with a reason, nothing lost, the worker up."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.core.acks import DUPLICATE, PROCESSED, REJECTED
from pipeline.kafka.acks import read_acks
from pipeline.kafka.publisher import Publisher
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    count,
    dead_letters,
    invalid_records,
    isolated,
    plain_messages,
    publish_raw,
    settled,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration


def test_a_record_near_the_size_limit_is_dead_lettered_and_the_others_indexed(
    stack: Settings, tmp_path: Path
) -> None:
    cfg = isolated(stack, tmp_path)
    validator = Publisher(cfg)
    records = [
        validator.validate(m)
        for m in plain_messages(30, 31, dt.datetime(2026, 10, 31, tzinfo=dt.UTC))
    ]
    huge = {**records[0], "message_id": "77777777-7777-4777-8777-777777777777"}
    huge["incident"] = {**huge["incident"], "narrative": "x" * 900_000}  # over the 20,000 limit
    codec = AvroCodec(HST_MESSAGE)
    big = codec.encode(huge)
    assert len(big) > 900_000
    workers = Workers(cfg, tmp_path)
    try:
        worker = workers.start("w1")
        publish_raw(
            cfg,
            [codec.encode(r) for r in records[:15]]
            + [big]
            + [codec.encode(r) for r in records[15:]],
        )
        wait_for(lambda: count(cfg) >= len(records), 180, "every valid record indexed")
        settled(cfg)
        assert sorted(all_ids(cfg)) == sorted(r["message_id"] for r in records)
        [letter] = dead_letters(cfg, 1)
        assert (letter["stage"], letter["error_type"]) == ("validate", "too_large")
        assert letter["message_id"] == huge["message_id"]
        assert letter["original_headers"]["hst-original-bytes"] == str(len(big)).encode()
        assert len(letter["original_value"]) < len(big)
        rejected = [a for a in read_acks(cfg, None) if a["state"] == REJECTED]
        assert [a["message_id"] for a in rejected] == [huge["message_id"]]
        assert worker.proc.poll() is None
    finally:
        workers.stop_all()


def _largest_accepted(record: dict[str, Any]) -> dict[str, Any]:
    """A message at the gateway's limits: 500 persons and a 20,000-character narrative."""
    base = {
        k: v for k, v in record["persons"][0].items() if k not in ("documents", "phones", "links")
    }
    persons = []
    for i in range(500):
        name = {**base["name"], "given_name": f"Given{i:03d}", "family_name": f"Family{i:03d}"}
        persons.append({**base, "person_id": f"P{i + 1}", "name": name})
    incident = {**record["incident"], "narrative": ("route report " * 2000)[:20_000]}
    return {**record, "message_id": str(uuid.uuid4()), "persons": persons, "incident": incident}


def _cli(cfg: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**worker_env(cfg), "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(600)
def test_the_bad_input_corpus_on_the_inbound_topic(stack: Settings, tmp_path: Path) -> None:
    """Each bad record refused with a reason naming its field, every valid one beside it
    delivered, the worker up, nothing both searchable and dead-lettered, every display safe.
    """
    cfg = isolated(stack, tmp_path)
    validator = Publisher(cfg)
    records = [validator.validate(m) for m in plain_messages(20, 33)]
    codec = AvroCodec(HST_MESSAGE)

    def variant(i: int, person: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        out = {**records[i], "message_id": str(uuid.uuid4()), **fields}
        if person is not None:
            first = {**out["persons"][0], "name": {**out["persons"][0]["name"], **person}}
            out["persons"] = [first, *out["persons"][1:]]
        return out

    largest = validator.validate(_largest_accepted(records[2]))
    markup_name = variant(3, {"given_name": "Zorglub[/]"})
    valid = [*records, largest, markup_name]
    nul_name = variant(4, {"given_name": "Ali\x00"})
    markup_rejected = variant(5, source_ncb="[/]x")
    upper = {**records[6], "message_id": records[6]["message_id"].upper()}
    bad = [
        *invalid_records(codec, records[7]),
        (codec.encode(nul_name), "invalid_field"),
        (codec.encode(markup_rejected), "invalid_field"),
    ]
    workers = Workers(cfg, tmp_path)
    try:
        worker = workers.start("w1")
        raw = [codec.encode(r) for r in valid]
        raw[10:10] = [v for v, _ in bad]
        publish_raw(cfg, [*raw, codec.encode(upper)])
        wait_for(lambda: count(cfg) >= len(valid), 240, "every valid record indexed")
        letters = dead_letters(cfg, len(bad))
        settled(cfg)
        ids = all_ids(cfg)
        # Every valid record, once; the upper-case re-send is the same message.
        assert sorted(ids) == sorted(r["message_id"] for r in valid)
        assert sorted(d["error_type"] for d in letters) == sorted(t for _, t in bad)
        assert not {d["message_id"] for d in letters} & set(ids), "searchable and dead-lettered"
        by_id = {d["message_id"]: d for d in letters}
        assert "persons[0].name.given_name" in by_id[nul_name["message_id"]]["reason"]
        assert "control character" in by_id[nul_name["message_id"]]["reason"]
        assert "source_ncb" in by_id[markup_rejected["message_id"]]["reason"]
        repo = str(Path(__file__).resolve().parents[2])
        assert not [d["reason"] for d in letters if repo in d["reason"]], "a server path leaked"
        acks = list(read_acks(cfg, None))
        states: dict[str, set[str]] = {}
        for a in acks:
            states.setdefault(a["message_id"], set()).add(a["state"])
        assert PROCESSED in states[largest["message_id"]]
        assert DUPLICATE in states[records[6]["message_id"]]
        assert all(REJECTED in states[m] for m in by_id if m)
        assert worker.proc.poll() is None
        # Stored markup is shown as written by every display, and nothing crashes.
        found = _cli(cfg, "search", "--person", "Zorglub")
        assert found.returncode == 0 and "Traceback" not in found.stderr, found.stderr
        assert "Zorglub[/]" in found.stdout or markup_name["message_id"] in found.stdout
        listed = _cli(cfg, "dlq", "list")
        assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
        assert "[/]x" in listed.stdout
    finally:
        workers.stop_all()
