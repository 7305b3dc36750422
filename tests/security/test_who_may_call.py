"""Who may call an operation (issue 15): operations meant for the bus's own systems refuse a
tenant's client, at its own province and at another through `X-LGSP-Target`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from formats.edxml import render_edxml, render_status
from lgsp.admin_tasks import create_client
from lgsp.composition import seeded_dossier_codes
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.bus import KG, bearer, bus_client_token, fetch_token, registered_client
from tests.fixtures.documents import RECIPIENT, cross_province_document, response_for
from tests.fixtures.waiting import until_in_inbox

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"
XML = {"Content-Type": "application/xml"}


async def tenant_token(client: httpx.AsyncClient, bus: BusState, rights: dict[str, str]) -> str:
    created = await registered_client(bus, rights, name="tenant")
    return await fetch_token(client, client_id=created.client_id, secret=created.client_secret)


def forged_status(document: dict[str, Any], code: str) -> bytes:
    """A status "from" the Tiền Giang recipient about a document Kiên Giang sent."""
    return render_status(
        {
            "response_for": response_for(document),
            "from": {"organ_id": RECIPIENT, "organ_name": "Sở Tư pháp tỉnh Tiền Giang"},
            "status_code": code,
            "description": "giả mạo",
            "timestamp": "2025-06-02T10:00:00",
        }
    )


@pytest.mark.parametrize(
    ("path", "target"),
    [
        pytest.param("/inbound/documents", None, id="documents-here"),
        pytest.param("/inbound/documents", "tiengiang", id="documents-there"),
        pytest.param("/inbound/statuses", None, id="statuses-here"),
        pytest.param("/inbound/statuses", "tiengiang", id="statuses-there"),
    ],
)
async def test_a_tenant_cannot_deliver_as_the_national_axis(
    client: httpx.AsyncClient, bus: BusState, demo_token: str, path: str, target: str | None
) -> None:
    """F1: the inbound operations take only what NDXP's axis hands over."""
    token = await tenant_token(client, bus, {"qlvb": "*"})
    document = cross_province_document("906233", notation="FWD", subject="NỘI DUNG GIẢ MẠO")
    if path == "/inbound/documents" and target is None:  # "from Tiền Giang" into Kiên Giang
        document = {**document, "from": document["to"][0], "to": [document["from"]]}
    body = render_edxml(document) if path.endswith("documents") else forged_status(document, "06")
    headers = {**bearer(token), **XML, **({"X-LGSP-Target": target} if target else {})}

    for caller in (headers, {**headers, **bearer(demo_token)}):  # an admin is no system either
        forged = await client.post(f"{KG}/qlvb/v1{path}", content=body, headers=caller)

        assert forged.status_code == 403, forged.text
        assert forged.json()["code"] == "SYSTEM_CALLERS_ONLY"


