"""Certificates, CRLs and PKCS#12 bundles of the test CA: pure functions, the clock passed in.

The root's names copy the government CA's (FIDELITY-2026 §2: issuer O=Ban Cơ yếu Chính phủ,
"Cơ quan chứng thực số Chính phủ") with "TEST CA" in each, so that no certificate it issues can
be mistaken for a real one. An organisation's certificate names it as agencies' certificates
do (CN and O its name) and carries its QĐ 20/2020 organ id as UID (assigned: how the real CA
records the organ id is not public). Lifetimes are assigned: 20 years for the root, 3 years
for a signing certificate, a CRL valid for 7 days (RFC 5280 §5.1.2.5 nextUpdate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_COMMON_NAME = "Cơ quan chứng thực số Chính phủ (TEST CA)"
ROOT_ORGANISATION = "Ban Cơ yếu Chính phủ (TEST CA, not for real use)"
ROOT_UNIT = "Trung tâm Chứng thực điện tử chuyên dùng Chính phủ (TEST CA)"
ROOT_YEARS = 20
SIGNING_DAYS = 3 * 365
CRL_DAYS = 7
MAX_NAME = 64
"""RFC 5280 Appendix A: ub-common-name and ub-organization-name (UTF-8 bytes, as
`cryptography` checks them)."""
BACKDATE = timedelta(minutes=5)
"""Certificates start a little before they are made, so that clocks a moment behind take them."""


@dataclass(frozen=True)
class Issued:
    """A signing certificate and its private key."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


def load_key(pem: bytes) -> rsa.RSAPrivateKey:
    """A private key the bus made itself (its own files): the costly consistency check, meant
    for keys from elsewhere, is skipped (as in lgsp/auth/keys.py)."""
    key = serialization.load_pem_private_key(
        pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the CA keeps RSA keys only")
    return key


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_root(key: rsa.RSAPrivateKey, *, now: datetime) -> x509.Certificate:
    """The self-signed root: a CA that signs certificates and CRLs, and nothing else."""
    unit = x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ROOT_UNIT)
    name = _name(ROOT_ORGANISATION, unit, ROOT_COMMON_NAME)
    return certificate(
        name,
        name,
        key.public_key(),
        key,
        not_before=now - BACKDATE,
        not_after=now + timedelta(days=365 * ROOT_YEARS),
        ca=True,
        digital_signature=False,
        extensions=[x509.SubjectKeyIdentifier.from_public_key(key.public_key())],
    )


def issue(
    root: x509.Certificate,
    root_key: rsa.RSAPrivateKey,
    key: rsa.RSAPrivateKey,
    *,
    organ_id: str,
    name: str,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """An organisation's document-signing certificate (digital signature, non-repudiation).
    Names past RFC 5280's upper bound for CN and O are cut to it."""
    short = _bounded(name) or organ_id
    return certificate(
        _name(short, x509.NameAttribute(NameOID.USER_ID, organ_id[:MAX_NAME]), short),
        root.subject,
        key.public_key(),
        root_key,
        not_before=not_before,
        not_after=not_after,
        ca=False,
        digital_signature=True,
        content_commitment=True,
        extensions=[
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
        ],
    )


def _name(organisation: str, middle: x509.NameAttribute[str], common_name: str) -> x509.Name:
    """C, O, the attribute that tells the root (OU) from an organisation (UID), CN."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            middle,
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    signer: CertificateIssuerPrivateKeyTypes,
    *,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    digital_signature: bool,
    content_commitment: bool = False,
    extensions: list[x509.ExtensionType],
) -> x509.Certificate:
    """One certificate, of this CA or of the bus's TLS test CA (`lgsp.tls`): a CA signs
    certificates and CRLs; `content_commitment` is non-repudiation, for a document signer.
    `extensions` are the non-critical ones, in order."""
    usage = x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=content_commitment,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signer, hashes.SHA256())


def make_crl(
    root: x509.Certificate,
    root_key: rsa.RSAPrivateKey,
    revoked: Iterable[tuple[int, datetime]],
    *,
    now: datetime,
) -> x509.CertificateRevocationList:
    """The root's CRL (RFC 5280 §5), listing each revoked serial with when it was revoked."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(now - BACKDATE)
        .next_update(now + timedelta(days=CRL_DAYS))
    )
    for serial, at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at).build()
        )
    return builder.sign(root_key, hashes.SHA256())


def pkcs12_bundle(issued: Issued, root: x509.Certificate, *, name: str, password: bytes) -> bytes:
    """The key, its certificate and the root in one PKCS#12 file (what signing tools import),
    encrypted with `password` (AES-256, PBKDF2: cryptography's best available)."""
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"),
        issued.key,
        issued.certificate,
        [root],
        serialization.BestAvailableEncryption(password),
    )


def _bounded(text: str) -> str:
    """At most MAX_NAME bytes of UTF-8 (as `cryptography` counts the bound), whole characters."""
    return text.encode("utf-8")[:MAX_NAME].decode("utf-8", errors="ignore")


def organ_id_of(certificate: x509.Certificate) -> str | None:
    found = certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(found[0].value) if found else None


def is_ca(certificate: x509.Certificate) -> bool:
    """Whether the certificate may issue others (BasicConstraints cA)."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca
