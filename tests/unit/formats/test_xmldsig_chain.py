"""A signing certificate issued by an intermediate CA under a trusted root: the path is built
from the certificates in KeyInfo (leaf first), each link checked — its signature, its dates,
CA=true for every issuer, the root too (its pathLenConstraint, keyCertSign when KeyUsage says),
its issuer's CRL when known — and bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from formats.edxml import render_edxml
from formats.xmldsig import MAX_INTERMEDIATES, Trust, check_signature, sign_edxml
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
    issuer: signing.Signer | None,
    *,
    ca: bool | None = True,
    path_length: int | None = None,
    serial: int = 0x7001,
    not_after: datetime = NOW + timedelta(days=365),
    organ_id: str | None = None,
    key_cert_sign: bool | None = None,
) -> signing.Signer:
    """A certificate for `subject` signed by `issuer` (None: by itself, a root); `ca` None: no
    basicConstraints at all; `key_cert_sign` None: no KeyUsage, else one with cRLSign and that."""
    key = _key(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject, organ_id))
        .issuer_name(_name(subject) if issuer is None else issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - timedelta(days=800))
        .not_valid_after(not_after)
    )
    if ca is not None:
        constraints = x509.BasicConstraints(ca=ca, path_length=path_length if ca else None)
        builder = builder.add_extension(constraints, critical=True)
    if key_cert_sign is not None:
        builder = builder.add_extension(_usage(key_cert_sign=key_cert_sign), critical=True)
    return signing.Signer(key, builder.sign(key if issuer is None else issuer.key, hashes.SHA256()))


def _usage(*, key_cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign,
        crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip


def crl_of(
    issuer: signing.Signer,
    *serials: int,
    key: rsa.RSAPrivateKey | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
    issued: datetime = NOW - timedelta(days=1),
    days: int = 7,
) -> x509.CertificateRevocationList:
    """`issuer`'s CRL revoking `serials`, signed by `key` (a forger's) or by the issuer, its
    thisUpdate `issued` and its nextUpdate `days` after."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(issued)
        .next_update(issued + timedelta(days=days))
    )
    for serial in serials:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key or issuer.key, algorithm or hashes.SHA256())


def leaf_under(issuer: signing.Signer) -> signing.Signer:
    return issue("Sở Tư pháp tỉnh Kiên Giang", issuer, ca=False, serial=0x7101,
                 organ_id="000.00.01.H33")  # fmt: skip


def verdict(*chain: signing.Signer, trust: Trust | None = None) -> tuple[bool, str | None]:
    signed = sign_edxml(DOCUMENT, key=chain[0].key, chain=[s.certificate for s in chain])
    check = check_signature(signed, trust=trust or signing.trust(), at=NOW)
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


def test_an_expired_trusted_root_anchors_nothing() -> None:
    """Security review 2026-12: the root's own dates went unchecked, so an expired root still
    anchored a path that an expired intermediate fails."""
    root = issue("Root CA hết hạn (TEST)", None, not_after=NOW - timedelta(days=30))

    assert verdict(leaf_under(root), trust=Trust(roots=(root.certificate,))) == (False, "expired")


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


def test_a_root_whose_path_length_is_0_issues_no_intermediate() -> None:
    """As the bus's own root (lgsp/ca/authority.py): it signs leaves directly, nothing below."""
    root = issue("Gốc pathLen 0 (TEST)", None, path_length=0, serial=0x7301)
    issuing = issue("CA cấp dưới (TEST)", root)
    trust = Trust(roots=(root.certificate,))

    assert verdict(leaf_under(issuing), issuing, trust=trust) == (False, "untrusted")
    assert verdict(leaf_under(root), trust=trust) == (True, None)


@pytest.mark.parametrize("ca", ["root", "intermediate"])
def test_a_ca_whose_key_usage_lacks_key_cert_sign_issues_nothing(ca: str) -> None:
    root = issue("Gốc (TEST)", None, serial=0x7302, key_cert_sign=ca != "root")
    issuing = issue("CA cấp dưới (TEST)", root, key_cert_sign=ca != "intermediate")
    trust = Trust(roots=(root.certificate,))

    assert verdict(leaf_under(issuing), issuing, trust=trust) == (False, "untrusted")


