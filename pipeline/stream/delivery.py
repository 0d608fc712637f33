"""Delivery reports: a record the broker did not take stops the worker before it commits.

Faust hands a record to the producer and moves on; should the broker refuse it later (too
large for its topic, a topic not authorised), Faust logs a warning and the next commit
passes the event that sent it: lost. Here the failure is counted, no commit follows
(``faustfix.delivery_failed``) and the worker stops with the error, so that whoever
supervises it starts it again once the cause is mended, and the events are processed again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.sensors import Sensor

from pipeline.stream import faustfix, metrics


class DeliveryReports(Sensor):
    """Faust sensor: every failed delivery stops the commits, then the worker (``on_failure``)."""

    def __init__(self, on_failure: Callable[[BaseException], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_failure = on_failure

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        """A record was not delivered."""
        faustfix.delivery_failed(exc)
        metrics.UNDELIVERED.labels(type(exc).__name__).inc()
        self._on_failure(exc)