async def test_a_genuine_document_is_not_pre_empted_by_a_forged_copy(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    """F1: a forgery sent first no longer makes the genuine document a "duplicate"."""
    token = await tenant_token(client, bus, {"qlvb": "*"})
    forged = cross_province_document("906234", notation="FWD", subject="NỘI DUNG GIẢ MẠO")
    await client.post(
        f"{KG}/qlvb/v1/inbound/documents",
        content=render_edxml(forged),
        headers={**bearer(token), **XML, "X-LGSP-Target": "tiengiang"},
    )

    genuine = cross_province_document("906234", notation="FWD", subject="NỘI DUNG THẬT")
    sent = await client.post(f"{KG}/qlvb/v1/documents", json=genuine, headers=bearer(demo_token))

    assert sent.status_code == 202, sent.text
    tg_token = await fetch_token(client, TG)
    inbox = await until_in_inbox(client, TG, sent.json()["id"], bearer(tg_token))
    subjects = [d["subject"] for d in inbox.json()["items"] if d["id"] == sent.json()["id"]]
    assert subjects == ["NỘI DUNG THẬT"]


def national_sync(code: str, province_code: str, status: int = 10) -> dict[str, Any]:
    """The probe's forged sync (SECURITY-PROBE F2): dossier `code` at `status`."""
    agency = code.split("-", 1)[0]
    return {
        "province_code": province_code,
        "step": 9,
        "dossier": {
            "code": code,
            "agency": {"id": agency, "name": "x"},
            "applicant": {
                "full_name": "Giả",
                "identification": {"number": "082153253002", "type": "cccd"},
                "kind": "citizen",
            },
            "channel": "online",
            "field": {"code": "Z00", "name": "x"},
            "procedure": {"code": "1.004222.000.00.00.H58", "name": "x"},
            "status": status,
            "submitted_at": "2025-06-03T08:43:00+07:00",
            "summary": "x",
            "received_at": "2025-06-03T09:43:00+07:00",
            "due_at": "2025-06-10T17:00:00+07:00",
            "returned_at": "2025-06-05T09:00:00+07:00",
        },
        "progress": {
            "action": "return_result",
            "actor": "Kẻ Giả Mạo",
            "at": "2025-06-05T09:00:00+07:00",
            "position": "x",
            "status": status,
        },
    }


async def test_a_tenant_cannot_rewrite_the_national_dossier_view(
    client: httpx.AsyncClient, bus: BusState, settings: Settings, demo_token: str
) -> None:
    """F2: DVCQG's sync is the provincial portals' and, for the dossiers of its organisation,
    a client bound to one (services/dvcqg.toml): a tenant bound to none syncs nothing."""
    token = await tenant_token(client, bus, {"dvcqg": "*"})
    code = seeded_dossier_codes(
        province_code="82", seed=settings.seed, population=settings.population
    )[0]

    forged = await client.post(
        f"{KG}/dvcqg/v1/dossiers/sync", json=national_sync(code, "82"), headers=bearer(token)
    )

    assert forged.status_code == 403, forged.text
    assert forged.json()["code"] == "ORGANISATION_REQUIRED"
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert national.json()["status"]["code"] != 10


@pytest.mark.parametrize(
    ("province", "claimed"),
    [
        pytest.param("82", "82", id="another-provinces-dossier"),
        pytest.param("82", "91", id="claimed-as-ours"),
        pytest.param("91", "82", id="ours-claimed-as-theirs"),
    ],
)
async def test_the_national_portal_takes_a_dossier_only_from_its_own_province(
    client: httpx.AsyncClient, settings: Settings, demo_token: str, province: str, claimed: str
) -> None:
    """F2, origin across hops: NDXP learns the province from the forwarding LGSP's credentials
    and DVCQG checks the dossier against it, whatever the body says."""
    portal = await bus_client_token(client, settings, "system-dvc")  # Kiên Giang's portal
    code = seeded_dossier_codes(
        province_code=province, seed=settings.seed, population=settings.population
    )[0]
    before = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))

    forged = await client.post(
        f"{KG}/dvcqg/v1/dossiers/sync", json=national_sync(code, claimed), headers=bearer(portal)
    )

    assert forged.status_code == 403, forged.text
    assert forged.json()["code"] == "NOT_THE_CALLERS_PROVINCE"
    after = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert after.json() == before.json()


async def test_a_tenant_cannot_submit_to_the_national_axis(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    """F5: the axis takes submissions of the provinces' document systems only."""
    token = await tenant_token(client, bus, {"vdxp": "*"})

    submitted = await client.post(
        f"{KG}/vdxp/v1/documents",
        content=render_edxml(cross_province_document("906235")),
        headers={**bearer(token), **XML},
    )

    assert submitted.status_code == 403, submitted.text
    assert submitted.json()["code"] == "SYSTEM_CALLERS_ONLY"


@pytest.mark.parametrize("path", ["/documents", "/statuses"])
async def test_the_axis_takes_a_message_only_from_its_senders_province(
    client: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    """F5, origin across hops: Kiên Giang's document system submits, as a Tiền Giang agency,
    a document to Kiên Giang or a status about one; NDXP knows the call came from Kiên Giang."""
    portal = await bus_client_token(client, settings, "system-qlvb")
    document = cross_province_document("906236", subject="giả danh Tiền Giang")
    spoofed = {**document, "from": document["to"][0], "to": [document["from"]]}
    body = render_edxml(spoofed) if path == "/documents" else forged_status(document, "01")

    submitted = await client.post(
        f"{KG}/vdxp/v1{path}", content=body, headers={**bearer(portal), **XML}
    )

    assert submitted.status_code == 403, submitted.text
    assert submitted.json()["code"] == "NOT_OF_CALLING_PROVINCE"


async def test_a_national_tenant_cannot_deliver_as_the_axis_either(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """NDXP checks its own callers as a province does: only its axis (system-vdxp) delivers."""
    created = await create_client(
        settings, instance="ndxp", name="national vendor", services=["qlvb"], is_admin=False
    )
    token = await fetch_token(
        client, "/ndxp", client_id=created.client_id, secret=created.client_secret
    )

    forged = await client.post(
        "/ndxp/qlvb/v1/inbound/documents",
        content=render_edxml(cross_province_document("906237")),
        headers={**bearer(token), **XML, "X-LGSP-Target": "tiengiang"},
    )

    assert forged.status_code == 403, forged.text
    assert forged.json()["code"] == "SYSTEM_CALLERS_ONLY"
