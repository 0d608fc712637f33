"""Index template for ``hst-messages``: explicit mappings for every field analysts use."""

from __future__ import annotations

from typing import Any

from pipeline.core.synthesis import MEASURES

KW = {"type": "keyword"}
DATE = {"type": "date"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
GEO = {"type": "geo_point"}


def text_kw(analyzer: str = "hst_name") -> dict[str, Any]:
    """Text for full-text search with a keyword sub-field for exact match and aggregations."""
    return {
        "type": "text",
        "analyzer": analyzer,
        "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
    }


SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {
        "analyzer": {
            # Names arrive transliterated to Latin; fold accents (Traoré = Traore).
            "hst_name": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding"],
            },
        }
    },
}

# A link, as carried on both documents and (with its ends and network) in ``hst-links``.
LINK_PROPERTIES: dict[str, Any] = {
    "link_id": KW,
    "kind": KW,
    "score": {"type": "float"},
    "reason": KW,
    "evidence": {"type": "text"},
    "key": KW,
    "message_ids": KW,
    "ncbs": KW,
    "model": KW,  # the person model that made a fuzzy link
}

PERSON: dict[str, Any] = {
    "type": "nested",
    "properties": {
        "person_id": KW,
        "role": KW,
        "given_name": text_kw(),
        "family_name": text_kw(),
        "full_name": text_kw(),
        "original_script_name": text_kw("standard"),
        "script": KW,
        "name_latin": text_kw(),
        "name_normalised": KW,
        "name_keys": KW,
        "aliases": text_kw(),
        "aliases_normalised": KW,
        "sex": KW,
        "birth_date": KW,
        "birth_year": INT,
        "age_min": INT,
        "age_max": INT,
        "is_minor": BOOL,
        "nationalities": KW,
        # Plain objects inside the nested person: each nested object is a hidden document, and
        # no query needs to correlate two fields of one phone or one document.
        "phones": {"properties": {"raw": KW, "e164": KW, "country": KW}},
        "emails": KW,
        "online_accounts": {"properties": {"platform": KW, "handle": KW, "handle_normalised": KW}},
        "documents": {
            "properties": {
                "document_type": KW,
                "number": KW,
                "number_normalised": KW,
                "issuing_country": KW,
                "issue_date": DATE,
                "expiry_date": DATE,
                "status": KW,
                "suspicious": BOOL,
            },
        },
        "links": {"properties": {"person_id": KW, "relation": KW}},
    },
}

MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "message_id": KW,
        "schema_version": INT,
        "source_ncb": KW,
        "source_ncb_name": KW,
        "created_at": DATE,
        "event_time": DATE,
        "action": KW,
        "supersedes_message_id": KW,
        "related_message_ids": KW,
        "case_refs": KW,
        "operation_name": KW,
        "reporting_unit": KW,
        "handling": {
            "properties": {
                "handling_codes": KW,
                "source_reliability": KW,
                "information_accuracy": INT,
                "dissemination_allowlist": KW,
                "dissemination_denylist": KW,
                "contains_minor": BOOL,
                "retention_review_date": DATE,
            }
        },
        "contains_minor_effective": BOOL,
        "incident": {
            "properties": {
                "incident_type": KW,
                "exploitation_types": KW,
                "control_methods": KW,
                "narrative": {"type": "text"},
                "narrative_language": KW,
                "dead_count": INT,
                "missing_count": INT,
                "survivor_count": INT,
                "cause_of_death": KW,
            }
        },
        "route": {
            "properties": {
                "origin_country": KW,
                "transit_countries": KW,
                "destination_country": KW,
                "path": KW,
                "countries": KW,
                "country_names": KW,
                "regions": KW,
                "sub_regions": KW,
                "events": {
                    "properties": {
                        "event_type": KW,
                        "date": DATE,
                        "country": KW,
                        "country_name": KW,
                        "place": text_kw(),
                        "location": GEO,
                        "location_source": KW,
                    },
                },
            }
        },
        "location": GEO,
        "location_source": KW,
        "incident_sub_region": KW,
        "persons": PERSON,
        "vehicles": {"properties": {"plate": KW, "country": KW, "make": KW, "model": KW}},
        "vessels": {"properties": {"name": KW, "imo": KW, "mmsi": KW, "flag": KW}},
        "payments": {
            "properties": {
                "amount": {"type": "double"},
                "currency": KW,
                "channel": KW,
                "payer_account": KW,
                "payee_account": KW,
                "date": DATE,
            }
        },
        "identifiers": KW,
        "counts": {
            "properties": {
                "persons": INT,
                "victims": INT,
                "minors": INT,
                "dead": INT,
                "missing": INT,
                "suspicious_documents": INT,
            }
        },
        "priority_score": INT,
        "priority_reasons": KW,
        "absorbed_message_ids": KW,
        "screening": {
            "properties": {
                "list": KW,
                "kind": KW,
                "value": KW,
                "identifier": KW,
                "reference": KW,
                "note": {"type": "text"},
            }
        },
        # Cross-matching (written by the network stage; the links are in hst-links).
        "network_id": KW,
        "kafka": {
            "properties": {
                "topic": KW,
                "partition": INT,
                "offset": {"type": "long"},
                "timestamp": DATE,
            }
        },
        "processing": {
            "properties": {"received_at": DATE, "indexed_at": DATE, "acked_at": DATE, "worker": KW}
        },
    },
}


