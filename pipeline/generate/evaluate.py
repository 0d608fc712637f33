"""Precision and recall of cross-matching against the generator's ground truth."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeline.core.coerce import to_json
from pipeline.core.dedupe import live_messages
from pipeline.core.enrich import content_hash, enrich
from pipeline.core.linkage import Model, default_model
from pipeline.core.matching import (
    MAX_PER_KEY,
    Link,
    PersonRef,
    fuzzy_link,
    person_refs,
    strong_links,
)
from pipeline.core.networks import network_id_of
from pipeline.core.validation import MessageValidator
from pipeline.generate.synthetic import Generated

T = TypeVar("T")

MAX_BLOCK = 400  # persons under one key: more carry no evidence (and cost n^2)


@dataclass(frozen=True)
class Scores:
    """Pairwise precision, recall and F1."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """Share of predicted links that are true."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that were found."""
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Matcher:
    """A fuzzy person matcher to judge: its blocking keys, its pair score and threshold."""

    blocker: Callable[[PersonRef], list[str]]
    scorer: Callable[[PersonRef, PersonRef], float]
    threshold: float

    @classmethod
    def of(cls, model: Model) -> Matcher:
        """The matcher the stream runs with ``model``."""
        return cls(model.keys, lambda a, b: model.score(a, b).probability, model.threshold)


def _filed(
    refs: list[PersonRef], keys: Callable[[PersonRef], Iterable[str]]
) -> dict[str, list[PersonRef]]:
    """Persons filed under each of their ``keys`` (identifiers, or blocking keys)."""
    out: dict[str, list[PersonRef]] = defaultdict(list)
    for p in refs:
        for key in keys(p):
            out[key].append(p)
    return out


def _identifiers(person: PersonRef) -> tuple[str, ...]:
    return person.identifiers


def enriched_documents(data: Generated, validator: MessageValidator) -> list[dict[str, Any]]:
    """The documents the pipeline would index for generated data (deduplicated, live)."""
    now = dt.datetime.now(tz=dt.UTC)
    records = [to_json(validator.validate(m, now=now)) for m in data.messages]
    return [enrich(r) for r in live_messages(records, content_hash)]


@dataclass
class MatchEvaluation:
    """Strong and fuzzy link quality, and the fuzzy curve over thresholds."""

    strong: Scores
    fuzzy: Scores
    combined: Scores  # strong and fuzzy links together, against every true pair
    curve: list[tuple[float, Scores]]
    persons: int


CURVE = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def evaluate(
    docs: list[dict[str, Any]], truth: dict[str, dict[str, str]], matcher: Matcher | None = None
) -> MatchEvaluation:
    """Compare pairwise links with the truth (pairs of persons in different messages)."""
    matcher = matcher or Matcher.of(default_model())
    refs = [p for d in docs for p in person_refs(d)]
    identity = {p.ref: truth.get(p.message_id, {}).get(p.person_id) for p in refs}
    by_id, by_block = _filed(refs, _identifiers), _filed(refs, matcher.blocker)

    def pair(a: PersonRef, b: PersonRef) -> tuple[str, str]:
        x, y = sorted((a.ref, b.ref))
        return x, y

    strong = {
        pair(a, b)
        for group in by_id.values()
        for a in group
        for b in group
        if a.message_id != b.message_id
    }
    true_pairs = set()
    by_identity: dict[str, list[PersonRef]] = defaultdict(list)
    for p in refs:
        if identity[p.ref]:
            by_identity[identity[p.ref]].append(p)  # type: ignore[index]
    for group in by_identity.values():
        true_pairs |= {pair(a, b) for a in group for b in group if a.message_id != b.message_id}
    scored: dict[tuple[str, str], float] = {}
    for group in by_block.values():
        if len(group) > MAX_BLOCK:
            continue
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.message_id == b.message_id or set(a.identifiers) & set(b.identifiers):
                    continue
                pk = pair(a, b)
                if pk not in scored:
                    scored[pk] = matcher.scorer(a, b)

    def scores(found: set[tuple[str, str]], wanted: set[tuple[str, str]]) -> Scores:
        return Scores(len(found & wanted), len(found - wanted), len(wanted - found))

    fuzzy_wanted = true_pairs - strong
    curve = []
    for t in sorted({*CURVE, matcher.threshold}):
        curve.append((t, scores({k for k, s in scored.items() if s >= t}, fuzzy_wanted)))
    fuzzy_found = {k for k, s in scored.items() if s >= matcher.threshold}
    return MatchEvaluation(
        strong=scores(strong, true_pairs),
        fuzzy=scores(fuzzy_found, fuzzy_wanted),
        combined=scores(strong | fuzzy_found, true_pairs),
        curve=curve,
        persons=len(refs),
    )


@dataclass(frozen=True)
class NetworkAgreement:
    """Networks found by the links against the networks the generator made.

    A made network is a set of messages that share a true person (the links can join
    nothing else); a found one is a connected component of the links (strong and fuzzy).
    """

    made: int  # made networks of two or more messages
    found: int  # found networks of two or more messages
    exact: int  # found networks equal to a made one
    merged: int  # found networks that join messages of two or more made networks
    split: int  # made networks spread over two or more found ones (links missed)

    @property
    def purity(self) -> float:
        """Share of found networks that lie within one made network."""
        return 1 - self.merged / self.found if self.found else 1.0


