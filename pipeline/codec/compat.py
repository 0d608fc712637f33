"""Schema evolution rules, checked with the reference ``avro`` package's checker."""

from __future__ import annotations

import json
from dataclasses import dataclass

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from pipeline.codec.schemas import SchemaStore


@dataclass(frozen=True)
class CompatResult:
    """One check: a subject's version against the previous one."""

    subject: str
    version: int
    previous: int | None
    ok: bool
    detail: str


def check_store(store: SchemaStore) -> list[CompatResult]:
    """Each schema parses; each version is BACKWARD compatible with the one before it.

    BACKWARD: a reader on the new version reads data written with the previous one, so
    consumers can upgrade first and NCB gateways at their own pace.
    """
    results: list[CompatResult] = []
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    for subject in store.subjects():
        previous: avro.schema.Schema | None = None
        previous_version: int | None = None
        for sv in store.versions(subject):
            try:
                parsed = avro.schema.parse(json.dumps(sv.raw))
            except Exception as exc:
                results.append(
                    CompatResult(subject, sv.version, None, False, f"does not parse: {exc}")
                )
                previous = None
                continue
            if previous is None:
                results.append(CompatResult(subject, sv.version, None, True, "parses"))
            else:
                res = checker.get_compatibility(reader=parsed, writer=previous)
                ok = res.compatibility is SchemaCompatibilityType.compatible
                detail = "BACKWARD compatible" if ok else "; ".join(sorted(res.messages))
                results.append(CompatResult(subject, sv.version, previous_version, ok, detail))
            previous, previous_version = parsed, sv.version
    return results
