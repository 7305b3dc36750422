"""What the CA's admin API takes and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

MAX_PASSWORD = 128
MAX_CRLS_PEM = 64 * 1024
"""A root's CRLs at most, PEM (assigned: some 1,500 revocations), so that `ca/trust.pem`, which
carries them to every document system, stays within what one reads."""


class IssueIn(BaseModel):
    """An organisation to issue a signing certificate to, and the password of its key files."""

    model_config = ConfigDict(extra="forbid")

    organ_id: str = Field(max_length=32)
    """The organisation's QĐ 20/2020 organ id, as the bus's systems know it (422
    `UNKNOWN_ORGANISATION` otherwise)."""
    password: SecretStr = Field(max_length=MAX_PASSWORD)
    """Protects the PKCS#12 file and the PEM key: 8 to 128 printable ASCII characters (422
    `BAD_PASSWORD` otherwise; assigned)."""


class RootIn(BaseModel):
    """Another root to trust signers under (a vendor's VNPT-CA test chain)."""

    model_config = ConfigDict(extra="forbid")

    certificate_pem: str = Field(max_length=16 * 1024)
    crls_pem: str = Field(default="", max_length=MAX_CRLS_PEM)
    """The root's CRLs (X509 CRL PEM blocks), as `LGSP_TRUSTED_ROOTS_FILE` carries them after
    its roots: each signed by this root with an algorithm of the verifier's list (422
    `BAD_CERTIFICATE` otherwise). Given, they replace the CRLs the root carried (send the
    root again with its new CRL); left out, those are kept."""


class CertificateOut(BaseModel):
    serial: str
    """Hexadecimal, as the signature verdict's `serial` says it."""
    organ_id: str | None
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None = None
    certificate_pem: str


class IssuedOut(CertificateOut):
    private_key_pem: str
    """PKCS#8, encrypted with the password: shown this once."""
    pkcs12_base64: str
    """Key, certificate and root, encrypted with the password (what signing tools import)."""


class CertificateList(BaseModel):
    certificates: list[CertificateOut]
    """Newest first, at most 1,000."""


class RootOut(BaseModel):
    subject: str
    sha256: str
    added: bool
    """False when the bus trusted it already."""
    crls: int = 0
    """How many CRLs the root carries now (published after it in `ca/trust.pem`)."""
