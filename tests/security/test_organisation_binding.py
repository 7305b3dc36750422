"""A tenant bound to an organisation acts only for it (issue 15, SECURITY-PROBE F11): dossiers
and inboxes of other agencies, here or in another province, are not its to read or move."""

from __future__ import annotations

import httpx
import pytest

from formats.edxml import render_edxml
from lgsp.admin_tasks import create_client
from lgsp.composition import seeded_dossier_codes
from lgsp.settings import Settings
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.documents import (
    canonical_document,
    cross_province_document,
    local_document,
    response_for,
)
from tests.unit.mocks.test_qlvb_app import status_message

pytestmark = pytest.mark.anyio

DOSSIERS = f"{KG}/dvc/v1/dossiers"
RECEIVE = {"action": "receive", "actor": "Kẻ Gian", "position": "x"}


def agency_of(code: str) -> str:
    return code.split("-", 1)[0]


async def tenant(
    client: httpx.AsyncClient, settings: Settings, *, organisation: str | None
) -> dict[str, str]:
    created = await create_client(
        settings,
        instance="kiengiang",
        name="portal vendor",
        services=["dvc", "qlvb"],
        is_admin=False,
        organisation=organisation,
    )
    token = await fetch_token(client, client_id=created.client_id, secret=created.client_secret)
    return bearer(token)


@pytest.fixture
def codes(settings: Settings) -> list[str]:
    """Kiên Giang's seeded dossiers; the first two of different agencies."""
    found = seeded_dossier_codes(
        province_code="91", seed=settings.seed, population=settings.population
    )
    other = next(code for code in found if agency_of(code) != agency_of(found[0]))
    return [found[0], other]


async def test_a_client_bound_to_no_organisation_reads_no_dossier(
    client: httpx.AsyncClient, settings: Settings, codes: list[str]
) -> None:
    headers = await tenant(client, settings, organisation=None)

    for answer in (
        await client.get(DOSSIERS, headers=headers),
        await client.get(DOSSIERS, headers={**headers, "X-LGSP-Target": "tiengiang"}),
        await client.get(f"{DOSSIERS}/{codes[0]}", headers=headers),
        await client.post(f"{DOSSIERS}/{codes[0]}/transitions", json=RECEIVE, headers=headers),
    ):
        assert_problem(answer, 403, "ORGANISATION_REQUIRED")


async def test_a_bound_client_lists_only_its_agencys_dossiers(
    client: httpx.AsyncClient, settings: Settings, codes: list[str]
) -> None:
    mine = agency_of(codes[0])
    headers = await tenant(client, settings, organisation=mine)

    listed = await client.get(DOSSIERS, params={"size": 100}, headers=headers)
    there = await client.get(DOSSIERS, headers={**headers, "X-LGSP-Target": "tiengiang"})
    theirs = await client.get(DOSSIERS, params={"agency": agency_of(codes[1])}, headers=headers)

    assert listed.status_code == 200, listed.text
    assert listed.json()["items"]
    assert {agency_of(item["code"]) for item in listed.json()["items"]} == {mine}
    assert there.status_code == 200, there.text
    assert there.json()["items"] == []
    assert_problem(theirs, 403, "ORGANISATION_MISMATCH")


async def test_a_bound_client_reads_and_moves_only_its_agencys_dossiers(
    client: httpx.AsyncClient, settings: Settings, codes: list[str]
) -> None:
    headers = await tenant(client, settings, organisation=agency_of(codes[0]))

    own = await client.get(f"{DOSSIERS}/{codes[0]}", headers=headers)
    read = await client.get(f"{DOSSIERS}/{codes[1]}", headers=headers)
    moved = await client.post(f"{DOSSIERS}/{codes[1]}/transitions", json=RECEIVE, headers=headers)

    assert own.status_code == 200, own.text
    for refused in (read, moved):
        assert_problem(refused, 403, "ORGANISATION_MISMATCH")


