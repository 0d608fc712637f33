"""Bad input on the inbound topic: refused with a reason, nothing lost, the worker up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.core.acks import REJECTED
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.acks import read_acks
from pipeline.kafka.publisher import Publisher
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    count,
    dead_letters,
    isolated,
    publish_raw,
    settled,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_a_record_near_the_size_limit_is_dead_lettered_and_the_others_indexed(
    stack: Settings, tmp_path: Path
) -> None:
    cfg = isolated(stack, tmp_path)
    until = dt.datetime(2026, 10, 31, tzinfo=dt.UTC)
    data = generate(
        GeneratorConfig(
            count=30,
            seed=31,
            until=until,
            resend_share=0,
            content_duplicate_share=0,
            update_share=0,
            withdraw_share=0,
        )
    )
    validator = Publisher(cfg)
    records = [validator.validate(m) for m in data.messages]
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
