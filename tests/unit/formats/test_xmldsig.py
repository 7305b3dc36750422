"""XML-DSig on edXML: a recipient's verdict for valid, tampered, expired, revoked, untrusted,
missing and malformed signatures, and the SDK's weak algorithms flagged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from formats.edxml import read_edxml, render_edxml
from formats.xmldsig import DSIG, NAMESPACE, Trust, check_signature, sign_edxml
from tests.fixtures import signing
from tests.fixtures.documents import cross_province_document
from tests.unit.mocks.test_qlvb_app import status_message

DOCUMENT = render_edxml(cross_province_document("5"))
SDK = Path(__file__).parents[2] / "samples" / "sdk"


def signed_by(signer: signing.Signer, data: bytes = DOCUMENT) -> bytes:
    return sign_edxml(data, key=signer.key, chain=[signer.certificate])


def test_a_document_signed_under_a_trusted_root_is_valid_and_says_by_whom() -> None:
    signer = signing.signer()

    check = check_signature(signed_by(signer), trust=signing.trust(), at=signing.NOW)

    assert (check.present, check.valid, check.reason, check.weak) == (True, True, None, False)
    assert check.algorithm == SignatureMethod.RSA_SHA256.value
    assert check.subject is not None
    assert "Sở Tư pháp tỉnh Kiên Giang" in check.subject
    assert check.issuer is not None
    assert "(TEST)" in check.issuer
    assert check.serial == "1001"
    assert check.not_after == signer.certificate.not_valid_after_utc.isoformat()


def test_the_signature_sits_in_the_header_and_the_document_still_reads_the_same() -> None:
    signed = signed_by(signing.signer())
    header = etree.fromstring(signed).find(
        f"{{{NAMESPACE}}}edXMLEnvelope/{{{NAMESPACE}}}edXMLHeader"
    )

    assert header is not None
    assert header[-1].tag == f"{{{DSIG}}}Signature"
    assert read_edxml(signed).message == read_edxml(DOCUMENT).message


@pytest.mark.parametrize(
    ("signer", "reason"),
    [
        pytest.param(lambda: signing.signer(serial=0x2002, expired=True), "expired", id="expired"),
        pytest.param(
            lambda: signing.signer(serial=signing.REVOKED_SERIAL), "revoked", id="revoked"
        ),
        pytest.param(lambda: signing.signer(issuer="Rogue CA"), "untrusted", id="untrusted"),
    ],
)  # fmt: skip
def test_a_certificate_the_recipient_cannot_rely_on_is_reported_with_its_reason(
    signer: object, reason: str
) -> None:
    assert callable(signer)
    check = check_signature(signed_by(signer()), trust=signing.trust(), at=signing.NOW)

    assert (check.present, check.valid, check.reason) == (True, False, reason)


def test_a_changed_byte_under_the_signature_is_tampered() -> None:
    signed = signed_by(signing.signer())
    changed = signed.replace("phối hợp".encode(), "phối hớp".encode(), 1)

    assert changed != signed
    assert check_signature(changed, trust=signing.trust(), at=signing.NOW).reason == "tampered"


def test_nothing_is_trusted_without_roots() -> None:
    check = check_signature(signed_by(signing.signer()), trust=Trust(), at=signing.NOW)

    assert (check.valid, check.reason) == (False, "untrusted")


def test_an_unsigned_document_is_missing_its_signature() -> None:
    check = check_signature(DOCUMENT, trust=signing.trust(), at=signing.NOW)

    assert (check.present, check.valid, check.reason) == (False, False, "missing")


def test_the_sdk_samples_signature_is_present_but_not_xml_dsig() -> None:
    """Its Signature is in the edXML namespace, its certificate cut short (FIDELITY-2026 §2)."""
    check = check_signature(
        (SDK / "edoc_update.edxml").read_bytes(), trust=signing.trust(), at=signing.NOW
    )

    assert (check.present, check.valid, check.reason) == (True, False, "malformed")
    assert check.algorithm == SignatureMethod.RSA_SHA1.value


def signed_by_signxml(xml_signer: XMLSigner) -> bytes:
    """`DOCUMENT` signed in its header by another signer than ours, configured as a test needs."""
    signer = signing.signer()
    root = etree.fromstring(DOCUMENT)
    header = root.find(f"{{{NAMESPACE}}}edXMLEnvelope/{{{NAMESPACE}}}edXMLHeader")
    assert header is not None
    etree.SubElement(header, f"{{{DSIG}}}Signature", Id="placeholder")
    signed = xml_signer.sign(root, key=signer.key, cert=[signer.certificate])
    return etree.tostring(signed)


def test_inclusive_c14n_is_verified_but_flagged_weak() -> None:
    data = signed_by_signxml(
        XMLSigner(
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
        )
    )

    check = check_signature(data, trust=signing.trust(), at=signing.NOW)

    assert (check.valid, check.weak) == (True, True)


def test_an_algorithm_outside_the_list_is_unsupported() -> None:
    data = signed_by_signxml(
        XMLSigner(
            signature_algorithm=SignatureMethod.RSA_SHA384, digest_algorithm=DigestAlgorithm.SHA384
        )
    )

    check = check_signature(data, trust=signing.trust(), at=signing.NOW)

    assert (check.valid, check.reason) == (False, "unsupported")


# --- the signer is the sender (SECURITY re-probe finding 7) ---------------------------------


def test_a_valid_signature_by_another_agency_than_the_sender_is_signer_not_sender() -> None:
    """A certificate of the same trusted CA, issued to another agency (UID), signs a document
    whose From/OrganId is not its own: the signature is sound, but not the sender's."""
    other = signing.signer("Sở Xây dựng tỉnh Kiên Giang", organ_id="000.00.02.H33")

    check = check_signature(signed_by(other), trust=signing.trust(), at=signing.NOW)
    own = check_signature(signed_by(signing.signer()), trust=signing.trust(), at=signing.NOW)

    assert (check.present, check.valid, check.reason) == (True, False, "signer_not_sender")
    assert check.subject is not None
    assert "UID=000.00.02.H33" in check.subject  # who did sign, for the reader to see
    assert (own.valid, own.reason) == (True, None)


