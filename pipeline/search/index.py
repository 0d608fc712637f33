"""Index lifecycle: a versioned index (``hst-messages-v1``) behind the alias ``hst-messages``."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from pipeline.search.mappings import index_template

INDEX_VERSION = 1


def ensure_index(es: Elasticsearch, alias: str, version: int = INDEX_VERSION) -> str:
    """Install the template; create ``<alias>-v<version>`` and point the alias at it (idempotent)."""
    es.indices.put_index_template(name=f"{alias}-template", **index_template(alias))
    if es.indices.exists_alias(name=alias):
        return next(iter(es.indices.get_alias(name=alias)))
    index = f"{alias}-v{version}"
    if not es.indices.exists(index=index):
        es.indices.create(index=index, aliases={alias: {}})
    else:
        es.indices.put_alias(index=index, name=alias)
    return index
