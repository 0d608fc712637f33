"""Cross-matching persons and objects across messages (pure: no I/O).

Two kinds of link, each with its reason, evidence and score:

- **Strong**: two persons (or two messages, for vessels, vehicles and bank accounts) share a
  strong identifier: a travel document number with its issuing country, an E.164 phone,
  an e-mail, an online account, a vessel IMO/MMSI, a vehicle plate with its country, a bank
  account. Score 1.0.
- **Fuzzy person**: no shared identifier, but the probabilistic matcher
  (``core.linkage``: Fellegi-Sunter levels of name, birth date, nationality and
  conflicting documents, weights from a fitted model file) gives a probability at or above
  the model's threshold. Candidates come from the model's blocking keys, so only persons
  sharing a key are compared. Each link's evidence is every comparison's level, weight and
  values. The threshold favours precision: a false link between a victim and a smuggler is
  worse than a missed one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pipeline.core import linkage
from pipeline.core.names import tokens

STRONG = "strong_identifier"
FUZZY = "fuzzy_person"

# Person-level identifier kinds; the rest (imo, mmsi, plate, bank account) belong to the
# message and link messages, not persons.
PERSON_KINDS = ("doc", "phone", "email", "account")

_KIND_LABEL = {
    "doc": "travel document",
    "phone": "phone",
    "email": "e-mail",
    "account": "online account",
    "imo": "vessel IMO",
    "mmsi": "vessel MMSI",
    "plate": "vehicle plate",
}


@dataclass(frozen=True)
class PersonRef:
    """What matching needs of one person in one message."""

    message_id: str
    person_id: str
    source_ncb: str
    role: str | None
    name: str  # normalised full name, Latin, casefolded
    tokens: tuple[str, ...]
    birth: tuple[int | None, int | None, int | None]
    nationalities: tuple[str, ...]
    identifiers: tuple[str, ...]

    @cached_property
    def ref(self) -> str:
        """Globally unique ``message_id/person_id``."""
        return f"{self.message_id}/{self.person_id}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (tables, topics)."""
        return {
            "message_id": self.message_id,
            "person_id": self.person_id,
            "source_ncb": self.source_ncb,
            "role": self.role,
            "name": self.name,
            "tokens": list(self.tokens),
            "birth": list(self.birth),
            "nationalities": list(self.nationalities),
            "identifiers": list(self.identifiers),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PersonRef:
        """Inverse of ``to_dict``."""
        b = d.get("birth") or [None, None, None]
        return cls(
            d["message_id"],
            d["person_id"],
            d["source_ncb"],
            d.get("role"),
            d["name"],
            tuple(d["tokens"]),
            (b[0], b[1], b[2]),
            tuple(d["nationalities"]),
            tuple(d["identifiers"]),
        )


@dataclass(frozen=True)
class Link:
    """A scored, explained link between two persons (or two messages)."""

    kind: str  # STRONG or FUZZY
    a: str  # ref "message_id/person_id" (or "message_id/" for a message-level object)
    b: str
    score: float
    reason: str
    evidence: list[str] = field(default_factory=list)
    ncbs: tuple[str, str] = ("", "")
    key: str | None = None  # the shared identifier, for strong links
    model: str | None = None  # the person model that made a fuzzy link (``Model.stamp``)

    @property
    def messages(self) -> tuple[str, str]:
        """The two message ids."""
        return self.a.split("/", 1)[0], self.b.split("/", 1)[0]

    @property
    def link_id(self) -> str:
        """Deterministic id: the same pair and reason always gives the same link (idempotent)."""
        a, b = sorted((self.a, self.b))
        raw = f"{self.kind}|{a}|{b}|{self.key or ''}"
        return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:20]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form, as indexed in ``hst-links``."""
        (ma, mb), (na, nb) = self.messages, self.ncbs
        return {
            "link_id": self.link_id,
            "kind": self.kind,
            "score": round(self.score, 4),
            "reason": self.reason,
            "evidence": self.evidence,
            "key": self.key,
            "a": self.a,
            "b": self.b,
            "message_ids": [ma, mb],
            "ncbs": [na, nb],
            **({"model": self.model} if self.model else {}),
        }


def _birth(text: str | None) -> tuple[int | None, int | None, int | None]:
    if not text:
        return (None, None, None)
    parts = [int(p) for p in text.split("-")]
    parts += [None] * (3 - len(parts))  # type: ignore[list-item]
    return (parts[0], parts[1], parts[2])


def person_identifiers(person: dict[str, Any]) -> list[str]:
    """Strong identifiers of one enriched person, as ``kind:value``."""
    out = [
        f"doc:{d['issuing_country']}:{d['number_normalised']}"
        for d in person.get("documents") or []
    ]
    out += [f"phone:{ph['e164']}" for ph in person.get("phones") or [] if ph.get("e164")]
    out += [f"email:{e}" for e in person.get("emails") or []]
    out += [
        f"account:{a['platform'].lower()}:{a['handle_normalised']}"
        for a in person.get("online_accounts") or []
    ]
    return sorted(set(out))


def object_identifiers(doc: dict[str, Any]) -> list[str]:
    """Message-level strong identifiers (vessels, vehicles, bank accounts)."""
    ids = [i for i in doc.get("identifiers") or [] if i.split(":", 1)[0] not in PERSON_KINDS]
    ids += [i for i in doc.get("identifiers") or [] if i.startswith("account:bank:")]
    return sorted(set(ids))


def person_refs(doc: dict[str, Any]) -> list[PersonRef]:
    """Matching view of every person of an enriched message."""
    out = []
    for p in doc.get("persons") or []:
        name = p.get("name_normalised") or ""
        out.append(
            PersonRef(
                message_id=doc["message_id"],
                person_id=p["person_id"],
                source_ncb=doc["source_ncb"],
                role=p.get("role"),
                name=name,
                tokens=tuple(tokens(p.get("name_latin") or name)),
                birth=_birth(p.get("birth_date")),
                nationalities=tuple(p.get("nationalities") or []),
                identifiers=tuple(person_identifiers(p)),
            )
        )
    return out


def strong_links(new: PersonRef, seen: Iterable[PersonRef], key: str) -> list[Link]:
    """Links of ``new`` to persons already seen under the strong identifier ``key``."""
    kind, _, value = key.partition(":")
    label = _KIND_LABEL.get(kind, kind)
    out = []
    for old in seen:
        if old.message_id == new.message_id:
            continue
        out.append(
            Link(
                STRONG,
                old.ref,
                new.ref,
                1.0,
                f"same {label}",
                [f"same {label} {value}"],
                (old.source_ncb, new.source_ncb),
                key,
            )
        )
    return out


def fuzzy_link(a: PersonRef, b: PersonRef, model: linkage.Model) -> Link | None:
    """The link between two persons if the model's probability reaches its threshold.

    Scored in the order of their refs, so the stream and an offline replay, which meet a
    pair in either order, give the same link.
    """
    if a.message_id == b.message_id:
        return None
    first, second = (a, b) if a.ref <= b.ref else (b, a)
    match = model.link(first, second)
    if match is None or not set(a.identifiers).isdisjoint(b.identifiers):
        return None  # no match, or one already linked strongly
    return Link(
        FUZZY,
        first.ref,
        second.ref,
        match.probability,
        f"{match.reason()} (p {match.probability:.3f})",
        match.evidence(first, second, model.prior_weight),
        (first.source_ncb, second.source_ncb),
        model=model.stamp,
    )


def fuzzy_links(
    new: PersonRef, candidates: Iterable[PersonRef], model: linkage.Model | None = None
) -> list[Link]:
    """Links of ``new`` to the candidates the model judges to be the same person."""
    model = model or linkage.default_model()
    return [link for old in candidates if (link := fuzzy_link(old, new, model))]


def object_links(
    message_id: str, source_ncb: str, seen: Iterable[tuple[str, str]], key: str
) -> list[Link]:
    """Message-to-message links through a shared vessel, vehicle or bank account."""
    kind, _, value = key.partition(":")
    label = "bank account" if key.startswith("account:bank:") else _KIND_LABEL.get(kind, kind)
    return [
        Link(
            STRONG,
            f"{old}/",
            f"{message_id}/",
            1.0,
            f"same {label}",
            [f"same {label} {value}"],
            (ncb, source_ncb),
            key,
        )
        for old, ncb in seen
        if old != message_id
    ]


# Persons kept per key: a key shared by more is not evidence of anything (a hotline number).
MAX_PER_KEY = 200


def person_entry(person: dict[str, Any]) -> list[Any]:
    """What a key's entry keeps of a person (``PersonRef.to_dict()`` + ``created_at``).

    A list: the entry is read and written at every match under its key.
    """
    return [
        person["message_id"],
        person["person_id"],
        person["source_ncb"],
        person.get("role"),
        person["name"],
        list(person["tokens"]),
        list(person.get("birth") or [None] * 3),
        list(person["nationalities"]),
        list(person["identifiers"]),
        person["created_at"],
    ]


def object_entry(obj: dict[str, Any]) -> list[Any]:
    """What a key's entry keeps of a message carrying an object identifier."""
    return [obj["message_id"], obj["source_ncb"], obj["created_at"]]


