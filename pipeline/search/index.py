"""Index lifecycle: a versioned index (``hst-messages-v1``) behind the alias ``hst-messages``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from elasticsearch import BadRequestError, Elasticsearch

from pipeline.search.mappings import (
    audit_template,
    index_template,
    links_template,
    synthesis_template,
)

if TYPE_CHECKING:
    from pipeline.settings import Settings

INDEX_VERSION = 1
log = logging.getLogger(__name__)


def _properties(template: dict[str, Any]) -> dict[str, Any]:
    return {"properties": template["template"]["mappings"]["properties"]}


def ensure_index(es: Elasticsearch, alias: str, version: int = INDEX_VERSION,
                 template: dict[str, Any] | None = None) -> str:  # fmt: skip
    """Install the template; create ``<alias>-v<version>`` and point the alias at it (idempotent).

    An index that exists already gets the template's new fields (a release that adds one:
    mapping fields are only ever added; changing one takes ``hst reindex``).
    """
    template = template or index_template(alias)
    es.indices.put_index_template(name=f"{alias}-template", **template)
    if es.indices.exists_alias(name=alias):
        current = next(iter(es.indices.get_alias(name=alias)))
        try:
            es.indices.put_mapping(index=current, **_properties(template))
        except BadRequestError as exc:  # a field changed type: the index works as it is
            log.warning("%s keeps its mapping (%s): `hst reindex` rebuilds it", current, exc)
        return current
    index = f"{alias}-v{version}"
    if not es.indices.exists(index=index):
        es.indices.create(index=index, aliases={alias: {}})
    else:
        es.indices.put_alias(index=index, name=alias)
    return index


def ensure_links_index(es: Elasticsearch, alias: str) -> str:
    """The ``hst-links`` index behind its alias (idempotent)."""
    return ensure_index(es, alias, template=links_template(alias))


def ensure_synthesis_index(es: Elasticsearch, alias: str) -> str:
    """The ``hst-synthesis`` index behind its alias (idempotent)."""
    return ensure_index(es, alias, template=synthesis_template(alias))


def ensure_audit_index(es: Elasticsearch, alias: str) -> str:
    """The ``hst-audit`` index behind its alias (idempotent)."""
    return ensure_index(es, alias, template=audit_template(alias))


def ensure_search(es: Elasticsearch, settings: Settings) -> dict[str, str]:
    """Templates, indices and aliases the worker writes to (idempotent): alias -> index.

    Run by ``hst setup`` and by every worker at start-up, and again by a worker that finds
    an alias missing (an engine that lost its data): the worker's writes name aliases only
    and never create an index themselves, so no index exists without the project's mapping.
    """
    return {
        settings.index_alias: ensure_index(es, settings.index_alias),
        settings.links_alias: ensure_links_index(es, settings.links_alias),
        settings.synthesis_alias: ensure_synthesis_index(es, settings.synthesis_alias),
    }
