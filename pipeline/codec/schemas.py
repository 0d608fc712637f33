"""The schema store: versioned ``.avsc`` files under ``schemas/<subject>/v<N>.avsc``.

Writer schemas are found by their CRC-64-AVRO fingerprint of the Parsing Canonical Form,
computed by fastavro (the ``avro`` package 1.12.2 keeps logical-type attributes in the
canonical form and so gets fingerprints wrong; see the notes in ``shared/``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from pipeline.codec.errors import UnknownSchemaError

_VERSION_FILE = re.compile(r"^v(\d+)\.avsc$")


def schemas_dir() -> Path:
    """Where the ``.avsc`` files are: the installed copy, else the repository's ``schemas/``."""
    packaged = Path(__file__).resolve().parent.parent / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


def canonical_form(schema: Any) -> str:
    """Avro Parsing Canonical Form of a schema (JSON text or parsed JSON)."""
    if isinstance(schema, str):
        schema = json.loads(schema)
    return str(to_parsing_canonical_form(schema))


def crc64_fingerprint(schema: Any) -> int:
    """CRC-64-AVRO fingerprint of the schema's canonical form, as an unsigned 64-bit int.

    fastavro returns the hex of the fingerprint's little-endian bytes (the order the
    single-object header stores them), so the integer is read little-endian.
    """
    return int.from_bytes(
        bytes.fromhex(fingerprint(canonical_form(schema), "CRC-64-AVRO")), "little"
    )


def _without_uuid_logical_type(node: Any) -> Any:
    """Drop ``logicalType: uuid`` for fastavro so UUIDs stay ``str`` (wire bytes are identical)."""
    if isinstance(node, dict):
        out = {k: _without_uuid_logical_type(v) for k, v in node.items()}
        if out.get("logicalType") == "uuid":
            del out["logicalType"]
        return out
    if isinstance(node, list):
        return [_without_uuid_logical_type(v) for v in node]
    return node


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one subject's schema."""

    subject: str
    version: int
    raw: dict[str, Any]
    path: Path | None = None
    parsed: Any = field(init=False, repr=False, compare=False)
    fingerprint: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", crc64_fingerprint(self.raw))
        parsed = fastavro.parse_schema(_without_uuid_logical_type(copy.deepcopy(self.raw)))
        object.__setattr__(self, "parsed", parsed)

    @property
    def fingerprint_le(self) -> bytes:
        """The fingerprint as the 8 little-endian bytes of the single-object header."""
        return self.fingerprint.to_bytes(8, "little")

    @property
    def fullname(self) -> str:
        """Namespace-qualified record name."""
        ns = self.raw.get("namespace")
        return f"{ns}.{self.raw['name']}" if ns else str(self.raw["name"])

    def json(self) -> str:
        """The schema as compact JSON text (what a registry stores)."""
        return json.dumps(self.raw, separators=(",", ":"), ensure_ascii=False)


class SchemaStore:
    """All subjects and versions found under a schemas directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or schemas_dir()
        self._by_subject: dict[str, dict[int, SchemaVersion]] = {}
        self._by_fingerprint: dict[int, SchemaVersion] = {}
        for subject_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for file in sorted(subject_dir.iterdir()):
                match = _VERSION_FILE.match(file.name)
                if match:
                    self.add(subject_dir.name, int(match[1]), json.loads(file.read_text()), file)

    def add(
        self, subject: str, version: int, raw: dict[str, Any], path: Path | None = None
    ) -> SchemaVersion:
        """Register a schema version (files are added at start-up; tests add their own)."""
        sv = SchemaVersion(subject, version, raw, path)
        self._by_subject.setdefault(subject, {})[version] = sv
        self._by_fingerprint[sv.fingerprint] = sv
        return sv

    def subjects(self) -> list[str]:
        """Subject names, sorted."""
        return sorted(self._by_subject)

    def versions(self, subject: str) -> list[SchemaVersion]:
        """Every version of a subject, oldest first."""
        try:
            return [v for _, v in sorted(self._by_subject[subject].items())]
        except KeyError:
            msg = f"no schema subject {subject!r} under {self.root}"
            raise UnknownSchemaError(msg) from None

    def get(self, subject: str, version: int | None = None) -> SchemaVersion:
        """A subject's version, the latest when ``version`` is None."""
        versions = self.versions(subject)
        if version is None:
            return versions[-1]
        for sv in versions:
            if sv.version == version:
                return sv
        msg = f"schema {subject!r} has no version {version}"
        raise UnknownSchemaError(msg)

    def by_fingerprint(self, fp: int) -> SchemaVersion:
        """The writer schema with this fingerprint."""
        try:
            return self._by_fingerprint[fp]
        except KeyError:
            # Goes back to the NCB in its acknowledgement: no server path in it.
            msg = f"unknown schema fingerprint {fp:016x}: not a version of a schema this pipeline knows"
            raise UnknownSchemaError(msg) from None

    def __iter__(self) -> Iterator[SchemaVersion]:
        for subject in self.subjects():
            yield from self.versions(subject)


@cache
def default_store() -> SchemaStore:
    """The store for the project's own ``schemas/`` directory (loaded once per process)."""
    return SchemaStore()