def candidate_pairs(keys_of: Iterable[Iterable[str]]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of items filed under one key; a block over ``MAX_BLOCK`` is skipped.

    ``keys_of``: each item's blocking keys, in item order.
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(keys_of):
        for key in set(keys):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) <= MAX_BLOCK:
            pairs |= {(a, b) for x, a in enumerate(members) for b in members[x + 1 :]}
    return pairs


def components(pairs: Iterable[tuple[str, str]], nodes: Iterable[str]) -> dict[str, str]:
    """Each node's root in the connected components of ``pairs`` (union-find)."""
    parent: dict[str, str] = {n: n for n in nodes}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    return {n: root(n) for n in parent}


@dataclass(frozen=True)
class OfflineLink:
    """A link between two messages, found offline the way the match stage finds it."""

    a: str
    b: str
    reason: str


def stream_pairs(
    docs: list[dict[str, Any]],
    blocker: Callable[[PersonRef], list[str]],
    decide: Callable[[PersonRef, PersonRef], T | None],
) -> list[T]:
    """What the match stage does, offline: every decision that is not None.

    Persons arrive in document order; each is decided against the newest ``MAX_PER_KEY``
    persons filed under each of its blocking keys (what the stream's table keeps), every
    pair once. Where a key over its bound receives its persons in another order in the
    stream, the two may differ.
    """
    window: dict[str, deque[PersonRef]] = defaultdict(lambda: deque(maxlen=MAX_PER_KEY))
    seen: set[tuple[str, str]] = set()
    out = []
    for new in (p for d in docs for p in person_refs(d)):
        for key in blocker(new):
            for old in window[key]:
                pair = (old.ref, new.ref) if old.ref < new.ref else (new.ref, old.ref)
                if pair not in seen:
                    seen.add(pair)
                    if (found := decide(old, new)) is not None:
                        out.append(found)
            window[key].append(new)
    return out


def offline_person_links(docs: list[dict[str, Any]], model: Model | None = None) -> list[Link]:
    """The fuzzy person links the match stage makes for ``docs`` (``core.matching.fuzzy_link``)."""
    chosen = model or default_model()
    return stream_pairs(docs, chosen.keys, lambda a, b: fuzzy_link(a, b, chosen))


def offline_links(docs: list[dict[str, Any]], model: Model | None = None) -> list[OfflineLink]:
    """Message links from shared identifiers and fuzzy person matches (no stream needed)."""
    refs = [p for d in docs for p in person_refs(d)]
    links: list[OfflineLink] = []
    by_id = _filed(refs, _identifiers)
    for key, group in by_id.items():
        for p in group[1:]:
            links += [
                OfflineLink(x.messages[0], x.messages[1], x.reason)
                for x in strong_links(p, group[:1], key)
            ]
    links += [
        OfflineLink(x.messages[0], x.messages[1], x.reason)
        for x in offline_person_links(docs, model)
    ]
    return links


def offline_networks(docs: list[dict[str, Any]], links: list[OfflineLink]) -> dict[str, str]:
    """Message id -> network id, for the messages of linked sets of two or more.

    Named as the network stage names them (``core.networks.network_id_of``), after the
    set's smallest message id standing in for its founder.
    """
    of = components([(x.a, x.b) for x in links], [d["message_id"] for d in docs])
    members: dict[str, list[str]] = defaultdict(list)
    for m, root in of.items():
        members[root].append(m)
    out: dict[str, str] = {}
    for group in members.values():
        if len(group) > 1:
            out.update(dict.fromkeys(group, network_id_of(min(group))))
    return out


def network_agreement(
    docs: list[dict[str, Any]], truth: dict[str, dict[str, str]], model: Model | None = None
) -> NetworkAgreement:
    """Compare the networks the links make with those the generator made (message level)."""
    refs = [p for d in docs for p in person_refs(d)]
    messages = [d["message_id"] for d in docs]
    identity = {p.ref: truth.get(p.message_id, {}).get(p.person_id) for p in refs}
    made_pairs = [
        (p.message_id, "identity:" + str(identity[p.ref])) for p in refs if identity[p.ref]
    ]
    made_of = components(made_pairs, messages)
    found_of = components([(x.a, x.b) for x in offline_links(docs, model)], messages)
    made_sets: dict[str, set[str]] = defaultdict(set)
    found_sets: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        made_sets[made_of[m]].add(m)
        found_sets[found_of[m]].add(m)
    made = [s for s in made_sets.values() if len(s) > 1]
    found = [s for s in found_sets.values() if len(s) > 1]
    made_frozen = {frozenset(s) for s in made}
    return NetworkAgreement(
        made=len(made),
        found=len(found),
        exact=sum(frozenset(s) in made_frozen for s in found),
        merged=sum(len({made_of[m] for m in s}) > 1 for s in found),
        split=sum(len({found_of[m] for m in s}) > 1 for s in made),
    )
