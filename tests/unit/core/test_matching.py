"""Cross-matching: explained links, precision on ground truth, deterministic ids."""

from __future__ import annotations

import pytest

from pipeline.codec import HST_MESSAGE
from pipeline.codec.schemas import default_store
from pipeline.core.linkage import default_model
from pipeline.core.matching import (
    FUZZY,
    STRONG,
    PersonRef,
    fuzzy_link,
    fuzzy_links,
    object_links,
    strong_links,
)
from pipeline.core.names import tokens
from pipeline.core.validation import MessageValidator
from pipeline.generate import GeneratorConfig, baseline_matcher, generate
from pipeline.generate.evaluate import Matcher, enriched_documents, evaluate


def ref(
    msg: str,
    name: str,
    birth: tuple[int | None, int | None, int | None] = (1990, 5, 17),
    nat: tuple[str, ...] = ("SYR",),
    ids: tuple[str, ...] = (),
    ncb: str = "ITA",
) -> PersonRef:
    return PersonRef(
        msg, "P1", ncb, "SMUGGLER", name.casefold(), tuple(tokens(name)), birth, nat, ids
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohammed Al-Hassan", "Muhammad Hassan"),
        ("Мухаммед Хасан", "Mohamed Hassan"),  # Cyrillic against Latin
        ("Hassan Mohammed", "Mohammed Hassan"),  # swapped order
        ("Ousmane Traoré", "Ousmane Traore"),
    ],
)
def test_same_person_across_scripts_and_spellings_is_linked(a: str, b: str) -> None:
    links = fuzzy_links(ref("m2", b, ncb="LBY"), [ref("m1", a)])
    assert len(links) == 1
    link = links[0]
    assert link.kind == FUZZY and link.score >= default_model().threshold
    assert link.reason.startswith("name + birth date + nationality (p ")
    # The analysts' "why": every comparison's level, weight and values, then the total.
    assert any(e.startswith("name ") and f"'{b.casefold()}'" in e for e in link.evidence)
    assert any(
        e.startswith("birth exact: +") and "(1990-05-17 ~ 1990-05-17)" in e for e in link.evidence
    )
    assert any(e.startswith("nationality agree: +") for e in link.evidence)
    assert link.evidence[-1].startswith("prior -") and "probability" in link.evidence[-1]
    assert link.ncbs == ("ITA", "LBY")


def test_a_link_is_the_same_whichever_report_arrives_first() -> None:
    a, b = ref("m1", "Omar Said"), ref("m2", "Omar Saeed", ncb="LBY")
    first, second = fuzzy_link(a, b, default_model()), fuzzy_link(b, a, default_model())
    assert first is not None and first == second


def test_a_fuzzy_link_records_the_model_that_made_it_and_a_strong_link_none() -> None:
    a, b = ref("m1", "Omar Said"), ref("m2", "Omar Saeed", ncb="LBY")
    link = fuzzy_link(a, b, default_model())
    assert link is not None and link.to_dict()["model"] == default_model().stamp
    ids = ("phone:+391",)
    [strong] = strong_links(ref("m2", "x", ids=ids), [ref("m1", "y", ids=ids)], "phone:+391")
    assert "model" not in strong.to_dict()


def test_another_birth_date_is_another_person() -> None:
    assert fuzzy_links(ref("m2", "Omar Said", (1971, 2, 3)), [ref("m1", "Omar Said")]) == []


def test_homonyms_sharing_only_a_birth_year_are_not_linked() -> None:
    a = ref("m1", "Aminata Camara", (1989, None, None))
    b = ref("m2", "Aminata Camara", (1989, 12, 12))
    assert default_model().score(a, b).probability < default_model().threshold


def test_reports_of_one_message_and_strongly_linked_ones_get_no_fuzzy_link() -> None:
    assert fuzzy_link(ref("m1", "Omar Said"), ref("m1", "Omar Said"), default_model()) is None
    shared = ("phone:+391",)
    assert fuzzy_link(ref("m1", "Omar Said", ids=shared), ref("m2", "Omar Said", ids=shared),
                      default_model()) is None  # fmt: skip


def test_strong_link_names_the_shared_identifier() -> None:
    old = ref("m1", "A B", ids=("doc:ITA:P1234567",))
    new = ref("m2", "C D", ids=("doc:ITA:P1234567",), ncb="LBY")
    [link] = strong_links(new, [old, ref("m2", "same message")], "doc:ITA:P1234567")
    assert link.kind == STRONG and link.score == 1.0
    assert link.evidence == ["same travel document ITA:P1234567"]
    assert link.messages == ("m1", "m2")


def test_link_id_is_deterministic_and_symmetric() -> None:
    a = strong_links(ref("m2", "x", ids=("phone:+391",)), [ref("m1", "y")], "phone:+391")[0]
    b = strong_links(ref("m1", "y", ids=("phone:+391",)), [ref("m2", "x")], "phone:+391")[0]
    assert a.link_id == b.link_id
    other = strong_links(ref("m3", "x"), [ref("m1", "y")], "phone:+391")[0]
    assert other.link_id != a.link_id