def test_a_certificate_naming_no_agency_is_signer_unidentified() -> None:
    """No UID: nothing binds the key to an agency, so it is no sender's signature; its signer
    is unknown, not another agency (`signer_not_sender` would say so)."""
    certificate = signing._certificate(
        signing._name("Sở Tư pháp tỉnh Kiên Giang", "Sở Tư pháp tỉnh Kiên Giang"),
        signing._key("signer"),
        signing.root(),
        serial=0x1002,
        not_before=signing.NOW - timedelta(days=1),
        not_after=signing.NOW + timedelta(days=1),
    )

    check = check_signature(
        signed_by(signing.Signer(signing._key("signer"), certificate)),
        trust=signing.trust(),
        at=signing.NOW,
    )

    assert (check.valid, check.reason) == (False, "signer_unidentified")


def test_a_status_message_is_valid_only_signed_by_its_reporter() -> None:
    document = cross_province_document("6")
    status = status_message(document, "000.00.03.H33", "01")  # the recipient reports

    by_sender = check_signature(signed_by(signing.signer(), status), trust=signing.trust(),
                                at=signing.NOW)  # fmt: skip
    by_reporter = check_signature(
        signed_by(signing.signer("Sở Tài chính tỉnh Kiên Giang"), status),
        trust=signing.trust(),
        at=signing.NOW,
    )

    assert (by_sender.valid, by_sender.reason) == (False, "signer_not_sender")
    assert (by_reporter.valid, by_reporter.reason) == (True, None)


def test_a_signature_that_leaves_the_sender_out_of_what_it_signs_binds_no_sender() -> None:
    """Signed by reference to one element (the Subject, here): From is outside the signature,
    so anyone could change it; the signer's UID matching the From read is no binding."""
    signer = signing.signer()
    root = etree.fromstring(DOCUMENT)
    header = root.find(f"{{{NAMESPACE}}}edXMLEnvelope/{{{NAMESPACE}}}edXMLHeader")
    subject = root.find(f".//{{{NAMESPACE}}}Subject")
    assert header is not None
    assert subject is not None
    subject.set("Id", "subject")
    etree.SubElement(header, f"{{{DSIG}}}Signature", Id="placeholder")
    signed = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    ).sign(root, key=signer.key, cert=[signer.certificate], reference_uri="#subject")

    check = check_signature(etree.tostring(signed), trust=signing.trust(), at=signing.NOW)

    assert (check.present, check.valid, check.reason) == (True, False, "signer_not_sender")
