"""NCB gateway against the real broker: what is published comes back identical."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.publisher import DeliveryError, Publisher
from pipeline.settings import Settings
from tests.integration.kafka_helpers import consume_all

pytestmark = pytest.mark.integration


def test_ten_thousand_messages_come_back_decoded_and_equal(topic_settings: Settings) -> None:
    data = generate(GeneratorConfig(count=10_000, seed=21))
    sent: dict[str, dict] = {}  # exact re-sends reuse the id with identical content
    with Publisher(topic_settings) as pub:
        for obj in data.messages:
            record = pub.publish_json(obj)
            assert sent.setdefault(record["message_id"], record) == record
    assert pub.stats.delivered == 10_000 and not pub.stats.failures

    messages = consume_all(topic_settings, topic_settings.topic_inbound, 10_000)
    assert len(messages) == 10_000
    codec = AvroCodec(HST_MESSAGE)
    by_id: dict[str, list[dict]] = {}
    for msg in messages:
        record = codec.decode(msg.value())
        assert msg.key().decode() == record["message_id"]
        assert dict(msg.headers())["hst-source-ncb"].decode() == record["source_ncb"]
        by_id.setdefault(record["message_id"], []).append(record)
    # Every copy of every id (re-sends included) equals what was sent.
    assert set(by_id) == set(sent)
    for message_id, record in sent.items():
        assert all(copy == record for copy in by_id[message_id])
    assert sum(len(v) for v in by_id.values()) == 10_000


def test_delivery_failure_is_never_silent(topic_settings: Settings) -> None:
    pub = Publisher(
        topic_settings, topic="no.such.topic", producer_config={"message.timeout.ms": 3000}
    )
    record = pub.validate(generate(GeneratorConfig(count=1, seed=1)).messages[0])
    with pytest.raises(DeliveryError, match="1 record"), pub:
        pub.publish(record)
    assert pub.stats.failures and pub.stats.failures[0].message_id == record["message_id"]


def _run_cli(
    args: list[str], settings: Settings, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HST_BOOTSTRAP_SERVERS": settings.kafka_bootstrap,
           "HST_TOPIC_INBOUND": settings.topic_inbound, "HST_MAX_NARRATIVE_CHARS": "5000"}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "pipeline.cli.main", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip


def _creates(seed: int, count: int) -> list[dict[str, Any]]:
    """``count`` distinct generated CREATE messages, dated before the tests' clock."""
    until = dt.datetime(2026, 10, 31, tzinfo=dt.UTC)
    data = generate(
        GeneratorConfig(count=40, seed=seed, until=until, resend_share=0, content_duplicate_share=0)
    )
    return [m for m in data.messages if m["action"] == "CREATE"][:count]


def test_cli_refuses_bad_records_and_publishes_the_valid_ones(
    topic_settings: Settings, tmp_path: Path
) -> None:
    good = _creates(seed=8, count=6)
    for m in good:
        m["source_ncb"] = "ITA"
    bad_type = json.loads(json.dumps(good[0]))
    bad_type["message_id"] = "11111111-1111-4111-8111-111111111111"
    bad_type["incident"]["dead_count"] = "many"
    bad_enum = json.loads(json.dumps(good[1]))
    bad_enum["message_id"] = "22222222-2222-4222-8222-222222222222"
    bad_enum["incident"]["incident_type"] = "KIDNAPPING"
    bad_country = json.loads(json.dumps(good[2]))
    bad_country["message_id"] = "33333333-3333-4333-8333-333333333333"
    bad_country["route"]["origin_country"] = "XYZ"
    oversize = json.loads(json.dumps(good[3]))
    oversize["message_id"] = "44444444-4444-4444-8444-444444444444"
    oversize["incident"]["narrative"] = "x" * 5001
    wrong_ncb = json.loads(json.dumps(good[4]))
    wrong_ncb["message_id"] = "55555555-5555-4555-8555-555555555555"
    wrong_ncb["source_ncb"] = "FRA"
    lines = [json.dumps(good[5]), "{not json", json.dumps(bad_type), json.dumps(bad_enum),
             json.dumps(bad_country), json.dumps(oversize), json.dumps(wrong_ncb), json.dumps(good[0])]  # fmt: skip
    path = tmp_path / "batch.ndjson"
    path.write_text("\n".join(lines) + "\n")

    proc = _run_cli(["publish", "--ncb", "ITA", "--json", str(path)], topic_settings)
    assert proc.returncode == 1, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = out[-1]["summary"]
    assert summary["read"] == 8 and summary["published"] == 2 and summary["rejected"] == 6
    rejected = {r["position"]: r for r in out[:-1]}

    def reasons(pos: str) -> dict[str, str]:
        return {e["path"]: e["reason"] for e in rejected[pos]["errors"]}

    assert reasons("line 2")[""].startswith("malformed JSON")
    assert reasons("line 3")["incident.dead_count"] == "expected int, got string 'many'"
    assert "'KIDNAPPING' is not one of" in reasons("line 4")["incident.incident_type"]
    assert (
        reasons("line 5")["route.origin_country"]
        == "'XYZ' is not an ISO 3166-1 alpha-3 country code"
    )
    assert reasons("line 6")["incident.narrative"] == "5001 characters exceed the limit of 5000"
    assert reasons("line 7")["source_ncb"] == "'FRA' does not match the sending NCB 'ITA'"
    assert rejected["line 7"]["message_id"] == "55555555-5555-4555-8555-555555555555"

    published = consume_all(topic_settings, topic_settings.topic_inbound, 2, timeout=30)
    codec = AvroCodec(HST_MESSAGE)
    assert sorted(codec.decode(m.value())["message_id"] for m in published) == sorted(
        [good[5]["message_id"], good[0]["message_id"]]
    )


