"""XML-DSig enveloped signatures on edXML: checked against trusted roots, and made.

Every document between state agencies is signed (FIDELITY-2026 §2): an enveloped `Signature`
in `edXMLHeader` (DOMAIN.md §3.1), with the signer's X.509 certificate in KeyInfo. The check
says what a recipient's system would conclude, in the fields the bus records
(`SignatureCheck.as_json`): present, valid, algorithm, subject, issuer, serial, not_after and
the reason it is not valid (`formats.signature_reasons`): missing, malformed (not XML-DSig, or
no certificate), unsupported (an algorithm outside the list), tampered, untrusted, expired,
revoked, revocation_undetermined (the issuer's CRLs are none current: RFC 5280 §6.3.3),
signer_not_sender, signer_unidentified.

Real signing certificates come from issuing CAs under a root: KeyInfo carries the signer's
certificate first and the intermediates after it (`sign_edxml`'s `chain`), and the check builds
the path from the signer to a trusted root through them (`_path_to_root`), each issuer a CA.

A valid signature binds its signer to the message: the certificate's subject UID (where the
CA puts the organ id) must be the From/OrganId the signature covers, the sender of a document
or the reporter of a status message; else anyone with a certificate of their own could sign as
another agency (`signer_not_sender`). A certificate with no UID names no agency at all: its
signer is unknown (`signer_unidentified`), not another agency.

Only an explicit list of algorithms is accepted (STYLE: verify signatures with an explicit
algorithm list). The SDK's own choices, rsa-sha1 with sha1 digests and inclusive C14N 1.0,
are verified too (signxml refuses SHA-1 unless told) and flagged `weak`. Signing uses what the
government CA's tools use: rsa-sha256, sha256 and exclusive C14N.

The message must already have passed formats/_xml_guard.py (no DTD, no entities, bounded):
lxml then reads it with entity resolution and network access off all the same.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature as InvalidCertificateSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from formats._edxml_fields import NAMESPACE
from formats.crl import crl_current, crl_signed_by, key_usage
from formats.signature_reasons import SignatureReason

DSIG = "http://www.w3.org/2000/09/xmldsig#"
_SIGNATURE_METHODS = frozenset(
    {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA512, SignatureMethod.ECDSA_SHA256,
     SignatureMethod.RSA_SHA1}
)  # fmt: skip
_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA512, DigestAlgorithm.SHA1})
_WEAK = {SignatureMethod.RSA_SHA1.value, DigestAlgorithm.SHA1.value,
         CanonicalizationMethod.CANONICAL_XML_1_0.value}  # fmt: skip
MAX_INTERMEDIATES = 4
"""At most this many certificates after the signer's in KeyInfo are read as the path to a
root: issuing CAs under a root are one or two deep; the bound keeps the search small."""
_SENDER = "/".join(
    f"{{{NAMESPACE}}}{tag}"
    for tag in ("edXMLEnvelope", "edXMLHeader", "MessageHeader", "From", "OrganId")
)
_CONFIG = SignatureConfiguration(
    require_x509=True,
    location=f".//{{{NAMESPACE}}}edXMLHeader/",
    expect_references=1,
    signature_methods=_SIGNATURE_METHODS,
    digest_algorithms=_DIGESTS,
)


@dataclass(frozen=True)
class SignatureCheck:
    """What a recipient concludes of a message's signature; `reason` says why it is not valid."""

    present: bool
    valid: bool
    algorithm: str | None = None
    weak: bool = False
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    not_after: str | None = None
    reason: SignatureReason | None = None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


Revocation = tuple[x509.Name, int]
"""A revoked certificate as RFC 5280 names it: its issuer's name and its serial (a serial is
unique per issuer only)."""


@dataclass(frozen=True)
class Trust:
    """The roots a signer's path must end at, and what the CAs of a path revoke.

    `revoked`: the (issuer, serial) pairs of CRLs already checked against their root (the bus's
    CA's, `crl_signed_by` on fetching) or named by the configuration. `crls`: CRLs of the roots
    and of issuing CAs below them (the bus's CA's again, for its dates; those of added roots;
    those an operator supplies); one counts only for a certificate whose issuer on a validated
    path signed it, and says a certificate it does not list is not revoked only while current
    at the time of the check (`crl_current`). A certificate whose
    issuer's CRL is not known is not revoked: a real relying party fetches its CRL
    distribution point, which an offline check cannot."""

    roots: tuple[x509.Certificate, ...] = ()
    revoked: frozenset[Revocation] = frozenset()
    crls: tuple[x509.CertificateRevocationList, ...] = ()


def revocations(crl: x509.CertificateRevocationList) -> frozenset[Revocation]:
    """What `crl` revokes, keyed by its issuer (check its signature first: `crl_signed_by`)."""
    return frozenset((crl.issuer, entry.serial_number) for entry in crl)