def _person(x: Any) -> tuple[PersonRef, str] | None:
    """The person of an entry item and its message's ``created_at`` (None: an object)."""
    if isinstance(x, dict):  # an entry written before entries were lists
        return (PersonRef.from_dict(x), x["created_at"]) if x.get("person_id") else None
    if len(x) != 10:
        return None
    b = x[6]
    ref = PersonRef(
        x[0], x[1], x[2], x[3], x[4], tuple(x[5]), (b[0], b[1], b[2]), tuple(x[7]), tuple(x[8])
    )
    return ref, x[9]


def _message(x: Any) -> tuple[str, str, str]:
    """message_id, source NCB and ``created_at`` of any entry item."""
    if isinstance(x, dict):
        return x["message_id"], x["source_ncb"], x["created_at"]
    return (x[0], x[2], x[9]) if len(x) == 10 else (x[0], x[1], x[2])


@dataclass(frozen=True)
class KeyMatch:
    """What matching under one key found, and the key's entry to keep."""

    links: list[Link]
    entry: list[Any]  # the entry given, itself, when nothing changed (nothing to write)
    created: dict[str, str]  # message_id -> created_at, for the messages the links join


def match_person(
    entry: list[Any],
    person: dict[str, Any],
    key: str,
    *,
    strong: bool,
    model: linkage.Model | None = None,
) -> KeyMatch:
    """Link a person to those seen under ``key`` (a strong identifier or a name blocking key).

    A pair sharing several blocking keys is scored once, under the smallest key both carry.
    A person already under ``key`` (a replay, or ``hst matching refile`` after a model
    change) is matched again and leaves the entry as it is (the same list): its links come
    again with the same ids, and pairs a new model links are linked.
    """
    new = PersonRef.from_dict(person)
    if strong:
        seen = [(ref, created) for ref, created in filter(None, map(_person, entry))]
        created = {ref.message_id: at for ref, at in seen}
        known = any(ref.ref == new.ref for ref, _ in seen)
        links = strong_links(new, [ref for ref, _ in seen if ref.ref != new.ref], key)
    else:
        links, created, known = _fuzzy_under_key(entry, new, key, model or linkage.default_model())
    created[new.message_id] = person["created_at"]
    kept = entry if known else [*entry, person_entry(person)][-MAX_PER_KEY:]
    return KeyMatch(links, kept, created)


