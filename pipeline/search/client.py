"""Elasticsearch clients from settings; the embedded OpenSearch engine included.

Production is Elasticsearch and the client talks to it unchanged. Against OpenSearch (the
embedded engine) the official client needs two things, both confined to the node classes
below and used only when ``search_compat_headers`` is on (default: the embedded engine):

- it sends ``application/vnd.elasticsearch+json; compatible-with=N``, which OpenSearch
  refuses (406): the nodes send plain JSON content types instead;
- it refuses every 2xx answer without ``X-Elastic-Product: Elasticsearch``
  (``UnsupportedProductError``): the nodes mark OpenSearch's answers with that header.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from elastic_transport import AiohttpHttpNode, HttpHeaders, Urllib3HttpNode
from elastic_transport._models import DEFAULT, DefaultType
from elastic_transport._node import NodeApiResponse
from elasticsearch import AsyncElasticsearch, Elasticsearch, OrjsonSerializer

from pipeline.settings import Settings


def _plain_headers(headers: HttpHeaders | None) -> HttpHeaders | None:
    if headers is None:
        return None
    out = headers.copy()
    for name in ("accept", "content-type"):
        value = out.get(name)
        if value and "vnd.elasticsearch" in value:
            out[name] = "application/x-ndjson" if "x-ndjson" in value else "application/json"
    return out


def _as_elasticsearch(response: NodeApiResponse) -> NodeApiResponse:
    """The answer with the product header the client checks for."""
    headers = HttpHeaders(response.meta.headers)
    headers["x-elastic-product"] = "Elasticsearch"
    return NodeApiResponse(dataclasses.replace(response.meta, headers=headers), response.body)


class OpenSearchUrllib3Node(Urllib3HttpNode):
    """Sync node for OpenSearch: plain JSON requests, answers marked as Elasticsearch's."""

    def perform_request(  # noqa: D102
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        return _as_elasticsearch(
            super().perform_request(method, target, body, _plain_headers(headers), request_timeout)
        )


class OpenSearchAiohttpNode(AiohttpHttpNode):
    """Async node for OpenSearch: plain JSON requests, answers marked as Elasticsearch's."""

    async def perform_request(  # type: ignore[override]  # noqa: D102
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        **kwargs: Any,
    ) -> NodeApiResponse:
        return _as_elasticsearch(
            await super().perform_request(method, target, body, _plain_headers(headers), **kwargs)
        )


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    # orjson both ways: the standard library's decoder of bulk answers and search hits was
    # 2 % of the worker's CPU.
    kwargs: dict[str, Any] = {
        "request_timeout": settings.search_timeout,
        "retry_on_timeout": True,
        "max_retries": 2,
        "serializer": OrjsonSerializer(),
    }
    if settings.search_api_key:
        kwargs["api_key"] = settings.search_api_key.get_secret_value()
    elif settings.search_username and settings.search_password:
        kwargs["basic_auth"] = (
            settings.search_username,
            settings.search_password.get_secret_value(),
        )
    if settings.search_ca_certs:
        kwargs["ca_certs"] = str(settings.search_ca_certs)
    return kwargs


def _compat(settings: Settings) -> bool:
    if settings.search_compat_headers is not None:
        return settings.search_compat_headers
    return settings.embedded_search


def sync_client(settings: Settings) -> Elasticsearch:
    """A blocking client (CLI commands, tests)."""
    kwargs = _client_kwargs(settings)
    if _compat(settings):
        kwargs["node_class"] = OpenSearchUrllib3Node
    return Elasticsearch(settings.search_endpoint, **kwargs)


def async_client(settings: Settings) -> AsyncElasticsearch:
    """An asyncio client (the worker), waiting ``search_write_timeout`` for an answer.

    No transport-level retries: every worker call sits in a loop that holds its batch and
    retries with backoff, so retries happen in one place that logs them, counts them
    (``hst_search_retries_total``) and flips ``hst_search_up``. Hidden transport retries
    used to absorb short outages without a trace, and tripled the wait on each timeout.
    """
    kwargs = {**_client_kwargs(settings), "max_retries": 0, "retry_on_timeout": False,
              "request_timeout": settings.search_write_timeout}  # fmt: skip
    if _compat(settings):
        kwargs["node_class"] = OpenSearchAiohttpNode
    return AsyncElasticsearch(settings.search_endpoint, **kwargs)
