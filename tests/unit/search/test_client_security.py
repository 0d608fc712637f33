"""The search client's TLS and credentials: the CA is verified, the credentials are sent.

A local HTTPS endpoint with a certificate from the project's CA stands in for the server's
TLS front (what is tested is the client configuration from HST_SEARCH_* settings).
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pipeline.search.client import sync_client
from pipeline.settings import Settings
from pipeline.stack.certs import create_ca, issue
from pipeline.stack.servers import free_port

INFO = {"name": "es", "cluster_name": "hst", "version": {"number": "9.5.0", "build_flavor": "default"},
        "tagline": "You Know, for Search"}  # fmt: skip


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path, list[dict[str, str]]]]:
    create_ca(tmp_path)
    issued = issue(tmp_path, "search", ["127.0.0.1", "localhost"])
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps(INFO).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(issued.cert, issued.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}", tmp_path / "ca.pem", seen
    finally:
        server.shutdown()
        server.server_close()


def test_basic_auth_over_tls_verified_against_the_ca(
    https: tuple[str, Path, list[dict[str, str]]],
) -> None:
    url, ca, seen = https
    cfg = Settings(search_url=url, search_ca_certs=ca, search_username="analyst",
                   search_password=SecretStr("s3cret"), search_compat_headers=False)  # fmt: skip
    assert sync_client(cfg).info()["tagline"] == INFO["tagline"]
    assert seen[-1]["authorization"] == "Basic " + base64.b64encode(b"analyst:s3cret").decode()


def test_an_api_key_takes_precedence(https: tuple[str, Path, list[dict[str, str]]]) -> None:
    url, ca, seen = https
    cfg = Settings(search_url=url, search_ca_certs=ca, search_api_key=SecretStr("a2V5OnNlY3JldA=="),
                   search_username="analyst", search_password=SecretStr("s3cret"),
                   search_compat_headers=False)  # fmt: skip
    sync_client(cfg).info()
    assert seen[-1]["authorization"] == "ApiKey a2V5OnNlY3JldA=="


def test_a_server_whose_certificate_the_ca_did_not_sign_is_refused(
    https: tuple[str, Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    url, _, seen = https
    other = tmp_path / "other"
    create_ca(other, name="someone else")
    cfg = Settings(search_url=url, search_ca_certs=other / "ca.pem", search_username="analyst",
                   search_password=SecretStr("s3cret"), search_compat_headers=False)  # fmt: skip
    with pytest.raises(Exception, match=r"(?i)certificate|ssl"):
        sync_client(cfg).info()
    assert seen == []  # no credentials were sent to it
