"""The bus's test CA (issue 17): its root and CRL published, certificates issued and revoked by
admins, other roots trusted, and what the document systems then conclude of signatures."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from formats.edxml import render_edxml, render_status
from formats.xmldsig import sign_edxml
from lgsp.admin_tasks import create_client
from lgsp.ca.authority import make_crl
from lgsp.settings import Settings
from tests.fixtures import signing
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, bus_settings, fetch_token, registered_client
from tests.fixtures.documents import canonical_document, cross_province_document
from tests.fixtures.waiting import eventually
from tests.fixtures.xmlsec_signing import xmlsec_signed

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"
STP, STC = "000.00.01.H33", "000.00.03.H33"  # Kiên Giang's Sở Tư pháp and Sở Tài chính
TG_STP = "000.00.01.H58"  # Tiền Giang's Sở Tư pháp
PASSWORD = "mật-khẩu-không-ascii"
GOOD_PASSWORD = "test-ca-pass-1"
DOCUMENTS = f"{KG}/qlvb/v1/documents"
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def settings(bus_database_url: str, bus_data_dir: Path) -> Settings:
    """Document systems fetch the CA's CRL for every check: a revocation is seen at once."""
    return bus_settings(bus_database_url, bus_data_dir, crl_cache_seconds=0)


async def issue(
    client: httpx.AsyncClient, headers: dict[str, str], organ_id: str = STP, base: str = KG
) -> httpx.Response:
    return await client.post(
        f"{base}/admin/ca/certificates",
        json={"organ_id": organ_id, "password": GOOD_PASSWORD},
        headers=headers,
    )