def test_with_key_cert_sign_in_their_key_usage_cas_issue() -> None:
    root = issue("Gốc (TEST)", None, serial=0x7302, key_cert_sign=True)
    issuing = issue("CA cấp dưới (TEST)", root, key_cert_sign=True)

    assert verdict(leaf_under(issuing), issuing, trust=Trust(roots=(root.certificate,))) == (
        True,
        None,
    )


def test_a_leaf_its_intermediate_revoked_is_revoked() -> None:
    issuing = issue("CA cấp dưới (TEST)", signing.root())
    leaf = leaf_under(issuing)
    trust = replace(signing.trust(), crls=(crl_of(issuing, leaf.certificate.serial_number),))

    assert verdict(leaf, issuing, trust=trust) == (False, "revoked")


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"key": _key("forger")}, id="signed-by-another-key"),
        pytest.param({"algorithm": hashes.SHA224()}, id="sha224-outside-the-list"),
    ],
)
def test_an_intermediate_crl_its_ca_did_not_sign_with_a_listed_algorithm_is_ignored(
    forged: dict[str, object],
) -> None:
    issuing = issue("CA cấp dưới (TEST)", signing.root())
    leaf = leaf_under(issuing)
    crl = crl_of(issuing, leaf.certificate.serial_number, **forged)  # type: ignore[arg-type]

    assert verdict(leaf, issuing, trust=replace(signing.trust(), crls=(crl,))) == (True, None)


def test_the_root_crl_does_not_revoke_the_same_serial_under_an_intermediate() -> None:
    """Serials are unique per issuer: the root revoking 0x7101 says nothing of the intermediate's
    0x7101; and without the intermediate's CRL its leaf is not found revoked."""
    issuing = issue("CA cấp dưới (TEST)", signing.root())
    leaf = leaf_under(issuing)
    root = signing.root().certificate
    trust = Trust(
        roots=(root,), revoked=frozenset({(root.subject, leaf.certificate.serial_number)})
    )

    assert verdict(leaf, issuing, trust=trust) == (True, None)


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        pytest.param(NOW - timedelta(days=1), (True, None), id="current"),
        pytest.param(NOW - timedelta(days=8), (False, "revocation_undetermined"), id="past-next"),
        pytest.param(NOW + timedelta(hours=1), (False, "revocation_undetermined"), id="future"),
    ],
)
def test_a_crl_that_is_not_current_leaves_the_revocation_status_undetermined(
    issued: datetime, expected: tuple[bool, str | None]
) -> None:
    """RFC 5280 §6.3.3: a CRL past its nextUpdate (or not issued yet) does not say that what it
    omits is not revoked; the check reads the dates at its own time, not the wall clock."""
    issuing = issue("CA cấp dưới (TEST)", signing.root())
    leaf = leaf_under(issuing)
    trust = replace(signing.trust(), crls=(crl_of(issuing, 0x9999, issued=issued),))

    assert verdict(leaf, issuing, trust=trust) == expected


def test_a_revocation_in_a_stale_crl_still_stands_and_a_current_one_beside_it_decides() -> None:
    """A revocation is not undone by its CRL ageing; a stale CRL beside a current one that
    omits the certificate leaves it not revoked."""
    issuing = issue("CA cấp dưới (TEST)", signing.root())
    leaf = leaf_under(issuing)
    stale = crl_of(issuing, leaf.certificate.serial_number, issued=NOW - timedelta(days=30))
    old, current = crl_of(issuing, issued=NOW - timedelta(days=30)), crl_of(issuing)

    assert verdict(leaf, issuing, trust=replace(signing.trust(), crls=(stale,))) == (
        False,
        "revoked",
    )
    assert verdict(leaf, issuing, trust=replace(signing.trust(), crls=(old, current))) == (
        True,
        None,
    )
