"""A private certificate authority and server certificates for TLS listeners.

For the compose cluster and the embedded secure stack: a CA (``ca.pem``, ``ca.key``) and,
per host, a certificate for its DNS names and addresses (``<host>.pem``), its key as
unencrypted PKCS#8 (``<host>.key``, for Elasticsearch and Kibana) and a Kafka PEM keystore
(``<host>.keystore.pem``: the key, then the chain). Kafka's PEM loader cannot read keys
encrypted with PBES2 (what OpenSSL and ``cryptography`` write: "PBES2 SecretKeyFactory not
available" on JDK 17), so the keystore's key is unencrypted unless a password is given;
protect the file by its permissions (0600).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """Files written for one host."""

    cert: Path
    key: Path
    keystore: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hst-pipeline"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])  # fmt: skip


def _write(path: Path, data: bytes, private: bool = False) -> Path:
    """Write ``data``; a private key file is created 0600 (never readable by others first)."""
    if not private:
        path.write_bytes(data)
        return path
    path.unlink(missing_ok=True)  # an existing file would keep its old mode
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def create_ca(out: Path, days: int = 825, name: str = "hst-pipeline CA") -> tuple[Path, Path]:
    """A self-signed CA in ``out`` (``ca.pem``, ``ca.key``)."""
    out.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(tz=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    return _write(out / "ca.pem", pem), _write(out / "ca.key", key_pem, private=True)


def issue(
    out: Path, host: str, names: list[str], keystore_password: str | None = None, days: int = 825
) -> Issued:
    """A server (and client) certificate for ``names`` (DNS names or IP addresses), signed by the CA in ``out``."""
    ca_cert = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((out / "ca.key").read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        msg = f"{out / 'ca.key'}: not an EC key made by create_ca"
        raise TypeError(msg)
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for n in names or [host]:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    now = dt.datetime.now(tz=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    chain = pem + ca_cert.public_bytes(serialization.Encoding.PEM)
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())  # fmt: skip
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(keystore_password.encode())
        if keystore_password
        else serialization.NoEncryption(),
    )
    return Issued(
        cert=_write(out / f"{host}.pem", chain),
        key=_write(out / f"{host}.key", plain, private=True),
        keystore=_write(out / f"{host}.keystore.pem", encrypted + chain, private=True),
    )
