"""Import the saved objects through Kibana's saved-objects API (idempotent: overwrite)."""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from pipeline.errors import HstError
from pipeline.kibana.objects import saved_objects, to_ndjson
from pipeline.settings import Settings


class KibanaError(HstError, RuntimeError):
    """Kibana is absent, refused the request, or refused some objects."""


def _headers(settings: Settings) -> dict[str, str]:
    headers = {"kbn-xsrf": "hst-pipeline"}
    if settings.kibana_api_key:
        headers["Authorization"] = f"ApiKey {settings.kibana_api_key.get_secret_value()}"
        return headers
    user = settings.kibana_username or settings.search_username
    secret = settings.kibana_password or settings.search_password
    if user and secret:
        token = base64.b64encode(f"{user}:{secret.get_secret_value()}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return headers


def _context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.kibana_url.startswith("https"):
        return None
    ca = settings.kibana_ca_certs or settings.search_ca_certs
    return ssl.create_default_context(cafile=str(ca) if ca else None)


def _request(settings: Settings, req: urllib.request.Request, timeout: float) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=_context(settings)) as resp:
            return dict(json.loads(resp.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")[:500]
        msg = f"Kibana at {settings.kibana_url} answered {exc.code} to {req.full_url}: {body}"
        raise KibanaError(msg) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        msg = f"Kibana is not reachable at {settings.kibana_url} ({reason}); set HST_KIBANA_URL"
        raise KibanaError(msg) from exc


def wait_until_available(settings: Settings, timeout: float) -> None:
    """Wait for Kibana's status API to answer ``available`` (it starts slowly)."""
    deadline = time.monotonic() + timeout
    while True:
        req = urllib.request.Request(
            f"{settings.kibana_url}/api/status", headers=_headers(settings)
        )
        try:
            status = _request(settings, req, timeout=10)
            if status.get("status", {}).get("overall", {}).get("level") == "available":
                return
        except KibanaError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            msg = f"Kibana at {settings.kibana_url} not available after {timeout:.0f}s"
            raise KibanaError(msg)
        time.sleep(5)


def import_objects(settings: Settings, timeout: float = 60.0) -> int:
    """POST every saved object to ``/api/saved_objects/_import?overwrite=true``; the count imported."""
    objects = saved_objects()
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="hst.ndjson"\r\n'
        f"Content-Type: application/ndjson\r\n\r\n{to_ndjson(objects)}\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        f"{settings.kibana_url}/api/saved_objects/_import?overwrite=true", data=body, method="POST",
        headers={**_headers(settings), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    result = _request(settings, req, timeout)
    if not result.get("success"):
        errors = [
            f"{e.get('type')}/{e.get('id')}: {e.get('error')}" for e in result.get("errors", [])
        ]
        msg = f"Kibana refused {len(errors)} object(s): " + "; ".join(errors)
        raise KibanaError(msg)
    return int(result.get("successCount", len(objects)))
