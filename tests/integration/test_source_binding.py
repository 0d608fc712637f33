"""Source binding: an NCB publishes on its own inbound topic and may only publish as itself.

With ``HST_NCBS`` each NCB has ``<inbound>.<NCB>`` (ACLs let only it write there: see
``test_security``), ``<diffusion>.<NCB>`` and ``<acks>.<NCB>``. A message on FRA's topic
that claims another source is a dead letter ``source_mismatch``, acknowledged to FRA.
"""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from pipeline.codec import HST_MESSAGE, AvroCodec
from pipeline.generate import GeneratorConfig, generate
from pipeline.kafka.acks import read_acks
from pipeline.kafka.dlq import read_dead_letters, read_to_end
from pipeline.kafka.publisher import Publisher
from pipeline.settings import Settings
from tests.integration.pipeline_helpers import Workers, all_ids, isolated, settled

pytestmark = pytest.mark.integration


def test_a_message_on_fras_topic_claiming_another_source_is_rejected(
    stack: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    cfg = isolated(stack.model_copy(update={"ncbs": "FRA,ITA"}), tmp_path)
    data = generate(GeneratorConfig(count=40, seed=91, resend_share=0, content_duplicate_share=0,
                                    update_share=0, withdraw_share=0))  # fmt: skip
    fra = [{**m, "source_ncb": "FRA"} for m in data.messages[:12]]
    workers = Workers(cfg, tmp_path)
    try:
        workers.start("w1")
        with Publisher(cfg) as gateway:  # FRA's gateway: its records go to FRA's own topic
            for m in fra:
                gateway.publish_json(m)
            # The same gateway slips in a report claiming to come from Italy.
            forged = gateway.validate({**data.messages[20], "source_ncb": "ITA"})
        assert {c[0] for c in gateway.delivered} == {f"{cfg.topic_inbound}.FRA"}
        producer = Producer(cfg.producer_config())
        producer.produce(f"{cfg.topic_inbound}.FRA", key=forged["message_id"].encode(),
                         value=AvroCodec(HST_MESSAGE).encode(forged))  # fmt: skip
        assert producer.flush(30) == 0
        settled(cfg)
        fra_acks = list(read_acks(cfg, "FRA"))
    finally:
        workers.stop_all()

    assert set(all_ids(cfg)) == {m["message_id"] for m in fra}
    (letter,) = [d for d in read_dead_letters(cfg) if d["error_type"] == "source_mismatch"]
    assert letter["message_id"] == forged["message_id"] and letter["stage"] == "validate"
    assert (
        letter["field_errors"][0]["path"] == "source_ncb"
        and "FRA" in letter["field_errors"][0]["reason"]
    )
    # FRA, the authenticated source, hears of the rejection, on its own acknowledgement topic.
    terminal = {a["message_id"]: a for a in fra_acks if a["terminal"]}
    assert terminal[forged["message_id"]]["state"] == "REJECTED"
    assert all(terminal[m["message_id"]]["state"] == "PROCESSED" for m in fra)
    assert all(
        a["ncb"] == "FRA" and a["record"]["topic"] == f"{cfg.topic_inbound}.FRA" for a in fra_acks
    )
    # Nothing about it reached Italy, nor the shared acknowledgement topic.
    assert not list(read_acks(cfg, "ITA"))
    assert not list(read_to_end(cfg, cfg.topic_acks, timeout=10))
