"""The generator: deterministic, valid, and with the controlled shares later stages rely on."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pipeline.codec import HST_MESSAGE
from pipeline.codec.schemas import default_store
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, generate


def test_same_seed_same_output_other_seed_other_output() -> None:
    a = generate(GeneratorConfig(count=300, seed=11))
    b = generate(GeneratorConfig(count=300, seed=11))
    c = generate(GeneratorConfig(count=300, seed=12))
    assert a.messages == b.messages and a.truth == b.truth
    assert a.messages != c.messages


def test_every_generated_message_is_valid() -> None:
    validator = MessageValidator(default_store().get(HST_MESSAGE).raw)
    now = dt.datetime.now(tz=dt.UTC)
    for msg in generate(GeneratorConfig(count=1500, seed=3)).messages:
        validator.validate(msg, now=now)


def test_controlled_duplicates_updates_and_withdrawals() -> None:
    result = generate(GeneratorConfig(count=4000, seed=9))
    msgs = result.messages
    ids = [m["message_id"] for m in msgs]
    resends = len(ids) - len(set(ids))
    assert resends == result.kinds["resend"] > 0
    # Content duplicates: same content apart from message_id and created_at.
    seen: dict[str, str] = {}
    content_dups = 0
    for m in msgs:
        key = repr({k: v for k, v in m.items() if k not in ("message_id", "created_at")})
        if key in seen and seen[key] != m["message_id"]:
            content_dups += 1
        seen.setdefault(key, m["message_id"])
    assert content_dups >= result.kinds["content_duplicate"] > 0
    by_id = {m["message_id"]: m for m in msgs}
    for m in msgs:
        if m["action"] in ("UPDATE", "WITHDRAW"):
            assert m["supersedes_message_id"] in by_id


def test_persons_recur_across_ncbs_in_several_scripts_and_formats() -> None:
    result = generate(GeneratorConfig(count=2000, seed=4))
    ncbs_per_identity: dict[str, set[str]] = defaultdict(set)
    scripts: set[str] = set()
    phone_styles = set()
    for m in result.messages:
        for person in m["persons"]:
            identity = result.truth[m["message_id"]].get(person["person_id"])
            if identity:
                ncbs_per_identity[identity].add(m["source_ncb"])
            scripts.add(person["name"].get("script", "Latn"))
            for phone in person.get("phones", []):
                phone_styles.add("intl" if phone["number"].startswith("+") else "national")
    assert sum(len(v) >= 2 for v in ncbs_per_identity.values()) >= 50
    assert {"Latn", "Arab", "Cyrl"} <= scripts
    assert phone_styles == {"intl", "national"}


def test_people_recur_within_networks_not_across_the_whole_data_set() -> None:
    # Messages that share a true person are one network; reuse drawn from everyone would
    # join nearly all of them into one (a random graph percolates), unlike real reporting.
    result = generate(GeneratorConfig(count=3000, seed=77, network_messages=25))
    network_of = _made_networks(result.truth)
    sizes: dict[str, int] = defaultdict(int)
    for message_id in result.truth:
        sizes[network_of[message_id]] += 1
    shared = [n for n in sizes.values() if n > 1]
    assert len(shared) > 50  # many networks, each seen in several messages
    assert max(sizes.values()) < 200  # none swallowing the data set


def test_networks_found_are_networks_made_and_each_works_a_corridor() -> None:
    """Over-merged networks came from the generator (routes drawn per message, namesakes):
    found networks must lie within made ones, and a made network keep to its corridor."""
    from pipeline.generate.evaluate import enriched_documents, network_agreement

    data = generate(GeneratorConfig(count=3000, seed=33))
    docs = enriched_documents(data, MessageValidator(default_store().get(HST_MESSAGE).raw))
    agreement = network_agreement(docs, data.truth)
    assert agreement.found > 100 and agreement.exact > 30
    assert agreement.purity >= 0.99, agreement
    # A made network (messages sharing a true person) keeps to one corridor.
    network_of = _made_networks(data.truth)
    routes: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        routes[network_of[d["message_id"]]].append(d["route"]["path"].split(">")[0])
    big = [origins for origins in routes.values() if len(origins) >= 10]
    assert len(big) > 20
    assert all(max(map(origins.count, origins)) == len(origins) for origins in big)


def _made_networks(truth: dict[str, dict[str, str]]) -> dict[str, str]:
    """message id -> its made network (messages joined by a shared true person)."""
    from pipeline.generate.evaluate import components

    pairs = [("m:" + m, "i:" + i) for m, people in truth.items() for i in people.values()]
    roots = components(pairs, ["m:" + m for m in truth])
    return {m: roots["m:" + m] for m in truth}