def template_priority(alias: str) -> int:
    """A longer alias is more specific: its template wins where patterns overlap.

    ``hst-links-*`` also matches the indices of an alias such as ``hst-links-e2e-1a2b`` (a
    test or a benchmark beside production); two templates of equal priority whose patterns
    overlap are refused by the engine.
    """
    return 100 + len(alias)


def index_template(alias: str) -> dict[str, Any]:
    """The composable index template for ``<alias>-*`` indices."""
    return {"index_patterns": [f"{alias}-*"], "template": {"settings": SETTINGS, "mappings": MAPPINGS},
            "priority": template_priority(alias)}  # fmt: skip


LINK_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        **LINK_PROPERTIES,
        "a": KW,
        "b": KW,
        "network_id": KW,
        "created_at": DATE,
    },
}


def links_template(alias: str) -> dict[str, Any]:
    """The index template of the ``hst-links`` indices (one document per link)."""
    return {"index_patterns": [f"{alias}-*"],
            "template": {"settings": {"number_of_shards": 1}, "mappings": LINK_MAPPINGS},
            "priority": template_priority(alias)}  # fmt: skip


SYNTHESIS_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "record_id": KW,
        "kind": KW,
        "granularity": KW,
        "series": KW,
        "dimension": KW,
        "value": KW,
        "window_start": DATE,
        "window_end": DATE,
        # Every measure is a long; roles appear as role:<ROLE> (mapped by the dynamic template).
        "measures": {
            "type": "object",
            "dynamic": True,
            "properties": {m: {"type": "long"} for m in MEASURES},
        },
        "z": {"type": "double"},
        "median": {"type": "double"},
        "mad": {"type": "double"},
        "baseline": {"type": "long"},
        "reason": {"type": "text"},
        "created_at": DATE,
    },
    "dynamic_templates": [
        {"measures": {"path_match": "measures.*", "mapping": {"type": "long"}}},
    ],
}


def synthesis_template(alias: str) -> dict[str, Any]:
    """The index template of the ``hst-synthesis`` indices (cells and alerts)."""
    return {"index_patterns": [f"{alias}-*"],
            "template": {"settings": {"number_of_shards": 1}, "mappings": SYNTHESIS_MAPPINGS},
            "priority": template_priority(alias)}  # fmt: skip


AUDIT_FILTERS = ("text", "person", "document", "phone", "phone_country", "country", "route",
                 "since", "ncb", "min_priority", "network")  # fmt: skip

AUDIT_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "audit_id": KW,
        "at": DATE,
        "analyst": KW,
        "analyst_verified": {"type": "boolean"},
        "analyst_claimed": KW,
        "host": KW,
        "command": KW,
        "filters": {"properties": {f: KW for f in AUDIT_FILTERS}},
        "query": {"type": "text", "index": False},
        "total": {"type": "long"},
        "returned_ids": KW,
    },
}


def audit_template(alias: str) -> dict[str, Any]:
    """The index template of the ``hst-audit`` indices (one document per analyst search)."""
    return {"index_patterns": [f"{alias}-*"],
            "template": {"settings": {"number_of_shards": 1}, "mappings": AUDIT_MAPPINGS},
            "priority": template_priority(alias)}  # fmt: skip