def _fuzzy_under_key(
    entry: list[Any], new: PersonRef, key: str, model: linkage.Model
) -> tuple[list[Link], dict[str, str], bool]:
    """(links, message_id -> created_at of the entry, whether ``new`` is in it already).

    Only the persons whose birth date leaves a link within reach are read in full (an
    entry holds up to ``MAX_PER_KEY``, and a person is matched under several keys).
    """
    created: dict[str, str] = {}
    candidates: list[PersonRef] = []
    known = False
    for x in entry:
        head = _head(x)
        if head is None:
            continue
        message_id, person_id, at, birth = head
        created[message_id] = at
        if message_id == new.message_id:
            known = known or person_id == new.person_id
            continue
        if model.birth_may_link(new.birth, birth) and (found := _person(x)):
            candidates.append(found[0])
    linked = fuzzy_links(new, candidates, model)
    if not linked:
        return [], created, known
    # A pair sharing several keys is linked under the smallest; a candidate filed under
    # keys it no longer carries (blocking changed) is linked here.
    mine = set(model.keys(new))
    other = {r.ref: r for r in candidates}

    def owned_here(link: Link) -> bool:
        theirs = model.keys(other[link.b if link.a == new.ref else link.a])
        return min(mine & set(theirs), default=key) == key

    links = [link for link in linked if owned_here(link)]
    return links, created, known


def _head(x: Any) -> tuple[str, str, str, list[int | None]] | None:
    """message_id, person_id, created_at and birth of a person item (None: an object)."""
    if isinstance(x, dict):  # an entry written before entries were lists
        if not x.get("person_id"):
            return None
        return x["message_id"], x["person_id"], x["created_at"], x.get("birth") or [None] * 3
    if len(x) != 10:
        return None
    return x[0], x[1], x[9], x[6] or [None] * 3


def match_object(entry: list[Any], obj: dict[str, Any], key: str) -> KeyMatch:
    """Link a message carrying the object identifier ``key`` to the others that carry it."""
    others = [_message(x) for x in entry]
    links = object_links(obj["message_id"], obj["source_ncb"], [(m, n) for m, n, _ in others], key)
    created = {m: at for m, _, at in others} | {obj["message_id"]: obj["created_at"]}
    known = any(m == obj["message_id"] for m, _, _ in others)
    kept = entry if known else [*entry, object_entry(obj)][-MAX_PER_KEY:]
    return KeyMatch(links, kept, created)
