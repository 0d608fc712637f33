"""Reading the dead-letter topic (and any topic) to its current end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeline.codec import DEAD_LETTER, AvroCodec
from pipeline.kafka.logread import end_offsets, read_between
from pipeline.settings import Settings


def read_to_end(settings: Settings, topic: str, timeout: float = 30.0) -> Iterator[Any]:
    """Every record of ``topic`` up to the high watermarks seen at the start.

    None if the topic does not exist; ``LogReadError`` if it may not be read, or when nothing
    arrives for ``timeout`` seconds while records are still due.
    """
    end = end_offsets(settings, [topic], missing_ok=True)
    return read_between(settings, {}, end, stall_timeout=timeout)


def read_dead_letters(settings: Settings, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Decoded dead letters, oldest first per partition."""
    codec = AvroCodec(DEAD_LETTER)
    return [codec.decode(m.value()) for m in read_to_end(settings, settings.topic_dlq, timeout)]
