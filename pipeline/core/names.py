"""Person names across scripts: Latin transliteration, normalised form and matching keys.

``name_key`` is a consonant skeleton computed after transliteration, so spellings and
scripts of one name meet: Mohammed, Muhammad, Mohamed, محمد and Мухаммед all give ``mhmd``.
It is transparent (an analyst can see why two names matched) and works on any
Elasticsearch, which has no ICU plugin in our embedded server.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_ARABIC_ARTICLE = re.compile(r"^\u0627\u0644(?=\S{2,})")  # "ال" glued to a word
# A bare alif opening a word carries its vowel: everyday writing drops the hamza
# (احمد for أحمد, ابراهيم for إبراهيم), which anyascii then drops with it.
_INITIAL_ALIF = re.compile(r"^\u0627(?=\S)")
_LATIN_ARTICLES = {"al", "el", "ul", "ibn", "bin", "ben", "abu", "de", "van", "von", "der"}
_DIGRAPHS = [("kh", "h"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("sh", "s"),
             ("ch", "s"), ("ck", "k"), ("ts", "s"), ("ou", "u"), ("q", "k"), ("c", "k"),
             ("z", "s"), ("x", "ks"), ("v", "f"), ("w", "u"), ("j", "g")]  # fmt: skip
_VOWELS = set("aeiouy")


# Ethiopic ኸ..ኾ (Tigrinya's kh) as ከ..ኮ: Latin spellings write k (ተኽለ is Tekle), where
# anyascii writes h, which the matching keys then drop after a vowel.
_ETHIOPIC_KH = str.maketrans({chr(0x12B8 + i): chr(0x12A8 + i) for i in range(7)})


@lru_cache(maxsize=65536)
def transliterate(text: str) -> str:
    """Latin form of a name in any script (ASCII, spacing normalised)."""
    # ʿayn (ع) is a consonant anyascii drops; keep it as an apostrophe like hamza.
    words = [_ARABIC_ARTICLE.sub("", w) for w in text.translate(_ETHIOPIC_KH).split()]
    words = [_INITIAL_ALIF.sub("'", w).replace("\u0639", "'") for w in words]
    latin = anyascii(" ".join(words))
    return re.sub(r"\s+", " ", latin).strip()


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Casefolded Latin form: ``'Traoré  AL-Hassan'`` -> ``'traore al hassan'``."""
    latin = transliterate(unicodedata.normalize("NFKC", text)).casefold()
    latin = re.sub(r"[^a-z0-9' ]+", " ", latin.replace("-", " "))
    return re.sub(r"\s+", " ", latin).strip()


def tokens(text: str) -> list[str]:
    """Name tokens without articles and particles (al, el, bin, de, van...).

    A leading apostrophe (hamza or ʿayn) reads as an initial vowel: 'brhym -> abrhym.
    """
    out = []
    for token in normalise(text).split():
        token = ("a" + token[1:] if token.startswith("'") else token).replace("'", "")
        if token and token not in _LATIN_ARTICLES:
            out.append(token)
    return out


@lru_cache(maxsize=65536)
def name_key(token: str) -> str:
    """Consonant skeleton of one token: first letter kept (vowels as 'a'), vowels dropped."""
    word = re.sub(r"[^a-z]", "", token.casefold())
    if not word:
        return ""
    first, rest = word[0], word[1:]
    for a, b in _DIGRAPHS:
        if len(a) == 2 and first + rest[:1] == a:  # a digraph at the start: "kh..." -> "h..."
            first, rest = b[0], b[1:] + rest[1:]
        elif first == a:
            first, rest = b[0], b[1:] + rest
        rest = rest.replace(a, b)
    first = "a" if first in _VOWELS - {"y"} else first
    skeleton = first + "".join(c for c in rest if c not in _VOWELS)
    return re.sub(r"(.)\1+", r"\1", skeleton)


def name_keys(*parts: str | None) -> list[str]:
    """Keys of every token of the given name parts (deduplicated, order kept)."""
    out: list[str] = []
    for part in parts:
        for token in tokens(part or ""):
            key = name_key(token)
            if len(key) >= 2 and key not in out:
                out.append(key)
    return out