def check_signature(data: bytes, *, trust: Trust, at: datetime) -> SignatureCheck:
    """The signature in `edXMLHeader` checked against `trust` at the time `at` (timezone-aware)."""
    root = etree.fromstring(data, parser=_parser())
    header = root.find(f"{{{NAMESPACE}}}edXMLEnvelope/{{{NAMESPACE}}}edXMLHeader")
    candidates = [] if header is None else [e for e in header if _local(e.tag) == "Signature"]
    if not candidates:
        return SignatureCheck(present=False, valid=False, reason="missing")
    signature = candidates[0]
    method = next((e for e in signature.iter() if _local(e.tag) == "SignatureMethod"), None)
    algorithm = None if method is None else method.get("Algorithm")
    if signature.tag != f"{{{DSIG}}}Signature" or len(candidates) > 1:
        # The SDK's samples put Signature in the edXML namespace: no XML-DSig reader sees it.
        return SignatureCheck(present=True, valid=False, algorithm=algorithm, reason="malformed")
    certificates = _certificates(signature)
    if not certificates:
        return SignatureCheck(present=True, valid=False, algorithm=algorithm, reason="malformed")
    certificate, intermediates = certificates[0], certificates[1 : 1 + MAX_INTERMEDIATES]
    facts = {
        "algorithm": algorithm,
        "weak": bool(_WEAK & _algorithms(signature)),
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial": format(certificate.serial_number, "x"),
        "not_after": certificate.not_valid_after_utc.isoformat(),
    }
    # The signature alone, at a moment the certificate was valid: whether it is valid now, and
    # issued by whom, is classified below (expired, untrusted, revoked), not lumped in.
    config = replace(_CONFIG, verification_time=certificate.not_valid_before_utc)
    try:
        verified = XMLVerifier().verify(
            data, x509_cert=certificate, expect_config=config, parser=_parser()
        )
    except InvalidSignature:
        return SignatureCheck(present=True, valid=False, reason="tampered", **facts)  # type: ignore[arg-type]
    except InvalidInput:  # an algorithm outside the list, or a Signature signxml cannot read
        return SignatureCheck(present=True, valid=False, reason="unsupported", **facts)  # type: ignore[arg-type]
    reason = _untrusted(certificate, intermediates, trust, at)
    if reason is None:  # one reference (`expect_references`), so one result
        signed = None if isinstance(verified, list) else verified.signed_xml
        uids = _uids(certificate)
        if not uids:
            reason = "signer_unidentified"
        elif uids != [_signed_sender(signed)]:
            reason = "signer_not_sender"
    return SignatureCheck(present=True, valid=reason is None, reason=reason, **facts)  # type: ignore[arg-type]


def sign_edxml(
    data: bytes, *, key: CertificateIssuerPrivateKeyTypes, chain: Collection[x509.Certificate]
) -> bytes:
    """`data` with an enveloped rsa-sha256 / exclusive-C14N signature at the end of
    `edXMLHeader`, KeyInfo carrying `chain` (the signer's certificate first)."""
    root = etree.fromstring(data, parser=_parser())
    header = root.find(f"{{{NAMESPACE}}}edXMLEnvelope/{{{NAMESPACE}}}edXMLHeader")
    if header is None:
        raise ValueError("not an edXML envelope: no edXMLHeader")
    etree.SubElement(header, f"{{{DSIG}}}Signature", Id="placeholder")
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("rsa-sha256 signs with an RSA key")
    # The key itself, not its PEM: signxml would load and validate a PEM at every call
    # (~35 ms of CPU, against ~1.5 ms for the signature itself).
    # signxml parses the element again with a parser of its own; only `verify` takes one as an
    # argument, so the signer gets ours (large text nodes) through its attribute (signxml 5.x).
    signer._parser = _parser()  # type: ignore[assignment]
    signed = signer.sign(root, key=key, cert=list(chain))
    out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out


def _untrusted(
    certificate: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trust: Trust,
    at: datetime,
) -> SignatureReason | None:
    """Why the signer's certificate cannot be relied on at `at`, or None: no path from it through
    `intermediates` (KeyInfo's) to a trusted root (`untrusted`), a certificate of that path or
    its root outside its validity (`expired`: a root past its dates anchors nothing, as an
    intermediate past them links nothing), revoked by its issuer (`revoked`), or with only stale
    CRLs to tell (`revocation_undetermined`)."""
    found = _path_to_root(certificate, intermediates, trust.roots)
    if found is None:
        return "untrusted"
    path, root = found
    if not all(c.not_valid_before_utc <= at <= c.not_valid_after_utc for c in (*path, root)):
        return "expired"
    statuses = {
        _revocation(c, issuer, trust, at) for c, issuer in zip(path, [*path[1:], root], strict=True)
    }
    for reason in ("revoked", "revocation_undetermined"):  # a known revocation first
        if reason in statuses:
            return reason
    return None


