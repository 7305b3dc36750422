"""Faults of trust on a document (issue 17): what they do to the bytes, and what a recipient
then concludes of the signature."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from formats.edxml import render_edxml, render_status, validate_document
from formats.xmldsig import Trust, check_signature, sign_edxml
from lgsp.ca.store import CertificateAuthority
from lgsp.faults.documents import corrupt_signature, expired_certificate
from lgsp.faults.matcher import HeaderError, parse_fault_header
from lgsp.faults.schemas import FaultKind
from tests.fixtures import signing
from tests.fixtures.documents import cross_province_document

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def signed_by(ca: CertificateAuthority) -> bytes:
    issued = ca.ensure_all({"000.00.01.H33": "Sở Tư pháp tỉnh Kiên Giang"}, now=NOW)
    signer = issued["000.00.01.H33"]
    data = render_edxml(cross_province_document("7001"))
    return sign_edxml(data, key=signer.key, chain=[signer.certificate])


def trusting(ca: CertificateAuthority) -> Trust:
    return Trust(roots=(ca.root(now=NOW),))


def test_corrupt_signature_changes_the_signature_value_alone(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path)
    data = signed_by(ca)

    changed = corrupt_signature(data)

    assert changed is not None
    assert len(changed) == len(data)
    assert sum(a != b for a, b in zip(changed, data, strict=True)) <= 2  # one base64 group
    assert check_signature(data, trust=trusting(ca), at=NOW).valid
    assert check_signature(changed, trust=trusting(ca), at=NOW).reason == "tampered"


def test_expired_certificate_resigns_for_the_same_signer(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path)
    data = signed_by(ca)
    before = check_signature(data, trust=trusting(ca), at=NOW)

    changed = expired_certificate(data, ca, now=NOW)

    assert changed is not None
    after = check_signature(changed, trust=trusting(ca), at=NOW)
    assert (after.valid, after.reason, after.subject) == (False, "expired", before.subject)


@pytest.mark.parametrize(
    "body",
    [
        b'{"not": "xml"}',
        render_edxml(cross_province_document("7002")),  # unsigned: nothing to corrupt
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    ],
    ids=["json", "unsigned", "hostile"],
)
def test_a_body_that_is_no_signed_document_passes_unchanged(tmp_path: Path, body: bytes) -> None:
    assert corrupt_signature(body) is None
    if b"edXML" not in body:  # an unsigned edXML document is signed anew, expired
        assert expired_certificate(body, CertificateAuthority(tmp_path), now=NOW) is None


def test_the_header_names_both_faults_and_they_happen_before_the_call() -> None:
    assert parse_fault_header("corrupt_signature").kind is FaultKind.CORRUPT_SIGNATURE
    assert parse_fault_header("expired_certificate").kind is FaultKind.EXPIRED_CERTIFICATE
    with pytest.raises(HeaderError, match="when must be before"):
        parse_fault_header("corrupt_signature; when=after")


def test_a_signature_under_another_root_stays_untrusted_after_the_fault(tmp_path: Path) -> None:
    vendor = signing.signer()
    data = sign_edxml(
        render_edxml(cross_province_document("7003")), key=vendor.key, chain=[vendor.certificate]
    )

    changed = corrupt_signature(data)

    assert changed is not None
    assert check_signature(changed, trust=Trust(roots=(signing.root().certificate,)),
                           at=signing.NOW).reason == "tampered"  # fmt: skip


def test_both_faults_act_on_a_signed_status_message_too(tmp_path: Path) -> None:
    """A status message is signed as a document is (issue 17): the faults of trust that a
    rule may aim at post_status or receive_status change it the same way."""
    ca = CertificateAuthority(tmp_path)
    reporter = {"000.00.01.H58": "Sở Tư pháp tỉnh Tiền Giang"}
    issued = ca.ensure_all(reporter, now=NOW)["000.00.01.H58"]
    document = validate_document(cross_province_document("7004"))
    status = render_status(
        {
            "response_for": {"organ_id": "000.00.01.H33", "code": "7004/STP-LT",
                             "promulgation_date": "2026-12-06",
                             "document_id": document["document_id"]},
            "from": {"organ_id": "000.00.01.H58", "organ_name": "Sở Tư pháp tỉnh Tiền Giang"},
            "status_code": "01", "description": None, "timestamp": "2026-12-06T16:00:00",
            "staff_info": None,
        }
    )  # fmt: skip
    data = sign_edxml(status, key=issued.key, chain=[issued.certificate])

    corrupted = corrupt_signature(data)
    expired = expired_certificate(data, ca, now=NOW)

    assert corrupted is not None
    assert expired is not None
    assert check_signature(data, trust=trusting(ca), at=NOW).valid
    assert check_signature(corrupted, trust=trusting(ca), at=NOW).reason == "tampered"
    before = check_signature(data, trust=trusting(ca), at=NOW)
    after = check_signature(expired, trust=trusting(ca), at=NOW)
    assert (after.reason, after.subject) == ("expired", before.subject)
