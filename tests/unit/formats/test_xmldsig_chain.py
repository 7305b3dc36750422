"""A signing certificate issued by an intermediate CA under a trusted root: the path is built
from the certificates in KeyInfo (leaf first), each link checked — its signature, its dates,
CA=true for every issuer (and its pathLenConstraint), the roots' CRL — and bounded."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from formats.edxml import render_edxml
from formats.xmldsig import MAX_INTERMEDIATES, check_signature, sign_edxml
from tests.fixtures import signing
from tests.fixtures.documents import cross_province_document

DOCUMENT = render_edxml(cross_province_document("5"))
NOW = signing.NOW


@cache
def _key(label: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organ_id: str | None = None) -> x509.Name:
    uid = [] if organ_id is None else [x509.NameAttribute(NameOID.USER_ID, organ_id)]
    return x509.Name([*uid, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(
    subject: str,
    issuer: signing.Signer,
    *,
    ca: bool | None = True,
    path_length: int | None = None,
    serial: int = 0x7001,
    not_after: datetime = NOW + timedelta(days=365),
    organ_id: str | None = None,
) -> signing.Signer:
    """A certificate for `subject` signed by `issuer`; `ca` None: no basicConstraints at all."""
    key = _key(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject, organ_id))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - timedelta(days=800))
        .not_valid_after(not_after)
    )
    if ca is not None:
        constraints = x509.BasicConstraints(ca=ca, path_length=path_length if ca else None)
        builder = builder.add_extension(constraints, critical=True)
    return signing.Signer(key, builder.sign(issuer.key, hashes.SHA256()))


def leaf_under(issuer: signing.Signer) -> signing.Signer:
    return issue("Sở Tư pháp tỉnh Kiên Giang", issuer, ca=False, serial=0x7101,
                 organ_id="000.00.01.H33")  # fmt: skip


def verdict(*chain: signing.Signer) -> tuple[bool, str | None]:
    signed = sign_edxml(DOCUMENT, key=chain[0].key, chain=[s.certificate for s in chain])
    check = check_signature(signed, trust=signing.trust(), at=NOW)
    return check.valid, check.reason


def test_a_leaf_of_an_issuing_ca_under_a_trusted_root_is_valid() -> None:
    issuing = issue("CA cấp dưới (TEST)", signing.root())
    leaf = leaf_under(issuing)

    assert verdict(leaf, issuing) == (True, None)


def test_two_intermediates_in_any_order_are_a_path() -> None:
    upper = issue("CA trung gian (TEST)", signing.root(), serial=0x7002)
    lower = issue("CA cấp dưới (TEST)", upper, serial=0x7003)
    leaf = leaf_under(lower)

    assert verdict(leaf, upper, lower) == (True, None)


def test_without_its_intermediate_in_keyinfo_the_leaf_is_untrusted() -> None:
    leaf = leaf_under(issue("CA cấp dưới (TEST)", signing.root()))

    assert verdict(leaf) == (False, "untrusted")


@pytest.mark.parametrize(
    ("intermediate", "reason"),
    [
        pytest.param({"ca": False}, "untrusted", id="issuer-not-a-ca"),
        pytest.param({"ca": None}, "untrusted", id="issuer-without-basic-constraints"),
        pytest.param({"not_after": NOW - timedelta(days=1)}, "expired", id="issuer-expired"),
        pytest.param({"serial": signing.REVOKED_SERIAL}, "revoked", id="issuer-revoked"),
    ],
)
def test_a_link_the_recipient_cannot_rely_on_fails_the_path(
    intermediate: dict[str, object], reason: str
) -> None:
    issuing = issue("CA cấp dưới (TEST)", signing.root(), **intermediate)  # type: ignore[arg-type]

    assert verdict(leaf_under(issuing), issuing) == (False, reason)


def test_an_intermediate_of_an_untrusted_root_is_untrusted() -> None:
    issuing = issue("CA cấp dưới (TEST)", signing.root("Rogue CA"))

    assert verdict(leaf_under(issuing), issuing) == (False, "untrusted")


def test_a_path_length_constraint_is_kept() -> None:
    upper = issue("CA trung gian (TEST)", signing.root(), path_length=0, serial=0x7002)
    lower = issue("CA cấp dưới (TEST)", upper, serial=0x7003)

    assert verdict(leaf_under(lower), lower, upper) == (False, "untrusted")


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(MAX_INTERMEDIATES, (True, None)), (MAX_INTERMEDIATES + 1, (False, "untrusted"))],
)
def test_a_path_is_read_up_to_the_bound(depth: int, expected: tuple[bool, str | None]) -> None:
    chain = [signing.root()]
    for level in range(depth):
        chain.append(issue(f"CA mức {level} (TEST)", chain[-1], serial=0x7200 + level))
    intermediates = chain[1:]

    assert verdict(leaf_under(intermediates[-1]), *reversed(intermediates)) == expected
