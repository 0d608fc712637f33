"""An NCB's inbox: the diffusion notices addressed to it (library API of ``hst inbox``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pipeline.codec import DIFFUSION_NOTICE, AvroCodec
from pipeline.kafka.keyed import read_keyed
from pipeline.settings import Settings


def read_inbox(settings: Settings, ncb: str, *, follow: bool = False, timeout: float | None = 30.0,
               since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Decoded notices for ``ncb`` (its key on the diffusion topic), each once by notice id.

    Without ``follow`` it stops at the end of the topic as seen when it started (or after
    ``timeout`` seconds); with ``follow`` it keeps waiting for new notices (until ``timeout``;
    None: for ever).
    """
    codec = AvroCodec(DIFFUSION_NOTICE)
    return read_keyed(settings, settings.diffusion_topic_of(ncb.upper()), ncb.upper(), codec.decode, "notice_id",
                      since=since, follow=follow, timeout=timeout)  # fmt: skip