def _revocation(
    certificate: x509.Certificate, issuer: x509.Certificate, trust: Trust, at: datetime
) -> SignatureReason | None:
    """`revoked` when `certificate`'s issuer revoked it, by a CRL already checked or by one of
    `trust.crls` that this issuer signed (a revocation stands in any of them: it is not undone);
    `revocation_undetermined` when the issuer's CRLs that do not list it are none current at
    `at` (RFC 5280 §6.3.3: no current CRL, status UNDETERMINED); None when not revoked, or
    when the issuer's CRL is not known at all (see `Trust`)."""
    if (issuer.subject, certificate.serial_number) in trust.revoked:
        return "revoked"
    signed = [c for c in trust.crls if c.issuer == issuer.subject and crl_signed_by(c, issuer)]
    serial = certificate.serial_number
    if any(c.get_revoked_certificate_by_serial_number(serial) is not None for c in signed):
        return "revoked"
    if signed and not any(crl_current(c, at) for c in signed):
        return "revocation_undetermined"
    return None


def _path_to_root(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
) -> tuple[list[x509.Certificate], x509.Certificate] | None:
    """`leaf`, then the certificates of `pool` each issued the one before, and the root of
    `roots` that issued the last directly; None when there is none. Every issuer of the path,
    the root too, is a CA allowed to issue what is below it (`_may_issue`) and signed the
    certificate below it. Depth-first over at most MAX_INTERMEDIATES certificates: a handful of
    signature checks."""

    def extend(
        path: list[x509.Certificate],
    ) -> tuple[list[x509.Certificate], x509.Certificate] | None:
        below = len(path) - 1
        for root in roots:
            if _may_issue(root, below=below) and _issued_by(path[-1], root):
                return path, root
        for issuer in pool:
            if issuer in path or not _may_issue(issuer, below=below):
                continue
            if _issued_by(path[-1], issuer) and (found := extend([*path, issuer])) is not None:
                return found
        return None

    return extend([leaf])


def _may_issue(certificate: x509.Certificate, *, below: int) -> bool:
    """Whether `certificate` is a CA that may sign certificates with `below` CA certificates
    under it (RFC 5280 §4.2.1.9: basicConstraints CA=true, its pathLenConstraint; §4.2.1.3:
    keyCertSign when KeyUsage is present)."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    usage = key_usage(certificate)
    if usage is not None and not usage.key_cert_sign:
        return False
    return constraints.ca and (constraints.path_length is None or below <= constraints.path_length)


def _signed_sender(signed: etree._Element | None) -> str | None:
    """The From/OrganId the signature covers, as the edXML reader reads it (padding stripped):
    None unless what was signed is the whole message, naming exactly one."""
    if signed is None or signed.tag != f"{{{NAMESPACE}}}edXML":
        return None
    found = signed.findall(_SENDER)
    if len(found) != 1 or len(found[0]):
        return None
    return (found[0].text or "").strip(" \t\r\n") or None


def _uids(certificate: x509.Certificate) -> list[str]:
    """The subject's UIDs: the organ id the CA vouches the key is the agency's."""
    return [str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.USER_ID)]


def _issued_by(certificate: x509.Certificate, root: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidCertificateSignature):
        return False
    return True


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    """KeyInfo's certificates in order, the signer's first (as `sign_edxml` writes them);
    empty when the first cannot be read. One that cannot be read after it is left out: it
    cannot be a link of the path."""
    found = signature.findall(f"{{{DSIG}}}KeyInfo/{{{DSIG}}}X509Data/{{{DSIG}}}X509Certificate")[
        : 1 + MAX_INTERMEDIATES
    ]
    read = [_certificate(element) for element in found]
    if not read or read[0] is None:
        return []
    return [certificate for certificate in read if certificate is not None]


def _certificate(element: etree._Element) -> x509.Certificate | None:
    if not element.text:
        return None
    text = "".join(element.text.split())
    pem = f"-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n"
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None


def _algorithms(signature: etree._Element) -> set[str]:
    return {
        str(element.get("Algorithm"))
        for element in signature.iter()
        if isinstance(element.tag, str) and element.get("Algorithm") is not None
    }


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _parser() -> etree.XMLParser:
    """No DTD, entity or network. `huge_tree`: a message reaches this module only after
    `formats._xml_guard` bounded its size and depth and refused every DTD, and one attachment
    of 10 MiB is 13 MB of base64 in one text node, past libxml2's default of 10 MB a node."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
