"""HTTPS for `lgsp serve --tls`: a server certificate of the bus's own test CA, or one given.

Real LGSPs are reached over HTTPS only, so an integrator's client must be told which CA to
trust. The bus makes a test CA once per data directory (`tls/ca.pem`, marked as a test CA in
its name) and a server certificate from it for the names the bus answers to; clients trust
`ca.pem` (`curl --cacert`, `httpx.Client(verify=…)`, `SSL_CERT_FILE`), never `--insecure`.
The private keys stay in the data directory, readable by their owner only.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lgsp.ca.authority import BACKDATE, certificate

TLS_DIR = "tls"
CA_ORGANISATION = "lgsp-mock-bus"
CA_COMMON_NAME = "lgsp-mock-bus TEST CA - not for real use"
"""Says on its face what it is: a test CA no real client should ever trust."""
CA_DAYS = 3650
SERVER_DAYS = 397
"""The longest server certificate lifetime browsers accept (CA/Browser Forum, 2020)."""
RENEW_BEFORE = timedelta(days=30)
ALWAYS_NAMED = ("localhost", "127.0.0.1", "::1")


class TlsError(ValueError):
    """The certificate or key cannot be used; the message says which file and why (exit 2)."""


@dataclass(frozen=True)
class ServerTls:
    """What uvicorn serves HTTPS with, and the CA file a client must trust (None when the
    operator gave a certificate of another CA)."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None

    def uvicorn_options(self) -> dict[str, str]:
        return {"ssl_certfile": str(self.cert_file), "ssl_keyfile": str(self.key_file)}


def bus_tls(data_dir: Path, hosts: list[str], *, now: datetime | None = None) -> ServerTls:
    """The test CA of `data_dir` (made the first time), and a server certificate from it that
    names `hosts` and the loopback names, made again when it lacks a name or nears its end."""
    moment = now or datetime.now(UTC)
    folder = data_dir / TLS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _test_ca(folder, moment)
    names = sorted({*ALWAYS_NAMED, *(h.strip("[]") for h in hosts if h)})
    cert_file, key_file = folder / "server.pem", folder / "server-key.pem"
    if not _covers(cert_file, names, ca_cert, moment):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(
            _name("lgsp-mock-bus server"), ca_cert.subject, key, ca_key, now=moment, names=names
        )
        _write_private(key_file, key)
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ServerTls(cert_file=cert_file, key_file=key_file, ca_file=folder / "ca.pem")


def given_tls(cert_file: Path, key_file: Path) -> ServerTls:
    """An operator's own certificate and key, checked before the port is served."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except OSError as error:
        raise TlsError(f"cannot read {error.filename}: {error.strerror}") from None
    except (ValueError, TypeError) as error:
        raise TlsError(f"--tls-cert/--tls-key: not a PEM certificate and key ({error})") from None
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise TlsError(f"{key_file} is not the key of the certificate in {cert_file}")
    return ServerTls(cert_file=cert_file, key_file=key_file, ca_file=None)


def _test_ca(folder: Path, now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_file, key_file = folder / "ca.pem", folder / "ca-key.pem"
    if cert_file.exists() and key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TlsError(f"{key_file} is not the bus's test CA key")
        return x509.load_pem_x509_certificate(cert_file.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(CA_COMMON_NAME)
    cert = _certificate(name, name, key, key, now=now, names=None)
    _write_private(key_file, key)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _covers(cert_file: Path, names: list[str], ca: x509.Certificate, now: datetime) -> bool:
    """The server certificate exists, comes from this CA, names every host and has time left."""
    if not cert_file.exists() or not cert_file.with_name("server-key.pem").exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    if cert.issuer != ca.subject or cert.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    named = {*san.get_values_for_type(x509.DNSName)}
    named |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return all(str(_general_name(n).value) in named for n in names)


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    now: datetime,
    names: list[str] | None,
) -> x509.Certificate:
    """The test CA's own certificate when `names` is None, else a server certificate for them."""
    extensions: list[x509.ExtensionType] = [
        x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    ]
    if names is not None:
        extensions += [
            x509.SubjectAlternativeName([_general_name(n) for n in names]),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
        ]
    return certificate(
        subject,
        issuer,
        key.public_key(),
        signer,
        not_before=now - BACKDATE,
        not_after=now + timedelta(days=CA_DAYS if names is None else SERVER_DAYS),
        ca=names is None,
        digital_signature=True,
        extensions=extensions,
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Created owner-only before the first byte is written: never readable by others."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