async def issued_signer(
    client: httpx.AsyncClient, headers: dict[str, str], organ_id: str = STP
) -> signing.Signer:
    """An organisation's key and certificate, from the PKCS#12 file the CA answered."""
    answer = await issue(client, headers, organ_id)
    assert answer.status_code == 201, answer.text
    key, certificate, _ = pkcs12.load_key_and_certificates(
        base64.b64decode(answer.json()["pkcs12_base64"]), GOOD_PASSWORD.encode()
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    assert certificate is not None
    return signing.Signer(key, certificate)


def signed_document(number: str, signer: signing.Signer) -> bytes:
    recipient = {"organ_id": STC, "organ_name": "Sở Tài chính tỉnh Kiên Giang"}
    document = canonical_document(number, [recipient], notation="STP-CA", subject="V/v thử CA")
    return sign_edxml(render_edxml(document), key=signer.key, chain=[signer.certificate])


def signed_status(document_id: str, code: str, signer: signing.Signer) -> bytes:
    """Kiên Giang's Sở Tài chính reporting `code` on a document of its Sở Tư pháp, signed."""
    sender, promulgated, number = document_id.split(",")
    status = render_status(
        {
            "response_for": {"organ_id": sender, "code": number,
                             "promulgation_date": promulgated.replace("/", "-"),
                             "document_id": document_id},
            "from": {"organ_id": STC, "organ_name": "Sở Tài chính tỉnh Kiên Giang"},
            "status_code": code, "description": None, "timestamp": f"2026-12-06T10:00:{code}",
            "staff_info": None,
        }
    )  # fmt: skip
    return sign_edxml(status, key=signer.key, chain=[signer.certificate])


async def send_xml(client: httpx.AsyncClient, token: str, data: bytes, **headers: str) -> Any:
    sent = await client.post(DOCUMENTS, content=data, headers={**bearer(token), **XML, **headers})
    assert sent.status_code == 202, sent.text
    return sent.json()


async def once_there(client: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    """`url` read until it answers 200: a message crossing provinces arrives store-and-forward."""

    async def read() -> httpx.Response:
        return await client.get(url, headers=bearer(token))

    return await eventually(read, lambda r: r.status_code == 200)


def assert_signed_by(signature: dict[str, Any], name: str) -> None:
    """Validly signed by the agency `name`, under a certificate of the bus's test CA."""
    assert signature["valid"] is True, signature
    assert f"CN={name}" in signature["subject"]
    assert "TEST CA" in signature["issuer"]


async def instance_admin(
    client: httpx.AsyncClient, settings: Settings, instance: str = "kiengiang"
) -> dict[str, str]:
    created = await create_client(
        settings, instance=instance, name=f"{instance} operator", services=[], is_admin=True
    )
    base = f"/lgsp/{instance}"
    return bearer(
        await fetch_token(client, base, client_id=created.client_id, secret=created.client_secret)
    )


class TestPublished:
    async def test_every_instance_publishes_the_one_test_root_and_lists_it(
        self, client: httpx.AsyncClient
    ) -> None:
        here = await client.get(f"{KG}/ca/root.pem")
        national = await client.get("/ndxp/ca/root.pem")
        index = (await client.get("/")).json()

        assert here.status_code == 200
        assert here.headers["content-type"] == "application/x-pem-file"
        assert here.content == national.content
        root = x509.load_pem_x509_certificate(here.content)
        assert "Cơ quan chứng thực số Chính phủ (TEST CA)" in root.subject.rfc4514_string()
        assert root.subject == root.issuer
        listed = {i["name"]: i["ca"] for i in index["instances"]}
        assert listed["kiengiang"]["root"] == "http://lgsp.test/lgsp/kiengiang/ca/root.pem"

    async def test_the_crl_is_signed_by_the_root_in_der_and_pem(
        self, client: httpx.AsyncClient
    ) -> None:
        root = x509.load_pem_x509_certificate((await client.get(f"{KG}/ca/root.pem")).content)
        der = await client.get(f"{KG}/ca/crl.der")
        pem = await client.get(f"{KG}/ca/crl.pem")

        assert der.headers["content-type"] == "application/pkix-crl"
        crl = x509.load_der_x509_crl(der.content)
        assert crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]
        assert x509.load_pem_x509_crl(pem.content).issuer == root.subject


class TestIssue:
    async def test_an_admin_gets_a_certificate_and_key_as_pem_and_pkcs12(
        self, client: httpx.AsyncClient, demo_token: str, settings: Settings
    ) -> None:
        root = x509.load_pem_x509_certificate((await client.get(f"{KG}/ca/root.pem")).content)

        answer = await issue(client, bearer(demo_token))

        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["organ_id"] == STP
        assert "CN=Sở Tư pháp tỉnh Kiên Giang" in body["subject"]
        certificate = x509.load_pem_x509_certificate(body["certificate_pem"].encode())
        certificate.verify_directly_issued_by(root)
        key = serialization.load_pem_private_key(
            body["private_key_pem"].encode(), password=GOOD_PASSWORD.encode()
        )
        assert key.public_key() == certificate.public_key()
        _, in_bundle, chain = pkcs12.load_key_and_certificates(
            base64.b64decode(body["pkcs12_base64"]), GOOD_PASSWORD.encode()
        )
        assert in_bundle == certificate
        assert chain == [root]
        kept = settings.data_dir / "ca" / "issued" / f"{body['serial']}.key"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # owner-only, in an owner-only folder
        assert stat.S_IMODE(kept.parent.parent.stat().st_mode) == 0o700
        listed = await client.get(f"{KG}/admin/ca/certificates", headers=bearer(demo_token))
        assert body["serial"] in [c["serial"] for c in listed.json()["certificates"]]

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"organ_id": "000.00.99.H33", "password": GOOD_PASSWORD}, 422, "UNKNOWN_ORGANISATION"),
            ({"organ_id": STP, "password": "short"}, 422, "BAD_PASSWORD"),
            ({"organ_id": STP, "password": PASSWORD}, 422, "BAD_PASSWORD"),
            ({"organ_id": STP}, 422, "INVALID_REQUEST"),
        ],
    )
    async def test_bad_input_is_a_problem_with_a_stable_code(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        body: dict[str, str],
        status: int,
        code: str,
    ) -> None:
        refused = await client.post(
            f"{KG}/admin/ca/certificates", json=body, headers=bearer(demo_token)
        )

        assert_problem(refused, status, code)

    async def test_a_client_that_is_no_admin_may_not_issue(
        self, client: httpx.AsyncClient, bus: Any
    ) -> None:
        plain = await registered_client(bus, {"qlvb": "*"}, name="clerk")
        token = await fetch_token(client, client_id=plain.client_id, secret=plain.client_secret)

        refused = await issue(client, bearer(token))

        assert (refused.status_code, refused.json()["code"]) == (403, "ACCESS_DENIED")

    async def test_an_instance_admin_issues_to_its_own_organisations_only(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        operator = await instance_admin(client, settings)

        own = await issue(client, operator)
        other = await issue(client, operator, organ_id="000.00.01.H58")

        assert own.status_code == 201, own.text
        assert (other.status_code, other.json()["code"]) == (403, "ACCESS_DENIED")


class TestRevocation:
    async def test_a_revoked_certificate_is_in_the_crl_and_its_signatures_are_revoked(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        signer = await issued_signer(client, bearer(demo_token))
        serial = format(signer.certificate.serial_number, "x")
        before = await send_xml(client, demo_token, signed_document("9101", signer))

        revoked = await client.post(
            f"{KG}/admin/ca/certificates/{serial}/revoke", headers=bearer(demo_token)
        )
        after = await send_xml(client, demo_token, signed_document("9102", signer))

        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
        crl = x509.load_der_x509_crl((await client.get(f"{KG}/ca/crl.der")).content)
        assert crl.get_revoked_certificate_by_serial_number(signer.certificate.serial_number)
        assert before["signature"]["valid"] is True
        assert (after["signature"]["valid"], after["signature"]["reason"]) == (False, "revoked")

    @pytest.mark.parametrize("serial", ["abc123", "not-hex", "f" * 41])
    async def test_an_unknown_serial_is_not_found(
        self, client: httpx.AsyncClient, demo_token: str, serial: str
    ) -> None:
        refused = await client.post(
            f"{KG}/admin/ca/certificates/{serial}/revoke", headers=bearer(demo_token)
        )

        assert (refused.status_code, refused.json()["code"]) == (404, "CERTIFICATE_NOT_FOUND")

    async def test_an_instance_admin_may_not_revoke_another_instances_certificate(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        tiengiang = bearer(await fetch_token(client, TG))
        issued = await issue(client, tiengiang, organ_id="000.00.01.H58", base=TG)
        assert issued.status_code == 201, issued.text
        operator = await instance_admin(client, settings)

        refused = await client.post(
            f"{KG}/admin/ca/certificates/{issued.json()['serial']}/revoke", headers=operator
        )

        assert (refused.status_code, refused.json()["code"]) == (403, "ACCESS_DENIED")


class TestOtherRoots:
    async def test_a_vendor_root_added_by_the_bus_admin_makes_its_signers_trusted(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        vendor = signing.current_signer(
            "Sở Tư pháp tỉnh Kiên Giang", serial=0x7001, issuer="VNPT-CA TEST"
        )
        root_pem = signing.root("VNPT-CA TEST").certificate.public_bytes(serialization.Encoding.PEM)
        untrusted = await send_xml(client, demo_token, signed_document("9201", vendor))

        added = await client.post(
            f"{KG}/admin/ca/roots",
            json={"certificate_pem": root_pem.decode()},
            headers=bearer(demo_token),
        )
        trusted = await send_xml(client, demo_token, signed_document("9202", vendor))
        again = await client.post(
            f"{KG}/admin/ca/roots",
            json={"certificate_pem": root_pem.decode()},
            headers=bearer(demo_token),
        )

        assert untrusted["signature"]["reason"] == "untrusted"
        assert added.status_code == 200, added.text
        assert root_pem in (await client.get(f"{TG}/ca/trust.pem")).content
        assert (trusted["signature"]["valid"], trusted["signature"]["reason"]) == (True, None)
        assert again.json()["added"] is False

    async def test_a_root_added_with_its_crl_makes_what_the_crl_revokes_revoked(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        """As the roots file carries CRLs after its roots, the admin API takes a root's; they
        reach every document system in `ca/trust.pem`."""
        vendor = signing.root("Viettel-CA TEST")
        revoked = signing.current_signer(
            "Sở Tư pháp tỉnh Kiên Giang", serial=0x7002, issuer="Viettel-CA TEST"
        )
        crl = make_crl(vendor.certificate, vendor.key, [(0x7002, datetime.now(UTC))],
                       now=datetime.now(UTC)).public_bytes(serialization.Encoding.PEM)  # fmt: skip
        root_pem = vendor.certificate.public_bytes(serialization.Encoding.PEM).decode()

        added = await client.post(
            f"{KG}/admin/ca/roots",
            json={"certificate_pem": root_pem, "crls_pem": crl.decode()},
            headers=bearer(demo_token),
        )
        sent = await send_xml(client, demo_token, signed_document("9203", revoked))

        assert added.status_code == 200, added.text
        assert (added.json()["added"], added.json()["crls"]) == (True, 1)
        assert crl in (await client.get(f"{TG}/ca/trust.pem")).content
        assert (sent["signature"]["valid"], sent["signature"]["reason"]) == (False, "revoked")

    async def test_a_crl_the_root_did_not_sign_is_refused(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        forger = signing.root("Forger-CA TEST")
        crl = make_crl(forger.certificate, forger.key, [(0x7003, datetime.now(UTC))],
                       now=datetime.now(UTC)).public_bytes(serialization.Encoding.PEM)  # fmt: skip
        root_pem = signing.root("Other-CA TEST").certificate.public_bytes(
            serialization.Encoding.PEM
        )

        refused = await client.post(
            f"{KG}/admin/ca/roots",
            json={"certificate_pem": root_pem.decode(), "crls_pem": crl.decode()},
            headers=bearer(demo_token),
        )

        assert (refused.status_code, refused.json()["code"]) == (422, "BAD_CERTIFICATE")
        assert root_pem not in (await client.get(f"{TG}/ca/trust.pem")).content

    @pytest.mark.parametrize(
        "pem",
        [
            "not a certificate",
            signing.signer().certificate.public_bytes(serialization.Encoding.PEM).decode(),
        ],
        ids=["garbage", "a-leaf"],
    )
    async def test_only_a_root_certificate_can_be_added(
        self, client: httpx.AsyncClient, demo_token: str, pem: str
    ) -> None:
        refused = await client.post(
            f"{KG}/admin/ca/roots", json={"certificate_pem": pem}, headers=bearer(demo_token)
        )

        assert (refused.status_code, refused.json()["code"]) == (422, "BAD_CERTIFICATE")

    async def test_an_instance_admin_may_not_add_a_root(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        pem = signing.root().certificate.public_bytes(serialization.Encoding.PEM).decode()

        refused = await client.post(
            f"{KG}/admin/ca/roots",
            json={"certificate_pem": pem},
            headers=await instance_admin(client, settings),
        )

        assert (refused.status_code, refused.json()["code"]) == (403, "BUS_ADMIN_REQUIRED")


class TestMocksSign:
    async def test_a_document_composed_as_json_is_signed_by_its_sender_and_valid_there(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        tg_token = await fetch_token(client, TG)
        document = cross_province_document("9301", notation="STP-KY")

        sent = await client.post(DOCUMENTS, json=document, headers=bearer(demo_token))
        assert sent.status_code == 202, sent.text
        key = sent.json()["id"]
        there = f"{TG}/qlvb/v1/documents/{key}"

        received = await once_there(client, there, tg_token)
        signature = sent.json()["signature"]
        assert_signed_by(signature, "Sở Tư pháp tỉnh Kiên Giang")
        assert signature["serial"]
        assert signature["not_after"]
        assert received.json()["signature"] == {**signature, "reason": None}
        raw = await client.get(there, headers={**bearer(tg_token), "Accept": "application/xml"})
        assert b"http://www.w3.org/2000/09/xmldsig#" in raw.content

    async def test_a_status_reported_as_json_is_signed_by_its_reporter_and_valid_there(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        tg_token = await fetch_token(client, TG)
        sent = await client.post(
            DOCUMENTS, json=cross_province_document("9302", notation="STP-KY"),
            headers=bearer(demo_token),
        )  # fmt: skip
        key = sent.json()["id"]
        await once_there(client, f"{TG}/qlvb/v1/documents/{key}", tg_token)
        reported = await client.post(
            f"{TG}/qlvb/v1/documents/{key}/status",
            json={"organ_id": TG_STP, "status_code": "01"},
            headers=bearer(tg_token),
        )
        assert reported.status_code == 200, reported.text
        here = f"{DOCUMENTS}/{key}/recipients/{TG_STP}/statuses/1"

        received = await once_there(client, here, demo_token)
        signature = reported.json()["signature"]
        assert_signed_by(signature, "Sở Tư pháp tỉnh Tiền Giang")
        assert received.json()["signature"] == signature  # checked again where it arrived
        raw = await client.get(here, headers={**bearer(demo_token), "Accept": "application/xml"})
        assert b"http://www.w3.org/2000/09/xmldsig#" in raw.content


class TestTrustFaults:
    async def test_corrupt_signature_makes_the_recipient_find_it_tampered(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        signer = await issued_signer(client, bearer(demo_token))

        clean = await send_xml(client, demo_token, signed_document("9401", signer))
        faulted = await send_xml(
            client,
            demo_token,
            signed_document("9402", signer),
            **{"X-LGSP-Fault": "corrupt_signature"},
        )

        assert clean["signature"]["valid"] is True
        assert (faulted["signature"]["valid"], faulted["signature"]["reason"]) == (
            False,
            "tampered",
        )

    async def test_an_expired_certificate_rule_makes_the_recipient_find_it_expired(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        signer = await issued_signer(client, bearer(demo_token))
        rule = {"expired_certificate": True, "service": "qlvb", "times": 1}
        added = await client.post(f"{KG}/admin/faults", json=rule, headers=bearer(demo_token))
        assert added.status_code == 201, added.text

        faulted = await send_xml(client, demo_token, signed_document("9501", signer))
        after = await send_xml(client, demo_token, signed_document("9502", signer))

        assert (faulted["signature"]["valid"], faulted["signature"]["reason"]) == (
            False,
            "expired",
        )
        assert faulted["signature"]["subject"] == after["signature"]["subject"]  # same signer
        assert after["signature"]["valid"] is True  # `times: 1`: the rule is spent

    async def test_both_trust_faults_act_on_a_signed_status_message(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        """A status message is signed and verified as a document is: `corrupt_signature` by
        header, and `expired_certificate` by a rule aimed at post_status, act on it too."""
        sent = await send_xml(
            client,
            demo_token,
            signed_document("9601", await issued_signer(client, bearer(demo_token))),
        )
        signer = await issued_signer(client, bearer(demo_token), STC)  # the reporter's own
        path = f"{DOCUMENTS}/{sent['id']}/status"
        rule = {"expired_certificate": True, "service": "qlvb", "path": "/documents/*/status",
                "times": 1}  # fmt: skip
        headers = {**bearer(demo_token), **XML}

        corrupted = await client.post(
            path, content=signed_status(sent["document_id"], "01", signer),
            headers={**headers, "X-LGSP-Fault": "corrupt_signature",
                     "X-Request-ID": "status-corrupted-9601"},
        )  # fmt: skip
        audit = await client.get(
            f"{KG}/admin/audit", params={"request_id": "status-corrupted-9601"},
            headers=bearer(demo_token),
        )  # fmt: skip
        added = await client.post(f"{KG}/admin/faults", json=rule, headers=bearer(demo_token))
        assert added.status_code == 201, added.text
        expired = await client.post(
            path, content=signed_status(sent["document_id"], "03", signer), headers=headers
        )
        clean = await client.post(
            path, content=signed_status(sent["document_id"], "04", signer), headers=headers
        )

        assert corrupted.status_code == 200, corrupted.text
        assert corrupted.json()["signature"]["reason"] == "tampered"
        inbound = next(r for r in audit.json()["records"] if r["hop"] == "inbound")
        assert inbound["notes"]["signature"]["reason"] == "tampered"  # recorded, as a document's
        assert (expired.json()["signature"]["reason"], clean.json()["signature"]["valid"]) == (
            "expired",
            True,
        )

    async def test_a_trust_fault_after_the_call_is_refused(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        refused = await client.post(
            f"{KG}/admin/faults",
            json={"corrupt_signature": True, "when": "after"},
            headers=bearer(demo_token),
        )

        assert (refused.status_code, refused.json()["code"]) == (422, "INVALID_REQUEST")


class TestXmlsecSigned:
    @pytest.mark.parametrize(
        ("c14n", "prefix", "valid"),
        [("exclusive", None, True), ("inclusive", "ds", True), ("inclusive", None, False)],
    )
    async def test_a_document_xmlsec_signed_with_an_issued_certificate_through_the_bus(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        c14n: Literal["exclusive", "inclusive"],
        prefix: str | None,
        valid: bool,
    ) -> None:
        signer = await issued_signer(client, bearer(demo_token))
        recipient = {"organ_id": STC, "organ_name": "Sở Tài chính tỉnh Kiên Giang"}
        number = {"exclusive": "9601", "inclusive": "9602" if prefix else "9603"}[c14n]
        document = canonical_document(number, [recipient], notation="STP-XS", subject="V/v xmlsec")

        sent = await send_xml(
            client,
            demo_token,
            xmlsec_signed(render_edxml(document), signer, c14n=c14n, prefix=prefix),
        )

        assert sent["signature"]["valid"] is valid  # inclusive without a prefix: signxml's gap
        assert sent["signature"]["reason"] == (None if valid else "tampered")
