"""The dvc service through the whole gateway: filing, the citizen check through the bus, the
lifecycle, listings and the procedure catalogue, on SQLite and (when set up) PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from adapters.dvc import CONTRACTS
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.directory.agencies import find_agency
from mocks.dvc.deadlines import due_date, resume_due_date
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer
from tests.fixtures.dossiers import applicant_of, first_adult
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

DVC = f"{KG}/dvc/v1"
RESIDENCE = "1.004222.000.00.00.H33"  # Đăng ký thường trú: 7 working days, Công an phường
RESIDENCE_DAYS = 7
CODE = re.compile(r"000\.00\.[0-9]{2}\.H33-[0-9]{6}-[0-9]{4}")


@pytest.fixture(name="citizens")
def fx_citizens(settings: Settings) -> list[CitizenRecord]:
    return generate_citizens(province_code="91", seed=settings.seed, count=settings.population)


@pytest.fixture(name="applicant")
def fx_applicant(citizens: list[CitizenRecord]) -> CitizenRecord:
    return first_adult(citizens)


def new_dossier(citizen: CitizenRecord, **applicant: str) -> dict[str, Any]:
    return {
        "procedure_code": RESIDENCE,
        "applicant": applicant_of(citizen, **applicant),
        "summary": "Đăng ký thường trú tại phường Vĩnh Thanh",
        "contact": {"email": "congdan@example.vn", "phone": "0912345678"},
        "form_data": {"NoiThuongTruMoi": {"SoNha": "12", "Duong": "Trần Phú"}},
    }


async def file(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{DVC}/dossiers", json=body, headers=bearer(token))


async def act(
    client: httpx.AsyncClient, token: str, code: str, action: str, **changes: str
) -> httpx.Response:
    body = {"action": action, "actor": "Nguyễn Thị Lan", "position": "Cán bộ", **changes}
    return await client.post(f"{DVC}/dossiers/{code}/transitions", json=body, headers=bearer(token))


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def test_verified_applicant_files_a_new_dossier(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    dossier = ok(await file(client, demo_token, new_dossier(applicant)), 201)

    assert CODE.fullmatch(dossier["code"])
    assert dossier["code"].startswith(f"{dossier['agency']['id']}-")
    assert dossier["procedure_code"] == RESIDENCE
    assert dossier["status"] == {"code": 1, "name": "new"}
    assert dossier["allowed_actions"] == ["receive", "refuse", "withdraw"]
    assert dossier["applicant"] == {
        "cccd": applicant.so_dinh_danh,
        "full_name": applicant.ho_va_ten,
    }
    police = find_agency(dossier["agency"]["id"])  # of the commune the applicant lives in
    assert police is not None
    assert police.name.startswith("Công an ")
    assert police.ward_code == applicant.thuong_tru.ma_phuong_xa
    assert datetime.fromisoformat(dossier["submitted_at"]).utcoffset() is not None
    assert (dossier["received_at"], dossier["due_at"]) == (None, None)
    assert [entry["action"] for entry in dossier["history"]] == ["submit"]
    fetched = ok(await client.get(f"{DVC}/dossiers/{dossier['code']}", headers=bearer(demo_token)))
    assert fetched == dossier


async def test_the_citizen_check_is_a_call_of_the_portals_own_client_through_the_bus(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord, bus: BusState
) -> None:
    async with bus.engine.connect() as conn:  # the audit log outlives resets: read only ours
        before = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_records"))).one()[
            0
        ]
    response = await client.post(
        f"{DVC}/dossiers",
        json=new_dossier(applicant),
        headers={**bearer(demo_token), "X-Request-ID": "file-and-check-1"},
    )
    ok(response, 201)
    # The filing also handed the dossier's sync to DVCQG over to the outbox, under the same
    # request id: its delivery joins the trail whenever the worker gets to it. Wait for it, so
    # that the trail read below is the whole of it, not whatever part the worker has reached.
    await eventually(
        lambda: client.get(f"{KG}/admin/outbox", headers=bearer(demo_token)),
        lambda page: (
            [(m["request_id"], m["state"]) for m in page.json()["messages"]]
            == [("file-and-check-1", "delivered")]
        ),
    )

    async with bus.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT caller, service, status, request_id FROM audit_records "
                    "WHERE instance = 'kiengiang' AND hop = 'inbound' AND service = 'dancu' "
                    "AND id > :before"
                ),
                {"before": before},
            )
        ).all()
        trail = (
            await conn.execute(
                text(
                    "SELECT hop, caller, target FROM audit_records "
                    "WHERE request_id = 'file-and-check-1' ORDER BY seq"
                )
            )
        ).all()
    # The check is the portal's own call, and it joins the trail of the filing that caused it;
    # so does its lookup of the applicant's commune, whose police receive the dossier.
    assert [tuple(row) for row in rows] == [("system-dvc", "dancu", 200, "file-and-check-1")] * 2
    assert {tuple(row) for row in trail} == {
        ("pending", "demo", "kiengiang"),  # both calls may change state: their callers first
        ("pending", "system-dvc", "kiengiang"),
        ("inbound", "demo", "kiengiang"),
        ("upstream", "kiengiang", "dvc"),
        ("inbound", "system-dvc", "kiengiang"),
        ("upstream", "kiengiang", "dancu"),
        # the sync, delivered by Kiên Giang's outbox through NDXP to DVCQG
        ("forward", "kiengiang", "ndxp"),
        ("pending", "lgsp-kiengiang", "ndxp"),
        ("inbound", "lgsp-kiengiang", "ndxp"),
        ("upstream", "ndxp", "dvcqg"),
    }


@pytest.mark.parametrize(
    "changes", [{"full_name": "Trần Thị Bích"}, {"date_of_birth": "1900-01-01"}]
)
async def test_applicant_who_does_not_match_is_refused_and_nothing_is_filed(
    client: httpx.AsyncClient,
    demo_token: str,
    applicant: CitizenRecord,
    changes: dict[str, str],
) -> None:
    before = await applicant_dossiers(client, demo_token, applicant)

    response = await file(client, demo_token, new_dossier(applicant, **changes))

    body = assert_problem(response, 422, "APPLICANT_NOT_VERIFIED")
    assert body["mismatched_fields"] == ["full_name", "date_of_birth"]  # not which one (F15)
    assert applicant.ho_va_ten not in response.text
    assert applicant.so_dinh_danh not in response.text
    assert await applicant_dossiers(client, demo_token, applicant) == before


async def applicant_dossiers(
    client: httpx.AsyncClient, token: str, citizen: CitizenRecord
) -> list[str]:
    listing = ok(
        await client.get(
            f"{DVC}/dossiers",
            params={"applicant": citizen.so_dinh_danh, "size": 100},
            headers=bearer(token),
        )
    )
    return [item["code"] for item in listing["items"]]


async def test_dossier_walks_its_lifecycle_to_the_returned_result(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    code = ok(await file(client, demo_token, new_dossier(applicant)), 201)["code"]

    received = ok(await act(client, demo_token, code, "receive"))
    ok(await act(client, demo_token, code, "start_processing"))
    paused = ok(await act(client, demo_token, code, "request_supplement", note="Thiếu CT01"))
    resumed = ok(await act(client, demo_token, code, "supplement_received"))
    ok(await act(client, demo_token, code, "complete", actor="Lê Văn Hùng"))
    returned = ok(await act(client, demo_token, code, "return_result"))

    received_at = datetime.fromisoformat(received["received_at"])
    assert datetime.fromisoformat(received["due_at"]) == due_date(received_at, RESIDENCE_DAYS)
    assert datetime.fromisoformat(resumed["due_at"]) == resume_due_date(
        datetime.fromisoformat(received["due_at"]),
        paused_at=datetime.fromisoformat(paused["supplement_requested_at"]),
        resumed_at=datetime.fromisoformat(resumed["history"][-1]["at"]),
    )
    assert returned["status"] == {"code": 10, "name": "result_returned"}
    assert returned["allowed_actions"] == []
    assert returned["completed_at"] is not None
    assert returned["returned_at"] is not None
    assert [(e["action"], e["status"]["code"]) for e in returned["history"]] == [
        ("submit", 1),
        ("receive", 2),
        ("start_processing", 4),
        ("request_supplement", 5),
        ("supplement_received", 4),
        ("complete", 9),
        ("return_result", 10),
    ]
    assert returned["history"][3]["note"] == "Thiếu CT01"
    assert returned["history"][5]["actor"] == "Lê Văn Hùng"


async def test_illegal_transition_is_a_conflict_naming_the_allowed_actions(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    code = ok(await file(client, demo_token, new_dossier(applicant)), 201)["code"]

    body = assert_problem(
        await act(client, demo_token, code, "complete"), 409, "ILLEGAL_TRANSITION"
    )

    assert body["status"] == 409
    assert body["allowed_actions"] == ["receive", "refuse", "withdraw"]
    after = ok(await client.get(f"{DVC}/dossiers/{code}", headers=bearer(demo_token)))
    assert after["status"]["code"] == 1


async def test_unknown_action_is_refused_listing_the_actions(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    code = ok(await file(client, demo_token, new_dossier(applicant)), 201)["code"]

    body = assert_problem(await act(client, demo_token, code, "approve"), 422, "UNKNOWN_ACTION")

    assert "return_result" in body["known_actions"]


async def test_dossiers_are_listed_by_applicant_and_status(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    code = ok(await file(client, demo_token, new_dossier(applicant)), 201)["code"]
    ok(await act(client, demo_token, code, "receive"))

    mine = await applicant_dossiers(client, demo_token, applicant)
    received = ok(
        await client.get(
            f"{DVC}/dossiers",
            params={"status": "received", "size": 100},
            headers=bearer(demo_token),
        )
    )

    assert mine[0] == code
    assert code in [item["code"] for item in received["items"]]
    assert {item["status"]["name"] for item in received["items"]} == {"received"}
    assert "history" not in received["items"][0]


async def test_seeded_dossiers_cover_every_status(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord]
) -> None:
    listing = ok(
        await client.get(f"{DVC}/dossiers", params={"size": 100}, headers=bearer(demo_token))
    )

    assert {item["status"]["code"] for item in listing["items"]} == set(range(1, 11))
    known = {c.so_dinh_danh for c in citizens}
    assert all(item["applicant"]["cccd"] in known for item in listing["items"])


async def test_procedures_are_searched_in_the_provincial_catalogue(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    found = ok(
        await client.get(
            f"{DVC}/procedures", params={"q": "dang ky khai sinh"}, headers=bearer(demo_token)
        )
    )

    assert found["total"] == 1
    [procedure] = found["items"]
    assert (procedure["code"], procedure["name"]) == ("1.001193.000.00.00.H33", "Đăng ký khai sinh")
    assert (procedure["level"], procedure["agency"]["id"]) == ("commune", "000.00.06.H33")


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/dossiers/000.00.07.H33-250101-0999", {}, 404, "DOSSIER_NOT_FOUND"),
        ("/dossiers/not-a-code", {}, 422, "INVALID_DOSSIER_REQUEST"),
        ("/dossiers", {"size": "101"}, 422, "INVALID_DOSSIER_REQUEST"),
        ("/dossiers", {"applicant": "12345"}, 422, "INVALID_CCCD"),
        ("/procedures", {"level": "national"}, 422, "INVALID_DOSSIER_REQUEST"),
    ],
)
async def test_bad_lookups_are_stable_problems(
    client: httpx.AsyncClient,
    demo_token: str,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.get(f"{DVC}{path}", params=params, headers=bearer(demo_token))

    assert_problem(response, status, code)


async def test_filing_for_a_procedure_the_province_does_not_offer_is_refused(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    body = {**new_dossier(applicant), "procedure_code": "1.004222.000.00.00.H58"}

    assert_problem(await file(client, demo_token, body), 422, "PROCEDURE_NOT_FOUND")


async def test_answers_conform_to_the_published_contract(
    client: httpx.AsyncClient, demo_token: str, applicant: CitizenRecord
) -> None:
    created = await file(client, demo_token, new_dossier(applicant))
    code = created.json()["code"]
    answers = {
        "create_dossier": created,
        "transition_dossier": await act(client, demo_token, code, "receive"),
        "get_dossier": await client.get(f"{DVC}/dossiers/{code}", headers=bearer(demo_token)),
        "list_dossiers": await client.get(f"{DVC}/dossiers", headers=bearer(demo_token)),
        "list_procedures": await client.get(f"{DVC}/procedures", headers=bearer(demo_token)),
    }

    assert set(answers) == set(CONTRACTS)
    for operation, response in answers.items():
        contract = CONTRACTS[operation]
        assert response.status_code == contract.status, operation
        contract.response.model_validate(response.json())