async def test_a_bound_client_reads_only_its_agencys_inbox(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await tenant(client, settings, organisation="000.00.01.H33")
    inbox = f"{KG}/qlvb/v1/documents/inbox"

    own = await client.get(inbox, params={"organ_id": "000.00.01.H33"}, headers=headers)
    other = await client.get(inbox, params={"organ_id": "000.00.05.H33"}, headers=headers)

    assert own.status_code == 200, own.text
    assert_problem(other, 403, "ORGANISATION_MISMATCH")


async def test_an_organisation_must_be_an_agency_id(settings: Settings) -> None:
    with pytest.raises(ValueError, match="agency id"):
        await create_client(
            settings,
            instance="kiengiang",
            name="x",
            services=[],
            is_admin=False,
            organisation="anything",
        )


async def test_a_bound_client_reports_statuses_only_as_its_agency(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    """A status report (or a recall) names its reporter in the body, as JSON or edXML."""
    recipient = {"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính tỉnh Kiên Giang"}
    other = {"organ_id": "000.00.05.H33", "organ_name": "Sở Văn hóa tỉnh Kiên Giang"}
    document = {**cross_province_document("907001"), "to": [recipient, other]}
    sent = await client.post(f"{KG}/qlvb/v1/documents", json=document, headers=bearer(demo_token))
    assert sent.status_code == 202, sent.text
    status_url = f"{KG}/qlvb/v1/documents/{sent.json()['id']}/status"
    headers = await tenant(client, settings, organisation=recipient["organ_id"])
    sender = document["from"]["organ_id"]  # a recall (13) is the sender's to ask

    as_other = await client.post(
        status_url, json={"organ_id": other["organ_id"], "status_code": "01"}, headers=headers
    )
    as_other_xml = await client.post(
        status_url,
        content=status_message(document, sender, "13"),
        headers={**headers, "Content-Type": "application/xml"},
    )
    unbound = await client.post(
        status_url,
        json={"organ_id": recipient["organ_id"], "status_code": "01"},
        headers=await tenant(client, settings, organisation=None),
    )
    as_itself = await client.post(
        status_url, json={"organ_id": recipient["organ_id"], "status_code": "01"}, headers=headers
    )

    for refused, code in (
        (as_other, "ORGANISATION_MISMATCH"),
        (as_other_xml, "ORGANISATION_MISMATCH"),
        (unbound, "ORGANISATION_REQUIRED"),
    ):
        assert_problem(refused, 403, code)
    assert as_itself.status_code == 200, as_itself.text


CO_RECIPIENT = {"organ_id": "000.00.02.H33", "organ_name": "Sở Xây dựng tỉnh Kiên Giang"}
LOCAL_RECIPIENT = {"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính tỉnh Kiên Giang"}
NO_AGENCY = "000.00.01.H99"  # of no province


@pytest.mark.parametrize(
    ("number", "read", "co_recipient"),
    [("907002", "document", 200), ("907003", "status", 403)],
)
async def test_only_the_parties_read_a_document_or_a_status_message(
    client: httpx.AsyncClient,
    settings: Settings,
    demo_token: str,
    number: str,
    read: str,
    co_recipient: int,
) -> None:
    """Document ids are derived from their DocumentId: an agency that neither sent nor received
    one must not read it by guessing (the VDXP SDK's getEdoc and downloadEdoc come here too).
    A status message (`recipients/{organ_id}/statuses/{n}`) is its reporter's and its
    addressee's, here the recipient's and the sender's: another recipient of the document
    reads the document, not that message."""
    recipient, bystander = "000.00.03.H33", "000.00.05.H33"
    document = local_document(number, subject="V/v tài liệu chỉ người nhận được đọc")
    document["to"] = [*document["to"], CO_RECIPIENT]
    sent = await client.post(f"{KG}/qlvb/v1/documents", json=document, headers=bearer(demo_token))
    assert sent.status_code == 202, sent.text
    url = f"{KG}/qlvb/v1/documents/{sent.json()['id']}"
    if read == "status":  # the recipient's report, addressed to the sender
        report = {"organ_id": recipient, "status_code": "01"}
        reported = await client.post(f"{url}/status", json=report, headers=bearer(demo_token))
        assert reported.status_code == 200, reported.text
        url = f"{url}/recipients/{recipient}/statuses/1"

    readers = {
        name: await tenant(client, settings, organisation=organisation)
        for name, organisation in (
            ("sender", document["from"]["organ_id"]),
            ("recipient", recipient),
            ("co-recipient", CO_RECIPIENT["organ_id"]),
            ("bystander", bystander),
            ("unbound", None),
        )
    }
    answers = {name: await client.get(url, headers=headers) for name, headers in readers.items()}
    as_xml = await client.get(url, headers={**readers["bystander"], "Accept": "application/xml"})
    naming_another = await client.get(
        url, params={"organ_id": recipient}, headers=readers["bystander"]
    )
    admin_as_bystander = await client.get(
        url, params={"organ_id": bystander}, headers=bearer(demo_token)
    )
    malformed = await client.get(url, params={"organ_id": "H33"}, headers=bearer(demo_token))

    assert answers["sender"].status_code == 200, answers["sender"].text
    assert answers["recipient"].status_code == 200, answers["recipient"].text
    assert answers["co-recipient"].status_code == co_recipient, answers["co-recipient"].text
    for refused, code in (
        (answers["bystander"], "NOT_A_PARTY"),
        (as_xml, "NOT_A_PARTY"),
        (admin_as_bystander, "NOT_A_PARTY"),
        (naming_another, "ORGANISATION_MISMATCH"),
        (answers["unbound"], "ORGANISATION_REQUIRED"),
    ):
        assert_problem(refused, 403, code)
    assert_problem(malformed, 422, "INVALID_DOCUMENT_QUERY")
    assert (await client.get(url, headers=bearer(demo_token))).status_code == 200


async def test_a_recipient_reads_only_its_own_deliverys_statuses(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    """A status message goes from its reporter to its addressee alone: another recipient of the
    document reads the document, not that recipient's status history or its StaffInfo."""
    recipient = "000.00.03.H33"
    document = local_document("907004", subject="V/v vết trạng thái của từng nơi nhận")
    document["to"] = [*document["to"], CO_RECIPIENT]
    sent = await client.post(f"{KG}/qlvb/v1/documents", json=document, headers=bearer(demo_token))
    assert sent.status_code == 202, sent.text
    url = f"{KG}/qlvb/v1/documents/{sent.json()['id']}"
    for organ_id, staff in ((recipient, "Lê Thị Tú"), (CO_RECIPIENT["organ_id"], "Trần Văn Ba")):
        report = {"organ_id": organ_id, "status_code": "01", "staff_info": {"staff": staff}}
        reported = await client.post(f"{url}/status", json=report, headers=bearer(demo_token))
        assert reported.status_code == 200, reported.text

    async def staff_seen(organisation: str) -> dict[str, list[str]]:
        headers = await tenant(client, settings, organisation=organisation)
        read = await client.get(url, headers=headers)
        assert read.status_code == 200, read.text
        return {
            item["organ_id"]: [entry["staff_info"]["staff"] for entry in item["history"]]
            for item in read.json()["recipients"]
        }

    sender, co_recipient = document["from"]["organ_id"], CO_RECIPIENT["organ_id"]
    every = {co_recipient: ["Trần Văn Ba"], recipient: ["Lê Thị Tú"]}
    views = {reader: await staff_seen(reader) for reader in (sender, recipient, co_recipient)}
    assert views == {
        sender: every,
        recipient: {recipient: every[recipient]},
        co_recipient: {co_recipient: every[co_recipient]},
    }


async def test_a_bound_client_sends_documents_only_as_its_agency(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    """SECURITY re-probe finding 1: the sender (JSON `from.organ_id`, edXML From/OrganId) is
    the caller's agency, or nothing is sent, signed or kept; so a forgery cannot take a
    genuine document's number first either."""
    mine, theirs = "000.00.01.H33", "000.00.02.H33"
    headers = await tenant(client, settings, organisation=mine)
    spoof = canonical_document("907101", [LOCAL_RECIPIENT], sender=theirs,
                               sender_name="Sở Xây dựng tỉnh Kiên Giang", notation="SPOOF",
                               subject="V/v giả mạo")  # fmt: skip
    url = f"{KG}/qlvb/v1/documents"

    as_other = await client.post(url, json=spoof, headers=headers)
    as_other_xml = await client.post(
        url, content=render_edxml(spoof), headers={**headers, "Content-Type": "application/xml"}
    )
    elsewhere = await client.post(  # through NDXP: still checked where the call entered
        url,
        json={**cross_province_document("907102"), "from": {"organ_id": "000.00.01.H58",
                                                             "organ_name": "Sở Tư pháp TG"}},
        headers={**headers, "X-LGSP-Target": "tiengiang"},
    )  # fmt: skip
    unbound = await client.post(
        url,
        json=canonical_document("907103", [LOCAL_RECIPIENT], notation="SPOOF", subject="x"),
        headers=await tenant(client, settings, organisation=None),
    )
    for refused, code in (
        (as_other, "ORGANISATION_MISMATCH"),
        (as_other_xml, "ORGANISATION_MISMATCH"),
        (elsewhere, "ORGANISATION_MISMATCH"),
        (unbound, "ORGANISATION_REQUIRED"),
    ):
        assert_problem(refused, 403, code)

    genuine = await client.post(url, json=spoof, headers=await tenant(
        client, settings, organisation=theirs))  # fmt: skip
    own = await client.post(
        url,
        json=canonical_document("907104", [LOCAL_RECIPIENT], notation="STP-VP", subject="x"),
        headers=headers,
    )
    as_xml = await client.post(
        url,
        content=render_edxml(
            canonical_document("907105", [LOCAL_RECIPIENT], notation="STP-VP", subject="x")
        ),
        headers={**headers, "Content-Type": "application/xml"},
    )
    for taken in (genuine, own, as_xml):
        assert taken.status_code == 202, taken.text
        assert taken.json()["duplicate"] is False  # the refused forgery took no number
    assert genuine.json()["signature"]["valid"] is True
    assert f"UID={theirs}" in genuine.json()["signature"]["subject"]
    assert f"UID={mine}" in own.json()["signature"]["subject"]
    admin = await client.post(  # an unbound admin acts for every agency of its instance
        url, json={**spoof, "code": {"code_number": "907106", "code_notation": "VP"}},
        headers=bearer(demo_token),
    )  # fmt: skip
    assert admin.status_code == 202, admin.text


async def test_a_bound_client_cannot_claim_another_agencys_document_id(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Security review 2026-12: DocumentIds are predictable and a document is known by its
    own, so a tenant sending as itself under another agency's next DocumentId took that
    document's place (409 for the genuine one here, a dead letter at the axis elsewhere).
    One naming a central body (the SDK's samples' VPCP) is refused too: VPCP's own document
    under it crosses the axis to the province; one naming no agency of the bus at all stays a
    mere warning (FIDELITY §2)."""
    victim, mine = "000.00.01.H33", "000.00.03.H33"
    headers = await tenant(client, settings, organisation=mine)
    genuine = canonical_document("907201", [LOCAL_RECIPIENT], sender=victim, notation="STP-VP",
                                 subject="Văn bản thật")  # fmt: skip
    claimed = f"{victim},2025/06/02,907201/STP-VP"
    forgery = {**canonical_document("907202", [CO_RECIPIENT], sender=mine, notation="STC",
                                    sender_name="Sở Tài chính", subject="chiếm chỗ"),
               "document_id": claimed}  # fmt: skip
    url = f"{KG}/qlvb/v1/documents"

    as_json = await client.post(url, json=forgery, headers=headers)
    as_xml = await client.post(
        url, content=render_edxml(forgery), headers={**headers, "Content-Type": "application/xml"}
    )
    elsewhere = await client.post(  # another province's agency's next document
        url, json={**forgery, "document_id": "000.00.01.H58,2025/06/02,888/STP-VP"},
        headers=headers,
    )  # fmt: skip
    sdk_like = await client.post(  # the SDK sample's, of VPCP, a central body
        url, json={**forgery, "document_id": "000.00.00.G22,2015/09/30,907202/VPCP-TTĐT"},
        headers=headers,
    )  # fmt: skip
    no_agency = await client.post(  # an organ id no agency of the bus has
        url, json={**forgery, "document_id": f"{NO_AGENCY},2015/09/30,907202/STC"},
        headers=headers,
    )  # fmt: skip
    real = await client.post(url, json=genuine, headers=await tenant(
        client, settings, organisation=victim))  # fmt: skip

    for refused in (as_json, as_xml, elsewhere, sdk_like):
        assert_problem(refused, 403, "ORGANISATION_MISMATCH")
    assert no_agency.status_code == 202, no_agency.text
    assert [w["rule"] for w in no_agency.json()["warnings"]] == ["document_id_mismatch"]
    assert real.status_code == 202, real.text
    assert (real.json()["document_id"], real.json()["duplicate"]) == (claimed, False)


@pytest.mark.parametrize("xml", [pytest.param(False, id="json"), pytest.param(True, id="edxml")])
async def test_an_unbound_admin_cannot_preempt_another_agencys_document_id(
    client: httpx.AsyncClient, demo_token: str, xml: bool
) -> None:
    """An admin bound to no organisation sends as any agency of its instance, but as one at a
    time: sending as one under the next DocumentId of another (here, of another province, or
    VPCP's) took that document's place, and the genuine one was a 409 (code review 2026-12)."""
    victim, mine = "000.00.01.H33", "000.00.03.H33"
    number = "907211" if xml else "907221"
    claims = [f"{victim},2025/06/02,{number}/STP-VP", f"000.00.01.H58,2025/06/02,{number}/STP",
              f"000.00.00.G22,2015/09/30,{number}/VPCP-TTĐT"]  # fmt: skip
    url, admin = f"{KG}/qlvb/v1/documents", bearer(demo_token)

    async def send(document: dict[str, object]) -> httpx.Response:
        if not xml:
            return await client.post(url, json=document, headers=admin)
        headers = {**admin, "Content-Type": "application/xml"}
        return await client.post(url, content=render_edxml(document), headers=headers)

    attempts = [
        await send({**canonical_document(str(int(number) + 1), [CO_RECIPIENT], sender=mine,
                                         notation="STC", sender_name="Sở Tài chính",
                                         subject="chiếm chỗ"), "document_id": claimed})
        for claimed in claims
    ]  # fmt: skip
    genuine = await send(canonical_document(number, [LOCAL_RECIPIENT], sender=victim,
                                            notation="STP-VP", subject="Văn bản thật"))  # fmt: skip

    for refused in attempts:
        assert_problem(refused, 403, "ORGANISATION_MISMATCH")
        assert "the DocumentId names" in refused.json()["detail"]
    assert genuine.status_code == 202, genuine.text
    assert (genuine.json()["document_id"], genuine.json()["duplicate"]) == (claims[0], False)


async def test_a_bound_clients_edxml_with_a_malformed_document_id_is_refused_as_edxml(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The claim check reads the DocumentId too; one it cannot read is the edXML reader's to
    refuse (422 INVALID_EDXML, `bad_document_id`), not a sender the body "does not name"."""
    mine = "000.00.03.H33"
    headers = await tenant(client, settings, organisation=mine)
    document = canonical_document("907203", [CO_RECIPIENT], sender=mine, notation="STC",
                                  sender_name="Sở Tài chính", subject="Văn bản")  # fmt: skip
    xml = render_edxml(document).decode()
    document_id = response_for(document)["document_id"]
    blank = xml.replace(f"<edXML:DocumentId>{document_id}</edXML:DocumentId>",
                        "<edXML:DocumentId> </edXML:DocumentId>")  # fmt: skip
    assert blank != xml
    answer = await client.post(
        f"{KG}/qlvb/v1/documents",
        content=blank.encode(),
        headers={**headers, "Content-Type": "application/xml"},
    )
    assert_problem(answer, 422, "INVALID_EDXML")
    assert "bad_document_id" in answer.text


@pytest.mark.parametrize(
    ("content", "media"),
    [(b"{bad", "application/json"), (b"[1, 2]", "application/json"), (b"<bad", "application/xml")],
)
async def test_a_bound_clients_malformed_body_is_refused_as_malformed_not_as_another_agencys(
    client: httpx.AsyncClient, settings: Settings, demo_token: str, content: bytes, media: str
) -> None:
    """A persona review: a vendor's typo got 403 ORGANISATION_MISMATCH ("the body does not
    name" its agency) where an admin got the operation's 422; the reader refuses it for both.
    Under a label no reader takes, a body naming no one is still refused as naming no one."""
    headers = await tenant(client, settings, organisation="000.00.01.H33")
    url = f"{KG}/qlvb/v1/documents"

    bound = await client.post(url, content=content, headers={**headers, "Content-Type": media})
    admin = await client.post(
        url, content=content, headers={**bearer(demo_token), "Content-Type": media}
    )
    unlabelled = await client.post(
        url, content=content, headers={**headers, "Content-Type": "text/plain"}
    )

    assert bound.status_code == admin.status_code == 422, bound.text
    assert bound.json()["code"] == admin.json()["code"] == "INVALID_EDXML"
    assert bound.json()["rule"] == admin.json()["rule"]
    assert (unlabelled.status_code, unlabelled.json()["code"]) == (403, "ORGANISATION_MISMATCH")
