"""Retention: messages past their review date leave the index, the aggregates, and stay out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.publisher import Publisher
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import (
    Workers,
    all_ids,
    isolated,
    search_all,
    settled,
    worker_env,
)

pytestmark = pytest.mark.integration


def _retention(cfg: Settings, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "pipeline.cli.main", "retention", "run", *args],
                          env=worker_env(cfg), capture_output=True, text=True, check=True, timeout=120).stdout  # fmt: skip


def test_expired_messages_are_removed_everywhere_and_stay_out(
    stack: Settings, tmp_path: Path
) -> None:
    cfg = isolated(stack, tmp_path)
    data = generate(GeneratorConfig(count=12, seed=95, resend_share=0, content_duplicate_share=0,
                                    update_share=0, withdraw_share=0))  # fmt: skip
    messages = [{**m, "handling": {**m["handling"], "retention_review_date": "2026-06-30" if i < 4 else "2027-06-30"}}
                for i, m in enumerate(data.messages)]  # fmt: skip
    expired = {m["message_id"] for m in messages[:4]}
    workers = Workers(cfg, tmp_path)
    try:
        workers.start("w1")
        with Publisher(cfg) as gateway:
            for m in messages:
                gateway.publish_json(m)
        settled(cfg)
        assert set(all_ids(cfg)) == {m["message_id"] for m in messages}
        listed = _retention(cfg, "--today", "2026-12-01", "--dry-run")
        assert all(mid in listed for mid in expired) and "4 message(s)" in listed
        assert set(all_ids(cfg)) == {m["message_id"] for m in messages}  # a dry run changes nothing
        _retention(cfg, "--today", "2026-12-01")
        settled(cfg)
        assert set(all_ids(cfg)) == {m["message_id"] for m in messages[4:]}
        # The aggregates no longer count them.
        cells = [
            s for s in search_all(cfg, cfg.synthesis_alias) if s["series"].startswith("week|all:")
        ]
        assert sum(c["measures"]["messages"] for c in cells) == len(messages) - 4
        # A gateway re-sending an expired message does not bring it back.
        with Publisher(cfg) as gateway:
            gateway.publish_json(messages[0])
        settled(cfg)
        assert set(all_ids(cfg)) == {m["message_id"] for m in messages[4:]}
        assert "0 message(s)" in _retention(cfg, "--today", "2026-12-01")  # twice is harmless
    finally:
        workers.stop_all()
