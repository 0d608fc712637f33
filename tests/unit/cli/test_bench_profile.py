"""The benchmark's profile attribution: a sample counts for the stage on its stack."""

from __future__ import annotations

import inspect
from pathlib import Path

from pipeline.cli.bench_profile import attribute, stage_code
from pipeline.stream.ingest import Dedupe
from pipeline.stream.networks import Network


def _frame(cls: type, offset: int = 1) -> str:
    _, first = inspect.getsourcelines(cls)
    return f"__call__ ({Path(inspect.getsourcefile(cls) or '').resolve()}:{first + offset})"


def test_samples_count_for_the_outermost_stage_and_the_rest_for_the_innermost_library() -> None:
    dedupe, network = _frame(Dedupe), _frame(Network, 5)
    raw = "\n".join(
        [
            f"run (/x/faust/agents/agent.py:10);{dedupe};send (/x/aiokafka/producer.py:3) 7",
            f"run (/x/faust/agents/agent.py:10);{network} 3",
            "run (/x/faust/agents/agent.py:10);fetch (/x/aiokafka/consumer/fetcher.py:9) 5",
            "select (/usr/lib/python3.11/selectors.py:4) 2",
            "garbage line",
        ]
    )
    counts = attribute(raw, stage_code())
    assert counts == {
        "dedupe": 7,
        "network": 3,
        "Kafka client (fetch, produce)": 5,
        "other (event loop, GC, logging)": 2,
    }
