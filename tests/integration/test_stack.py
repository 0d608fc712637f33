"""The embedded stack: real servers answer; `up` twice is harmless; `status` reports them."""

from __future__ import annotations

import json
import urllib.request

import pytest

from pipeline.settings import Settings
from pipeline.stack import Stack
from pipeline.stack.servers import kafka_answers

pytestmark = pytest.mark.integration


def test_stack_is_real_and_up_twice_is_harmless(stack: Settings) -> None:
    assert kafka_answers(stack.kafka_bootstrap)
    with urllib.request.urlopen(stack.search_endpoint + "/", timeout=5) as resp:
        assert resp.status == 200
    s = Stack(stack)
    before = s.status()
    assert before["up"] and before["broker"] in ("kafka", "tansu")
    pid = before[before["broker"]]["pid"]
    messages: list[str] = []
    s.up(say=messages.append)
    after = s.status()
    assert after[after["broker"]]["pid"] == pid, "a second `up` started another broker"
    assert any("already running" in m for m in messages)
    assert json.loads(json.dumps(after))["bootstrap_servers"] == stack.kafka_bootstrap


def test_default_broker_is_apache_kafka_where_a_jdk_is_present(stack: Settings) -> None:
    from pipeline.stack.servers import java_major_version

    if (java_major_version() or 0) < 17:
        pytest.skip("no JDK 17+: the stack falls back to tansu")
    assert Stack(stack).status()["broker"] == "kafka"