def test_cli_dry_run_publishes_nothing(topic_settings: Settings) -> None:
    data = generate(GeneratorConfig(count=5, seed=2))
    stdin = "\n".join(json.dumps(m) for m in data.messages) + "\n"
    proc = _run_cli(["publish", "--dry-run", "--json", "-"], topic_settings, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["summary"]["valid"] == 5
    assert consume_all(topic_settings, topic_settings.topic_inbound, 1, timeout=5) == []


def test_cli_survives_hostile_input_and_delivers_every_valid_record(
    topic_settings: Settings, tmp_path: Path
) -> None:
    good = _creates(seed=9, count=4)
    first = good[0]
    dup_key = json.dumps(first)[:-1] + ', "source_ncb": "ITA"}'  # source_ncb twice
    markup = {**good[1], "message_id": "66666666-6666-4666-8666-666666666666"}
    markup["source_ncb"] = "[bold]FRA[/]"  # rejected, and its reason must print safely
    lines: list[bytes] = [
        b"{broken first line",
        json.dumps(good[2]).encode(),
        b'{"message_id": "caf\xe9"}',  # not UTF-8
        b"\x00\x01\x02\xff binary",
        b'{"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        dup_key.encode(),
        json.dumps(markup).encode(),
        json.dumps(good[3]).encode(),
    ]
    path = tmp_path / "hostile.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")

    proc = _run_cli(["publish", "--json", str(path)], topic_settings)
    assert proc.returncode == 1, proc.stderr  # some rejected, nothing crashed
    assert "Traceback" not in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out[-1]["summary"] == {**out[-1]["summary"], "read": 8, "published": 2, "rejected": 6}
    reasons = {r["position"]: " ".join(e["reason"] for e in r["errors"]) for r in out[:-1]}
    assert sorted(reasons) == ["line 1", "line 3", "line 4", "line 5", "line 6", "line 7"]
    assert reasons["line 1"].startswith("malformed JSON")
    assert "not UTF-8" in reasons["line 3"] and "not UTF-8" in reasons["line 4"]
    assert "nested deeper" in reasons["line 5"]
    assert "duplicate key 'source_ncb'" in reasons["line 6"]
    # The same report on a terminal: stored markup is printed as written, nothing crashes.
    shown = _run_cli(["publish", "--dry-run", str(path)], topic_settings)
    assert shown.returncode == 1 and "Traceback" not in shown.stderr, shown.stderr
    assert "[bold]FRA[/]" in shown.stderr
    published = consume_all(topic_settings, topic_settings.topic_inbound, 2, timeout=30)
    codec = AvroCodec(HST_MESSAGE)
    assert sorted(codec.decode(m.value())["message_id"] for m in published) == sorted(
        [good[2]["message_id"], good[3]["message_id"]]
    )
