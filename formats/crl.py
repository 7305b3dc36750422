"""CRLs as a relying party reads them (RFC 5280 §5, §6.3): who signed one, whether it is
current, and the CRL blocks of a PEM bundle.

A module of its own, needing only `cryptography`, so that the CA's admin API checks the CRLs
of a root it is given as the verifier will, without loading lxml and signxml
(`formats.xmldsig`, which uses these) at the bus's start.
"""

from __future__ import annotations

import re
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

_CRL_SIGNATURES = frozenset(
    {SignatureAlgorithmOID.RSA_WITH_SHA256, SignatureAlgorithmOID.RSA_WITH_SHA384,
     SignatureAlgorithmOID.RSA_WITH_SHA512, SignatureAlgorithmOID.ECDSA_WITH_SHA256,
     SignatureAlgorithmOID.ECDSA_WITH_SHA384, SignatureAlgorithmOID.ECDSA_WITH_SHA512}
)  # fmt: skip
"""The algorithms a CRL's signature is verified with (STYLE: an explicit list)."""


TRUST_BUNDLE_MAX_BYTES = 512 * 1024
"""The most a trust bundle (roots, then CRLs: the bus CA's `ca/trust.pem`) may weigh: what a
relying party reads of one (assigned). The CA refuses a root or CRL that would take it past."""


def crls_in(pem: str) -> tuple[x509.CertificateRevocationList, ...]:
    """The CRL blocks of a PEM bundle (roots, then the CRLs of CAs under them, as an operator
    supplies them), in order; the certificates beside them are not read here."""
    return tuple(x509.load_pem_x509_crl(block.encode()) for block in _CRL_PEM.findall(pem))


_CRL_PEM = re.compile(r"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)


def crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """Whether `issuer`, a CA that may sign CRLs (keyCertSign or cRLSign when KeyUsage says),
    signed `crl` with an algorithm of the explicit list."""
    if crl.issuer != issuer.subject or crl.signature_algorithm_oid not in _CRL_SIGNATURES:
        return False
    usage = key_usage(issuer)
    if usage is not None and not usage.crl_sign:
        return False
    key = issuer.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return False
    return crl.is_signature_valid(key)


def crl_current(crl: x509.CertificateRevocationList, at: datetime) -> bool:
    """Whether `crl` speaks for `at` (RFC 5280 §6.3.3 (a)): issued by then (thisUpdate) and not
    yet due to be replaced (nextUpdate, when it has one)."""
    next_update = crl.next_update_utc
    return crl.last_update_utc <= at and (next_update is None or at <= next_update)


def key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
