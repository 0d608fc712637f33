"""Probabilistic person matching (Fellegi-Sunter), with its explanation (pure).

Two reports of a person are compared field by field; each comparison falls in one *level*
(names exactly equal, equal after transliteration, close, one name shared...; birth dates
equal, equal to the month, the year only, one digit apart, day and month swapped...). A
level ``l`` has ``m_l = P(l | same person)`` and ``u_l = P(l | different persons)``; the
match weight is ``log2(prior / (1 - prior)) + sum(log2(m_l / u_l))`` and the probability
``1 / (1 + 2^-weight)``. A value missing on either side is its own level with ``m = u``:
no evidence either way, never a penalty. Every link carries each comparison's level and
weight (the analysts' "why").

The m and u of every level are estimated from labelled pairs (``estimate``) and kept in a
versioned model file (``models/*.json``). Both depend on the population: how often two
different persons share a name and a birth year (u) is not the same among FEBRL's
Australians as among the reports of a smuggling corridor, so a deployment fits its own
(``generate.linkage_fit``). ``person-hst-v1`` (the stream's default) is fitted on HST-like
reports, ``person-febrl-v1`` on the FEBRL tune split.

One name in common (the other different or absent) is weighed by the population: its own
level when neither spelling's key is among the names on 0.3 % or more of the reports the
model was fitted on (``common_keys``, kept in the model file), as Splink's term-frequency
adjustment weighs a rare surname above a common one.

Names are compared order-free, token by token, on their Latin form (``names.tokens``, which
transliterates any script) and on ``match_key``: a consonant skeleton whose classes absorb
what romanisations and letter-by-letter renderings disagree on (kh/h, x/ks, v/w,
j/zh/dzh/dg/g, c/k/q, ph/f, ch/tsh, y/i, a closing h, short vowels), so Мухаммед, محمد and
Mohammed meet; and on ``reading_key``, the same skeleton as other spellings write the name
(Arabic script without p and v: بافل for Pavel; English j for a Fula di: Jallow for Diallo).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from itertools import permutations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jellyfish

if TYPE_CHECKING:  # matching imports this module; a reference needs no import at run time
    from pipeline.core.matching import PersonRef

DEFAULT_MODEL = "person-hst-v1"
DEFAULT_BLOCKING = ("ky", "kmd", "kk", "dob")
BLOCKING_RULES = ("ky", "kmd", "kk", "kf", "dob", "ppy")  # every rule ``blocking_keys`` knows
U_SAMPLES = 2_000_000  # pairs of different persons a fit estimates u on, at most
TARGET_PRECISION = 0.99  # what fuzzy links are judged against (the reachable recall's precision)
RARE_BELOW = 0.003  # a name key on fewer than this share of a population's reports is rare
LABELS = {"birth": "birth date"}  # how a link's reason names a comparison, if not by name
# A level split off an older one scores as that one in a model fitted before the split.
FALLBACK = {"year_only_near": "else"}

# Comparisons and their levels, strongest first; "missing" means no evidence.
LEVELS: dict[str, tuple[str, ...]] = {
    "name": (
        "exact",
        "same_key",
        "close",
        "one_and_near",
        "near_all",
        "one_rare_token",
        "one_token",
        "near_some",
        "else",
        "missing",
    ),
    "birth": (
        "exact",
        "year_month",
        "year_only",
        "transposed",
        "year_only_near",
        "one_digit",
        "year_near",
        "two_digits",
        "else",
        "missing",
    ),
    "nationality": ("agree", "else", "missing"),
    "document": ("conflict", "none"),
}

_RANK = {level: i for i, level in enumerate(LEVELS["name"])}

_RULES = [
    (r"^chr", "kr"),
    (r"kh|gh", "h"),
    (r"shch|sch|tsh|tch", "s"),  # щ; ch as Arabic (تش) and English (Fletcher) write it
    (r"dzh|dj|dg|zh|j", "g"),  # Bridget: Arabic and Cyrillic write dj, dzh
    (r"x", "ks"),  # Alexander, Dixon: Cyrillic and Arabic write ks
    (r"ph", "f"),
    (r"th", "t"),
    (r"sh|ch|ts|tz", "s"),
    (r"(?<=[aeiouy])h(?![aeiouy])|h$", ""),  # Sarah, Sarakh, سارة: no h
    (r"ck|q", "k"),
    (r"c(?=[eiy])", "s"),
    (r"c", "k"),
    (r"z", "s"),
    (r"w", "v"),
    (r"y", "i"),
]
_VOWELS = set("aeiou")


@lru_cache(maxsize=131072)
def match_key(token: str) -> str:
    """Consonant skeleton of one Latin name token, robust to romanisation.

    The first letter is kept (a vowel as ``a``, ``v`` for v/w); later vowels, v/w/i/y
    (long vowels in Arabic script, semi-vowels elsewhere) and repeated letters are dropped.
    """
    word = re.sub(r"[^a-z]", "", token.casefold())
    if not word:
        return ""
    for pattern, repl in _RULES:
        word = re.sub(pattern, repl, word)
    if not word:
        return ""
    first = "a" if word[0] in _VOWELS or word[0] == "i" else word[0]
    rest = [c for c in word[1:] if c not in _VOWELS and c not in "vi"]
    out = first
    for c in rest:
        if c != out[-1]:
            out += c
    return out


@lru_cache(maxsize=131072)
def reading_key(token: str) -> str:
    """``match_key`` of the token as other spellings write it.

    As Arabic script writes it, without p (ب, b) and v (ف, f): بافل is Pavel; and a Fula
    di before a vowel as English writes it, j: Diallo is Jallow, Diarra Jarra (French and
    Arabic keep the d, so ``match_key`` does too); and a word opening with a bare و (w)
    before a consonant as the vowel it stands for: وليفيا is Olivia (careful writing puts an
    alif first; wr and wh are left alone, as English spells Wright and Whitney); and an
    opening gh as the g Eritrean and Turkish spellings mean: Ghebremedhin is Gebremedhin
    (ገብረመድህን), Ghazi Gazi.
    """
    word = re.sub(r"^d[iy](?=[aeiou])", "j", token.replace("p", "b").replace("v", "f"))
    word = re.sub(r"^w(?=[^aeiouyhr])", "u", word)
    word = re.sub(r"^gh", "g", word)
    return match_key(word)


def _same_with_article(key: str, token: str) -> bool:
    """Whether ``token`` read with a leading al is ``key`` (Elias ~ الياس, Alhassan ~ الحسن).

    Arabic writes a name that opens with al or el (Elias, Alexander) like one that carries
    the article ال, which transliteration drops; a name glued to its article in Latin
    (Alhassan) keeps it. Compared both ways, whichever the report meant.
    """
    return key.startswith("al") and len(key) >= 3 and match_key("al" + token) == key


def _same_key(x: str, y: str, kx: str, ky: str) -> bool:
    """Whether two tokens share a key in any reading.

    As spelt, as other spellings write them (``reading_key``), or with the article one of
    them may have lost
    (``kx``, ``ky``: their match keys, which the caller has already).
    """
    if kx == ky and len(kx) >= 2:
        return True
    rx = reading_key(x)
    if len(rx) >= 2 and rx == reading_key(y):
        return True
    return _same_with_article(kx, y) or _same_with_article(ky, x)


def _token_similarity(x: str, y: str) -> float:
    if x == y:
        return 1.0
    sim = jellyfish.jaro_winkler_similarity(x, y)
    kx, ky = match_key(x), match_key(y)
    if _same_key(x, y, kx, ky):
        return max(sim, 0.96)
    if len(kx) >= 3 and len(ky) >= 3:
        sim = max(sim, 0.9 * jellyfish.jaro_winkler_similarity(kx, ky))
    return sim


def _token_class(x: str, y: str) -> str:
    """How two aligned name tokens agree: exact, same key, close, near or different."""
    if x == y:
        return "E"
    sim = _token_similarity(x, y)
    if sim >= 0.96:
        return "K"
    return "C" if sim >= 0.92 else ("N" if sim >= 0.8 else "D")


def name_level(
    a: tuple[str, ...], b: tuple[str, ...], common: Collection[str] | None = None
) -> str:
    """The name comparison's level for two token lists (order-free).

    Tokens are aligned for the best total similarity; the level says how many aligned
    tokens agree and how: all exactly or by key (``same_key``), all closely (``close``), one
    by key and the others nearly (``one_and_near``), all nearly (``near_all``), one by key
    and another not at all or absent (``one_token``; ``one_rare_token`` when the name they
    share is not among the population's ``common`` keys), some nearly (``near_some``), none
    (``else``). Two adjacent tokens of either side are also joined (a name split in two),
    keeping the better level.
    """
    if not a or not b:
        return "missing"
    if sorted(a) == sorted(b):
        return "exact"
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    level = _aligned_level(short, long_, common)
    if _RANK[level] <= _RANK["close"]:
        return level
    # A name split in two ("ale c" for "alec", "vil liam" for William, "dzha kob" for
    # Jacob): joined back, it may agree better. Only joins that start as one of the other
    # report's names are tried (most pairs of different persons have none: cheap).
    for split, other in ((a, b), (b, a)):
        initials = {match_key(t)[:1] for t in other}
        for i in range(min(len(split), 4) - 1):
            glued = split[i] + split[i + 1]
            if match_key(glued)[:1] not in initials:
                continue
            joined = (*split[:i], glued, *split[i + 2 :])
            if sorted(joined) == sorted(other):
                return "same_key"
            fewer, more = (joined, other) if len(joined) <= len(other) else (other, joined)
            again = _aligned_level(fewer, more, common)
            if _RANK[again] < _RANK[level]:
                level = again
    return level


def _aligned_level(
    short: tuple[str, ...], long_: tuple[str, ...], common: Collection[str] | None
) -> str:
    """``name_level`` of ``short`` and ``long_`` (as many tokens or more), aligned as they are."""
    short, long_ = short[:4], long_[:4]
    best, best_perm = -1.0, long_
    for perm in permutations(long_, len(short)):
        total = sum(_token_similarity(x, y) for x, y in zip(short, perm, strict=True))
        if total > best:
            best, best_perm = total, perm
    classes = [_token_class(x, y) for x, y in zip(short, best_perm, strict=True)]
    strong = sum(c in "EK" for c in classes)
    close = strong + classes.count("C")
    near = close + classes.count("N")
    n = len(classes)
    if n >= 2 and strong == n:
        return "same_key"
    if n >= 2 and close == n:
        return "close"
    if n >= 2 and strong >= 1 and near == n:
        return "one_and_near"
    if n >= 2 and near == n:
        return "near_all"
    shared = [
        (x, y)
        for x, y, c in zip(short, best_perm, classes, strict=True)
        if c in "EK" and len(x) >= 3
    ]
    if not shared:
        return "near_some" if near > 0 else "else"
    # One name in common says little when many share it (Sarah), much when few do; a typo
    # does not make a common name rare (Cambpell is Campbell).
    if common is not None and any(
        match_key(x) not in common and match_key(y) not in common for x, y in shared
    ):
        return "one_rare_token"
    return "one_token"


def birth_level(a: Sequence[int | None], b: Sequence[int | None]) -> str:
    """The birth-date comparison's level (year, month, day; any may be unknown)."""
    (ya, ma, da), (yb, mb, db) = a, b
    if ya is None or yb is None:
        return "missing"
    if ma is None or mb is None:
        if ya == yb:
            return "year_only"
        # A year one digit off beside a partial date: a typo is likelier than for a full one.
        return "year_only_near" if _digits_apart(ya, yb) == 1 else "else"
    if ya == yb:
        if ma == mb:
            if da is None or db is None:
                return "year_month"
            if da == db:
                return "exact"
        elif da is not None and db is not None and (ma, da) == (db, mb):
            return "transposed"
    if ma is not None and mb is not None and da is not None and db is not None:
        apart = _digits_apart(ya, yb) + _digits_apart(ma, mb) + _digits_apart(da, db)
        if apart == 1:
            return "one_digit"
        if abs(ya - yb) == 1 and (ma, da) == (mb, db):
            return "year_near"
        if apart == 2 or (ya == yb and (ma, da) == (db, mb)):
            return "two_digits"
    return "else"


def _digits_apart(x: int, y: int) -> int:
    """How many decimal digits two numbers differ by (``05`` and ``15``: one)."""
    apart = 0
    while x != y:
        apart += x % 10 != y % 10
        x, y = x // 10, y // 10
    return apart


def nationality_level(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """Whether the reports share a nationality."""
    if not a or not b:
        return "missing"
    return "agree" if set(a) & set(b) else "else"


def document_level(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """``conflict`` when both carry a travel document of one issuer with other numbers."""
    docs_a = {i.split(":")[1]: i for i in a if i.startswith("doc:")}
    docs_b = {i.split(":")[1]: i for i in b if i.startswith("doc:")}
    for issuer, key in docs_a.items():
        if issuer in docs_b and docs_b[issuer] != key:
            return "conflict"
    return "none"


def common_keys(persons: Iterable[PersonRef], rare_below: float = RARE_BELOW) -> list[str]:
    """The name keys on at least ``rare_below`` of the reports: the population's common names."""
    counts: Counter[str] = Counter()
    n = 0
    for person in persons:
        n += 1
        counts.update({match_key(t) for t in person.tokens} - {""})
    return sorted(k for k, c in counts.items() if c >= rare_below * n)


def levels(a: PersonRef, b: PersonRef, common: Collection[str] | None = None) -> dict[str, str]:
    """Every comparison's level for a pair of reports (``common``: see ``name_level``)."""
    return {
        "name": name_level(a.tokens, b.tokens, common),
        "birth": birth_level(a.birth, b.birth),
        "nationality": nationality_level(a.nationalities, b.nationalities),
        "document": document_level(a.identifiers, b.identifiers),
    }


@dataclass(frozen=True)
class Contribution:
    """One comparison's part in a score."""

    comparison: str
    level: str
    weight: float  # log2(m / u)

    def describe(self) -> str:
        """``name same key: +6.6``."""
        return f"{self.comparison} {self.level.replace('_', ' ')}: {self.weight:+.1f}"


@dataclass(frozen=True)
class Match:
    """A scored pair with its explanation."""

    weight: float
    probability: float
    contributions: tuple[Contribution, ...]

    def explanation(self) -> list[str]:
        """Each comparison's level and weight, strongest first (for the link's evidence)."""
        return [c.describe() for c in self.strongest_first()]

    def strongest_first(self) -> list[Contribution]:
        """The contributions, the weightiest (either way) first."""
        return sorted(self.contributions, key=lambda c: -abs(c.weight))

    def reason(self) -> str:
        """The comparisons that spoke for the link: ``name + birth date + nationality``."""
        agreeing = [
            LABELS.get(c.comparison, c.comparison) for c in self.contributions if c.weight >= 1
        ]
        return " + ".join(agreeing) or "no agreeing field"

    def evidence(self, a: PersonRef, b: PersonRef, prior_weight: float) -> list[str]:
        """The explanation with the values compared, then the prior and the total."""
        shown = {
            "name": (f"'{a.name}'", f"'{b.name}'"),
            "birth": (_date(a.birth), _date(b.birth)),
            "nationality": ("/".join(a.nationalities) or "-", "/".join(b.nationalities) or "-"),
        }
        out = []
        for c in self.strongest_first():
            if abs(c.weight) < 0.05 and c.level != "missing":
                continue  # no conflicting document: nothing to explain
            line = c.describe()
            if c.comparison in shown:
                line += " ({} ~ {})".format(*shown[c.comparison])
            out.append(line)
        out.append(
            f"prior {prior_weight:+.1f}; match weight {self.weight:+.1f}; "
            f"probability {self.probability:.4f}"
        )
        return out


def _date(birth: tuple[int | None, ...]) -> str:
    parts = [f"{v:04d}" if i == 0 else f"{v:02d}" for i, v in enumerate(birth) if v is not None]
    return "-".join(parts) or "-"


@dataclass
class Model:
    """m and u per comparison level, the prior, and the threshold links need."""

    version: str
    prior: float
    threshold: float  # probability
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    trained_on: str = ""
    notes: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=lambda: list(DEFAULT_BLOCKING))
    # The population's common name keys (``common_keys``); None: a model fitted before
    # rare names had their own level.
    common: list[str] | None = None

    def keys(self, person: PersonRef) -> list[str]:
        """The blocking keys this model's candidates meet under (``blocking_keys``)."""
        return blocking_keys(person, self.blocking)

    def weight_of(self, comparison: str, level: str) -> float:
        """log2(m / u) of one level (0 for a level the model has no figures for).

        A level split off another (``FALLBACK``) weighs as that one in a model fitted before
        the split.
        """
        return self._weights.get(comparison, {}).get(level, 0.0)

    @cached_property
    def _weights(self) -> dict[str, dict[str, float]]:
        weights = {
            c: {lv: math.log2(m / self.u[c][lv]) for lv, m in ms.items() if m and self.u[c].get(lv)}
            for c, ms in self.m.items()
        }
        for c, ws in weights.items():  # a model fitted before a level was split off
            for level, parent in FALLBACK.items():
                if level in LEVELS.get(c, ()) and level not in ws and parent in ws:
                    ws[level] = ws[parent]
        return weights

    @cached_property
    def _need(self) -> float:
        """The weight the comparisons must add to the prior's to reach the threshold."""
        t = min(max(self.threshold, 1e-12), 1 - 1e-12)
        return math.log2(t / (1 - t)) - self.prior_weight

    @cached_property
    def _best(self) -> dict[str, float]:
        """Each comparison's strongest weight, and (``all``) their sum."""
        best = {c: max(ws.values(), default=0.0) for c, ws in self._weights.items()}
        return {**best, "all": sum(best.values())}

    def _birth_weight(self, a: Sequence[int | None], b: Sequence[int | None]) -> float | None:
        """The birth comparison's weight; None when the others could not reach the threshold.

        None: even the best level of every other comparison would leave the total under it.
        """
        return self._birth_within_reach.get(birth_level(a, b))

    @cached_property
    def _birth_within_reach(self) -> dict[str, float]:
        """The birth levels that leave the threshold within reach, with their weights."""
        others = self._best["all"] - self._best["birth"]
        return {
            level: weight
            for level in LEVELS["birth"]
            if (weight := self._weights["birth"].get(level, 0.0)) + others >= self._need
        }

    def birth_may_link(self, a: Sequence[int | None], b: Sequence[int | None]) -> bool:
        """Whether two birth dates leave a link within reach of the other comparisons."""
        return self._birth_weight(a, b) is not None

    def link(self, a: PersonRef, b: PersonRef) -> Match | None:
        """The pair's match if its probability reaches the threshold, else None.

        Birth dates first: when even the best of every other comparison could not lift the
        weight to the threshold (most candidates of a block), nothing else is compared;
        then the same with nationality and documents before names.
        """
        w, best, need = self._weights, self._best, self._need
        birth = self._birth_weight(a.birth, b.birth)
        if birth is None:
            return None
        cheap = birth
        cheap += w["nationality"].get(nationality_level(a.nationalities, b.nationalities), 0.0)
        cheap += w["document"].get(document_level(a.identifiers, b.identifiers), 0.0)
        if cheap + best["name"] < need:
            return None
        match = self.score(a, b)
        return match if match.probability >= self.threshold else None

    @cached_property
    def stamp(self) -> str:
        """The version and a digest of what decides a link: what each fuzzy link records.

        A refit under one version name changes the digest; after ``hst matching refile`` on
        a new model, a link still stamped with an older one is a link it did not make again.
        """
        decides = {k: v for k, v in self.to_dict().items() if k not in ("trained_on", "notes")}
        raw = json.dumps(decides, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:8]
        return f"{self.version}/{digest}"

    @cached_property
    def _common(self) -> frozenset[str] | None:
        return None if self.common is None else frozenset(self.common)

    @cached_property
    def prior_weight(self) -> float:
        """log2 of the prior odds that two reports are of one person."""
        return math.log2(self.prior / (1 - self.prior))

    def combination(self, a: PersonRef, b: PersonRef) -> tuple[str, ...]:
        """The pair's level of each comparison, in ``LEVELS`` order (all its score sees)."""
        return tuple(levels(a, b, self._common).values())

    def score(self, a: PersonRef, b: PersonRef) -> Match:
        """The pair's weight, probability and explanation."""
        found = levels(a, b, self._common)
        parts = tuple(Contribution(c, lv, self.weight_of(c, lv)) for c, lv in found.items())
        weight = self.prior_weight + sum(p.weight for p in parts)
        probability = 1 / (1 + 2 ** (-weight)) if weight > -1000 else 0.0
        return Match(weight, probability, parts)

    def to_dict(self) -> dict[str, Any]:
        """The model file's content."""
        return asdict(self)


def estimate(
    true_pairs: Iterable[Mapping[str, str]],
    other_pairs: Iterable[Mapping[str, str]],
    prior: float,
    threshold: float,
    trained_on: str = "",
    version: str = DEFAULT_MODEL,
    blocking: Sequence[str] = DEFAULT_BLOCKING,
    common: Sequence[str] | None = None,
) -> Model:
    """Estimate m from the levels of true pairs, u from those of different persons' pairs.

    Laplace smoothing keeps every level possible; a "missing" level gets m = u (no evidence).
    """

    def shares(pairs: Iterable[Mapping[str, str]]) -> dict[str, dict[str, float]]:
        counts: dict[str, dict[str, int]] = {c: dict.fromkeys(lv, 1) for c, lv in LEVELS.items()}
        n = 0
        for found in pairs:
            n += 1
            for c, lv in found.items():
                counts[c][lv] += 1
        return {
            c: {lv: k / (n + len(LEVELS[c])) for lv, k in ks.items()} for c, ks in counts.items()
        }

    m, u = shares(true_pairs), shares(other_pairs)
    for c in LEVELS:
        if "missing" in LEVELS[c]:
            u[c]["missing"] = m[c]["missing"]
    common_list = None if common is None else list(common)
    return Model(
        version, prior, threshold, m, u, trained_on, blocking=list(blocking), common=common_list
    )


@lru_cache(maxsize=8)
def load_model(name: str = DEFAULT_MODEL) -> Model:
    """A model shipped with the package (``core/models/<name>.json``) or a model file's path."""
    models = resources.files("pipeline.core") / "models"
    shipped = models / f"{name}.json"
    if shipped.is_file():
        return Model(**json.loads(shipped.read_text()))
    if not Path(name).is_file():
        names = sorted(p.name[:-5] for p in models.iterdir() if p.name.endswith(".json"))
        msg = f"person model {name!r}: neither a shipped model ({', '.join(names)}) nor a file"
        raise ValueError(msg)
    return Model(**json.loads(Path(name).read_text()))


def default_model() -> Model:
    """The stream's default model (``person-hst-v1``)."""
    return load_model(DEFAULT_MODEL)


def blocking_keys(person: PersonRef, rules: Sequence[str] = DEFAULT_BLOCKING) -> list[str]:
    """Keys whose candidates are unioned, so that one differing field loses no pair.

    Rules: ``ky`` each name token's ``match_key`` (and ``reading_key``, when it differs)
    with the birth year (the usual case);
    ``kmd`` with the birth month and day (a typo in the year); ``kk`` two tokens' keys
    together (no or a wrong birth date); ``kf`` a token's key with another token's initial
    (as ``kk``, and a typo in the other name: larger blocks where names are common);
    ``dob`` the full birth date alone (a name in another script or badly rendered);
    ``ppy`` the first two letters of two tokens' keys with the birth year (a typo late in
    each name: Travis Stubbs ~ Travks Stubsb, born 1939).
    """
    readings = [{k for k in (match_key(t), reading_key(t)) if k} for t in person.tokens]
    every = sorted({k for reading in readings for k in reading})
    keys = [k for k in every if len(k) >= 2]
    year, month, day = person.birth
    out = set()
    for k in keys:
        if year is not None and "ky" in rules:
            out.add(f"ky:{k}:{year}")
        if month is not None and day is not None and "kmd" in rules:
            out.add(f"kmd:{k}:{month}-{day}")
    # Two names together: keys of two different tokens (a token with its own Arabic
    # reading is one name, which says too little).
    pairs = {
        (k1, k2)
        for i, first in enumerate(readings)
        for second in readings[i + 1 :]
        for k1 in first
        for k2 in second
        if k1 != k2
    }
    for k1, k2 in pairs:
        if "kk" in rules and max(len(k1), len(k2)) >= 3:  # two short names say too little
            out.add("kk:{}:{}".format(*sorted((k1, k2))))
        if "ppy" in rules and year is not None:
            out.add("ppy:{}:{}:{}".format(*sorted((k1[:2], k2[:2])), year))
        if "kf" in rules:
            for k, other in ((k1, k2), (k2, k1)):
                if len(k) >= 2:
                    out.add(f"kf:{k}:{other[0]}")
    if None not in (year, month, day) and "dob" in rules:
        out.add(f"dob:{year}-{month}-{day}")
    return sorted(out)