def test_vessels_link_messages_not_persons() -> None:
    [link] = object_links("m2", "ITA", [("m1", "LBY"), ("m2", "ITA")], "imo:9123456")
    assert link.messages == ("m1", "m2") and link.reason == "same vessel IMO"


@pytest.fixture(scope="module")
def evaluation():  # type: ignore[no-untyped-def]
    validator = MessageValidator(default_store().get(HST_MESSAGE).raw)
    data = generate(GeneratorConfig(count=1500, seed=33))
    docs = enriched_documents(data, validator)
    before = Matcher(
        baseline_matcher.blocking_keys, baseline_matcher.score, baseline_matcher.THRESHOLD
    )
    return evaluate(docs, data.truth, before), evaluate(docs, data.truth)


def test_strong_identifier_links_are_precise_on_ground_truth(evaluation) -> None:  # type: ignore[no-untyped-def]
    s = evaluation[1].strong
    assert s.true_positives > 500  # the generated data really share identifiers
    assert s.precision >= 0.99


def test_fuzzy_person_links_are_precise_on_held_out_generated_data(evaluation) -> None:  # type: ignore[no-untyped-def]
    before, after = evaluation
    assert after.fuzzy.true_positives > 100
    assert after.fuzzy.precision >= 0.99
    # Of the true pairs that share no identifier: generated names come from small pools,
    # so half the pairs without a full birth date cannot be told from namesakes.
    assert after.fuzzy.recall >= 0.4
    assert after.fuzzy.recall >= before.fuzzy.recall - 0.02


def _seen(i: int, ncb: str = "ITA") -> dict[str, object]:
    """What a PersonSeen carries of one Ana Lopez reported in message ``m<i>``."""
    return {
        "message_id": f"m{i}",
        "person_id": "P1",
        "source_ncb": ncb,
        "role": None,
        "name": "ana lopez",
        "tokens": ["ana", "lopez"],
        "birth": [1990, 1, 2],
        "nationalities": [],
        "identifiers": ["phone:+1"],
        "created_at": f"2025-01-{i % 28 + 1:02d}",
    }


def test_match_person_remembers_each_person_once_and_keeps_at_most_max_per_key() -> None:
    from pipeline.core.matching import MAX_PER_KEY, match_person

    first = match_person([], _seen(0), "phone:+1", strong=True)
    assert first.links == [] and len(first.entry) == 1
    second = match_person(first.entry, _seen(1), "phone:+1", strong=True)
    assert [set(x.messages) for x in second.links] == [{"m0", "m1"}]
    assert second.created == {"m0": "2025-01-01", "m1": "2025-01-02"}
    # Seen again (a replay, a refile): the same links, and the entry itself (no write).
    again = match_person(second.entry, _seen(1), "phone:+1", strong=True)
    assert again.entry is second.entry
    assert [x.link_id for x in again.links] == [x.link_id for x in second.links]
    entry = second.entry
    for i in range(2, MAX_PER_KEY + 10):
        entry = match_person(entry, _seen(i), "phone:+1", strong=True).entry
    assert len(entry) == MAX_PER_KEY and entry[-1][0] == f"m{MAX_PER_KEY + 9}"


def test_an_entry_written_as_dicts_before_entries_were_lists_still_matches() -> None:
    from pipeline.core.matching import match_object, match_person

    old = _seen(0, "FRA")
    new = {**old, "message_id": "m1", "source_ncb": "ITA", "created_at": "2025-01-02"}
    found = match_person([old], new, "phone:+1", strong=True)
    assert [set(x.messages) for x in found.links] == [{"m0", "m1"}] and len(found.entry) == 2
    obj = {"message_id": "m3", "source_ncb": "ITA", "created_at": "2025-01-03"}
    seen = match_object(
        [{"message_id": "m2", "source_ncb": "FRA", "created_at": "2025-01-01"}], obj, "vehicle:X"
    )
    assert [set(x.messages) for x in seen.links] == [{"m2", "m3"}]


def test_the_match_stage_function_links_what_an_offline_replay_links() -> None:
    """``match_person`` fed key by key, as the stream feeds it, against ``offline_person_links``."""
    from pipeline.core.matching import match_person, person_refs
    from pipeline.generate.evaluate import offline_person_links

    validator = MessageValidator(default_store().get(HST_MESSAGE).raw)
    docs = enriched_documents(generate(GeneratorConfig(count=600, seed=34)), validator)
    entries: dict[str, list[object]] = {}
    streamed = {}
    for doc in docs:
        for person in person_refs(doc):
            body = {**person.to_dict(), "created_at": doc["created_at"]}
            for key in default_model().keys(person):
                found = match_person(entries.get(key, []), body, key, strong=False)
                entries[key] = found.entry
                for link in found.links:
                    assert (link.a, link.b) not in streamed, "a pair linked under two keys"
                    streamed[(link.a, link.b)] = link
    offline = {(x.a, x.b): x for x in offline_person_links(docs)}
    assert len(offline) >= 20
    assert streamed == offline
