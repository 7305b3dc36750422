"""Who may sync a dossier at DVCQG (`sync_dossier`, `record_progress`): an outside one-stop
system bound to an organisation, for the dossiers that organisation handles, as the bus's own
DVC does for all of its province (DESIGN.md §3: a real DVC replaces the mock one; DOMAIN.md
§2.3: TraCuuHoSo → DongBoHoSoMC → CapNhatTienDoHoSoMC). Unbound and other organisations'
clients are refused, at the OpenCPS door in the protocol's form, at the REST door with the
stable code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.dialects import opencps as dvc
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_dialect_opencps import a_procedure, call, login, opencps_dossier
from tests.fixtures.bus import KG, DialectSettings, bearer, fetch_token, registered_client
from tests.fixtures.dossiers import opencps_entry

pytestmark = pytest.mark.anyio

RIGHTS = {"dvcqg": "GET,POST", "dvc": "GET"}
OTHER_AGENCY = "000.00.00.H58"


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "opencps")})


async def vendor(bus: BusState, organisation: str | None, name: str) -> tuple[str, str]:
    new = await registered_client(bus, RIGHTS, name=name, organisation=organisation)
    return new.client_id, new.client_secret


async def test_a_vendor_bound_to_the_handling_agency_syncs_and_updates_its_dossier(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    procedure = await a_procedure(client, demo_token)
    account = await vendor(bus, procedure["agency"]["id"], "vendor-own")
    session = await login(client, account)
    dossier = opencps_dossier(procedure, status="4")
    code, own = dossier["MaHoSo"], {"madonvi": procedure["agency"]["id"]}

    looked = await call(client, session, "TraCuuHoSo", MaHoSo=code, **own)
    synced = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier], **own)
    progressed = await call(
        client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(code)], **own
    )

    assert looked == {"error_code": "0", "message": "Không tìm thấy hồ sơ", "result": []}
    assert synced["error_code"] == "0", synced
    assert progressed["error_code"] == "0", progressed
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert [e["step"] for e in national.json()["history"]] == [1, 2]


async def test_the_demo_client_an_admin_bound_to_none_syncs_for_its_province(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    session = await login(client, ("demo", "lgsp-demo-secret"))
    dossier = opencps_dossier(await a_procedure(client, demo_token))

    synced = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier])

    assert synced["error_code"] == "0", synced


@pytest.mark.parametrize(
    ("organisation", "words"),
    [
        (OTHER_AGENCY, f"ORGANISATION_MISMATCH: Client {{}} acts for {OTHER_AGENCY}"),
        (None, "ORGANISATION_REQUIRED: sync_dossier acts for an organisation: client {} is"),
    ],
    ids=["other-organisation", "unbound"],
)
async def test_a_vendor_not_acting_for_the_agency_is_refused_in_the_protocols_form(
    client: httpx.AsyncClient,
    bus: BusState,
    demo_token: str,
    organisation: str | None,
    words: str,
) -> None:
    procedure = await a_procedure(client, demo_token)
    account = await vendor(bus, organisation, f"vendor-{organisation}")
    session = await login(client, account)
    dossier = opencps_dossier(procedure)
    own = {"madonvi": organisation or "000.00.00.H33"}  # its own: the dossier is not

    synced = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier], **own)
    progress = await call(
        client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(dossier["MaHoSo"])], **own
    )

    assert synced["error_code"] == dvc.REFUSED, synced
    assert synced["message"].startswith(words.format(account[0])), synced
    assert "own systems" not in synced["message"]
    # never synced, so the lookup before the entry finds nothing; nothing was written
    assert progress["error_code"] == dvc.NOT_FOUND, progress
    national = await client.get(
        f"{KG}/dvcqg/v1/dossiers/{dossier['MaHoSo']}", headers=bearer(demo_token)
    )
    assert national.status_code == 404


def sync_body(code: str, agency: str) -> dict[str, Any]:
    at = datetime(2026, 12, 6, 9, tzinfo=UTC).isoformat()
    return {
        "province_code": "91",
        "step": 1,
        "dossier": {
            "code": code,
            "procedure": {"code": "1.001193", "name": "Đăng ký thường trú"},
            "agency": {"id": agency, "name": "Sở Tư pháp"},
            "applicant": {"kind": "citizen", "full_name": "Nguyễn Văn An"},
            "summary": "Đăng ký thường trú",
            "status": 2,
            "submitted_at": at,
        },
        "progress": {"status": 2, "at": at, "actor": "Sở Tư pháp"},
    }


async def test_at_the_rest_door_a_body_naming_another_agency_is_refused(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    procedure = await a_procedure(client, demo_token)
    own = procedure["agency"]["id"]
    account = await vendor(bus, own, "vendor-rest")
    token = await fetch_token(client, client_id=account[0], secret=account[1])
    url = f"{KG}/dvcqg/v1/dossiers/sync"

    other = await client.post(
        url, json=sync_body(f"{OTHER_AGENCY}-261206-0001", OTHER_AGENCY), headers=bearer(token)
    )
    # the agency is the caller's, but the dossier code is another agency's of its province
    unit = "000.00.04" if not own.startswith("000.00.04.") else "000.00.03"
    neighbour = f"{unit}.{own.rpartition('.')[2]}"
    smuggled = await client.post(
        url, json=sync_body(f"{neighbour}-261206-0002", own), headers=bearer(token)
    )
    progress = await client.post(
        f"{KG}/dvcqg/v1/dossiers/{OTHER_AGENCY}-261206-0001/progress",
        json={"step": 2, "progress": sync_body(OTHER_AGENCY + "-261206-0001", own)["progress"]},
        headers=bearer(token),
    )

    assert (other.status_code, other.json()["code"]) == (403, "ORGANISATION_MISMATCH")
    assert (smuggled.status_code, smuggled.json()["code"]) == (422, "INVALID_DOSSIER_REQUEST")
    assert "code must begin with agency.id" in smuggled.text
    assert (progress.status_code, progress.json()["code"]) == (403, "ORGANISATION_MISMATCH")
