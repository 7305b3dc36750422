"""The CA's operations as the admin API and `lgsp ca …` both run them, with their refusals."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from formats.agency_codes import AgencyCodeClosed, refuse_closed
from formats.crl import crl_signed_by, crls_in
from lgsp.ca.authority import Issued, certificate_pem, is_ca, organ_id_of, pkcs12_bundle
from lgsp.ca.schemas import MAX_PASSWORD, CertificateOut, IssuedOut, RootOut
from lgsp.ca.store import CertificateAuthority, Record
from lgsp.errors import BadCertificate, BadPassword, CertificateNotFound, UnknownOrganisation

MIN_PASSWORD = 8
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_SERIAL = re.compile(r"^[0-9a-fA-F]{1,40}$")
"""RFC 5280 §4.1.2.2: at most 20 octets."""


def checked_password(password: str) -> bytes:
    """What PKCS#12 tools take everywhere: printable ASCII, 8 to 128 characters (assigned)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD or not _PRINTABLE.match(password):
        raise BadPassword(
            f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} printable ASCII characters: "
            "signing tools read PKCS#12 passwords as such."
        )
    return password.encode("ascii")


def refuse_closed_organisation(
    organ_id: str, *, era: str, on: date, directory: Mapping[str, str]
) -> None:
    """AGENCY_CODE_CLOSED for an organ id under a level-1 code the 2025 merger closed, in
    today's era: no new client or certificate for a body that no longer exists, although its
    old documents keep the code. It names the successor body only where `directory` (organ id
    → name) holds one: a district body has none."""
    if era != "2026":  # the old world's tests make them as they always did
        return
    refuse_closed([organ_id], on, known=directory)


def closed_line(refusal: AgencyCodeClosed) -> str:
    """The CLI's one line for AGENCY_CODE_CLOSED: the admin API's code and detail, and the
    successor body to use where there is one."""
    successor = refusal.extensions.get("successor_organ_id")
    use = f" Use {successor}." if successor is not None else ""
    return f"{refusal.code}: {refusal.detail}{use}"


def issue_certificate(
    ca: CertificateAuthority,
    directory: Mapping[str, str],
    organ_id: str,
    password: str,
    *,
    now: datetime,
    era: str,
) -> IssuedOut:
    """A new key and certificate for an organisation of `directory` (organ id → name) that
    exists in `era` (`refuse_closed_organisation`)."""
    secret = checked_password(password)
    refuse_closed_organisation(organ_id, era=era, on=now.date(), directory=directory)
    name = directory.get(organ_id)
    if name is None:
        raise UnknownOrganisation(
            f"No system of this bus serves an organisation {organ_id!r}; the test CA issues "
            "certificates to the organisations of the bus's document systems.",
            organ_id=organ_id[:32],
        )
    issued = ca.issue(organ_id, name, now=now)
    root = ca.root(now=now)
    return IssuedOut(
        **describe(Record(issued.certificate, None)).model_dump(),
        private_key_pem=_encrypted_key(issued, secret),
        pkcs12_base64=base64.b64encode(
            pkcs12_bundle(issued, root, name=name, password=secret)
        ).decode("ascii"),
    )


def find_certificate(ca: CertificateAuthority, serial: str) -> Record:
    if not _SERIAL.match(serial):
        raise CertificateNotFound(f"{serial[:48]!r} is not a serial (1 to 40 hex digits).")
    record = ca.find(int(serial, 16))
    if record is None:
        raise CertificateNotFound(f"The test CA issued no certificate with serial {serial}.")
    return record


def revoke_certificate(
    ca: CertificateAuthority, record: Record, *, now: datetime
) -> CertificateOut:
    at = ca.revoke(record.certificate.serial_number, now=now)
    return describe(Record(record.certificate, at))


def add_root(ca: CertificateAuthority, pem: str, *, crls_pem: str = "") -> RootOut:
    """Trust another root: one self-signed CA certificate, PEM; with its CRLs (`crls_pem`, PEM
    blocks), each signed by it under an algorithm of the verifier's list, as the roots file's
    CRLs must be to count."""
    try:
        found = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        found = []
    if len(found) != 1:
        raise BadCertificate("Give exactly one PEM certificate (-----BEGIN CERTIFICATE-----).")
    certificate = found[0]
    if not is_ca(certificate) or certificate.issuer != certificate.subject:
        raise BadCertificate(
            "Only a root is trusted: a self-signed certificate with BasicConstraints cA=true."
        )
    crls = _root_crls(certificate, crls_pem)
    try:
        added = ca.add_root(certificate, crls=crls)
    except ValueError as error:
        raise BadCertificate(str(error)) from None
    der = certificate.public_bytes(serialization.Encoding.DER)
    return RootOut(
        subject=certificate.subject.rfc4514_string(),
        sha256=hashlib.sha256(der).hexdigest(),
        added=added,
        crls=len(ca.root_crls(certificate)),
    )


def _root_crls(root: x509.Certificate, pem: str) -> list[x509.CertificateRevocationList]:
    """The CRL blocks of `pem`, every one signed by `root` (`crl_signed_by`); none for none."""
    if not pem.strip():
        return []
    try:
        crls = list(crls_in(pem))
    except ValueError:
        crls = []
    if not crls:
        raise BadCertificate("Give the root's CRLs as PEM (-----BEGIN X509 CRL-----).")
    if not all(crl_signed_by(crl, root) for crl in crls):
        raise BadCertificate(
            "A CRL is not signed by this root with an algorithm the verifiers accept (rsa or "
            "ecdsa with sha256/384/512): it would count for no certificate."
        )
    return crls


def describe(record: Record) -> CertificateOut:
    cert = record.certificate
    return CertificateOut(
        serial=record.serial,
        organ_id=organ_id_of(cert),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        revoked_at=record.revoked_at,
        certificate_pem=certificate_pem(cert).decode("ascii"),
    )


def _encrypted_key(issued: Issued, password: bytes) -> str:
    return issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    ).decode("ascii")
