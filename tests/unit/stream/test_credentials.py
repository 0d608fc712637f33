"""The worker's broker credentials: an encrypted client key, and no silent downgrade."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.settings import Settings
from pipeline.stack.certs import create_ca, issue
from pipeline.stream.faustconf import broker_credentials


def test_an_encrypted_client_key_is_opened_with_its_password(tmp_path: Path) -> None:
    create_ca(tmp_path)
    issued = issue(tmp_path, "worker", ["localhost"], keystore_password="s3cret")
    settings = Settings(
        security_protocol="SSL",
        ssl_ca_location=tmp_path / "ca.pem",
        ssl_certificate_location=issued.cert,
        ssl_key_location=issued.keystore,
        ssl_key_password=SecretStr("s3cret"),
    )
    assert broker_credentials(settings) is not None
    wrong = settings.model_copy(update={"ssl_key_password": SecretStr("wrong")})
    with pytest.raises(ssl.SSLError):
        broker_credentials(wrong)


@pytest.mark.parametrize("missing", ["sasl_mechanism", "sasl_username", "sasl_password"])
def test_sasl_without_its_credentials_is_refused_not_downgraded(missing: str) -> None:
    complete = {
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "hst-worker",
        "sasl_password": SecretStr("pw"),
    }
    settings = Settings(security_protocol="SASL_PLAINTEXT", **{**complete, missing: None})
    with pytest.raises(ValueError, match="HST_SASL_USERNAME"):
        broker_credentials(settings)


def test_private_keys_are_created_readable_by_their_owner_only(tmp_path: Path) -> None:
    create_ca(tmp_path)
    issued = issue(tmp_path, "worker", ["localhost"])
    for path in (tmp_path / "ca.key", issued.key, issued.keystore):
        assert path.stat().st_mode & 0o777 == 0o600, path
    issue(tmp_path, "worker", ["localhost"])  # issued again over the old files
    assert issued.key.stat().st_mode & 0o777 == 0o600
