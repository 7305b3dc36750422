"""The dancu service through the whole gateway: verifying a claim and looking up a household."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from typing import Any

import httpx
import pytest

from formats.cccd import make_cccd
from formats.dates import parse_ddmmyyyy
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import CitizenRecord, generate_citizens
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, bearer_json, fetch_token

pytestmark = pytest.mark.anyio

VERIFY = f"{KG}/dancu/v1/citizens/verify"


@pytest.fixture(name="citizens")
def fx_citizens(settings: Settings) -> list[CitizenRecord]:
    return generate_citizens(province_code="91", seed=settings.seed, count=settings.population)


def born(citizen: CitizenRecord) -> date:
    return parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)


def claim_of(citizen: CitizenRecord, **changes: Any) -> dict[str, Any]:
    return {
        "cccd": citizen.so_dinh_danh,
        "full_name": citizen.ho_va_ten,
        "date_of_birth": born(citizen).isoformat(),
        **changes,
    }


def wrong_day(citizen: CitizenRecord) -> str:
    """Another day of the same month: false, yet in the birth year the number encodes."""
    day = born(citizen)
    return day.replace(day=28 if day.day != 28 else 27).isoformat()


def absent_number(citizens: list[CitizenRecord]) -> str:
    known = {c.so_dinh_danh for c in citizens}
    return next(f"0910870{n:05d}" for n in range(100_000) if f"0910870{n:05d}" not in known)


async def post_claim(client: httpx.AsyncClient, token: str, claim: Any) -> httpx.Response:
    return await client.post(VERIFY, json=claim, headers=bearer(token))


# --- verify_citizen -------------------------------------------------------------------------


async def test_true_claim_matches(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord]
) -> None:
    response = await post_claim(client, demo_token, claim_of(citizens[3]))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"match": True}


@pytest.mark.parametrize("change", ["name", "date", "year", "both"])
async def test_false_claim_names_every_field_not_the_one_that_differs_nor_recorded_values(
    client: httpx.AsyncClient,
    demo_token: str,
    citizens: list[CitizenRecord],
    change: str,
) -> None:
    """Naming the field that differs let a date of birth fall out in at most 366 calls (F15)."""
    citizen = citizens[3]
    other_year = born(citizen).replace(day=1, year=born(citizen).year + 1).isoformat()
    changes = {
        "name": {"full_name": "Trần Thị Bích"},
        "date": {"date_of_birth": wrong_day(citizen)},
        # A year the number's digits 4-6 do not encode: false whatever the record says.
        "year": {"date_of_birth": other_year},
        "both": {"full_name": "Trần Thị Bích", "date_of_birth": wrong_day(citizen)},
    }[change]

    response = await post_claim(client, demo_token, claim_of(citizen, **changes))

    assert response.status_code == 200
    assert response.json() == {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]}
    if "full_name" in changes:
        assert citizen.ho_va_ten not in response.text
        assert citizen.ten not in response.text
    if "date_of_birth" in changes:
        assert born(citizen).isoformat() not in response.text
        assert citizen.ngay_thang_nam_sinh not in response.text


async def test_unknown_number_is_indistinguishable_from_a_wrong_claim(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord]
) -> None:
    """No enumeration: whether a number is recorded does not show in the answer."""
    wrong = {"full_name": "Trần Thị Bích", "date_of_birth": wrong_day(citizens[3])}

    known = await post_claim(client, demo_token, claim_of(citizens[3], **wrong))
    unknown = await post_claim(
        client, demo_token, claim_of(citizens[3], cccd=absent_number(citizens), **wrong)
    )

    assert unknown.status_code == known.status_code == 200
    assert unknown.content == known.content
    assert unknown.headers["content-type"] == known.headers["content-type"]
    assert unknown.json() == {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]}


async def test_citizen_of_another_province_is_unknown_here_without_saying_so(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    tien_giang = generate_citizens(province_code="82", seed=settings.seed, count=1)[0]

    response = await post_claim(client, demo_token, claim_of(tien_giang))

    assert response.json() == {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]}


@pytest.mark.parametrize(
    ("spelling", "match"),
    [
        (str.upper, True),
        (str.lower, True),
        (lambda name: f"  {name.replace(' ', '   ')}\t", True),
        (lambda name: unicodedata.normalize("NFD", name), True),
        (lambda name: unicodedata.normalize("NFD", name.upper()).replace(" ", "\u00a0"), True),
        # Diacritics tell Vietnamese names apart: an ASCII-folded name is a different name.
        (
            lambda name: "".join(
                c
                for c in unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
                if not unicodedata.combining(c)
            ),
            False,
        ),
    ],
    ids=["upper", "lower", "spaces", "nfd", "nfd-upper-nbsp", "no-diacritics"],
)
async def test_names_match_after_nfc_case_folding_and_collapsed_spaces(
    client: httpx.AsyncClient,
    demo_token: str,
    citizens: list[CitizenRecord],
    spelling: Any,
    match: bool,
) -> None:
    citizen = citizens[3]

    response = await post_claim(
        client, demo_token, claim_of(citizen, full_name=spelling(citizen.ho_va_ten))
    )

    assert response.status_code == 200
    assert response.json()["match"] is match


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"cccd": "091087000123",', b"[]", b'"claim"']
)
async def test_body_that_is_not_a_json_object_is_an_invalid_verification_request(
    client: httpx.AsyncClient, demo_token: str, body: bytes
) -> None:
    response = await client.post(VERIFY, content=body, headers=bearer_json(demo_token))

    problem = assert_problem(response, 422, "INVALID_VERIFICATION_REQUEST")
    assert [error["loc"] for error in problem["errors"]] == [["body"]]
    assert "091087000123" not in response.text


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"Content-Type": "text/plain"}, None),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "cccd=091087000123"),
        ({}, None),
    ],
)
async def test_claim_not_sent_as_json_is_unsupported_media_type(
    client: httpx.AsyncClient,
    demo_token: str,
    citizens: list[CitizenRecord],
    headers: dict[str, str],
    content: str | None,
) -> None:
    body = content if content is not None else json.dumps(claim_of(citizens[3]))

    response = await client.post(
        VERIFY, content=body.encode(), headers={**bearer(demo_token), **headers}
    )

    problem = assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert problem["supported"] == ["application/json"]


@pytest.mark.parametrize(
    ("claim", "problems"),
    [
        ({}, [("cccd", "missing"), ("full_name", "missing"), ("date_of_birth", "missing")]),
        ({"cccd": "091087000123", "full_name": "Nguyễn Văn An"}, [("date_of_birth", "missing")]),
        (
            {"cccd": 91087000123, "full_name": "Nguyễn Văn An", "date_of_birth": "1987-03-05"},
            [("cccd", "string_type")],
        ),
        (
            {"cccd": "091087000123", "full_name": "Nguyễn Văn An", "date_of_birth": "05/03/1987"},
            [("date_of_birth", "date_parsing")],
        ),
        (
            {
                "cccd": "091087000123",
                "full_name": "Nguyễn Văn An",
                "date_of_birth": "1987-03-05",
                "gender": "male",
            },
            [("gender", "extra_forbidden")],
        ),
    ],
)
async def test_claim_with_missing_or_wrong_fields_names_them(
    client: httpx.AsyncClient,
    demo_token: str,
    claim: dict[str, Any],
    problems: list[tuple[str, str]],
) -> None:
    response = await post_claim(client, demo_token, claim)

    problem = assert_problem(response, 422, "INVALID_VERIFICATION_REQUEST")
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [
        (["body", field], kind) for field, kind in problems
    ]
    assert "Nguyễn Văn An" not in response.text


@pytest.mark.parametrize(
    ("cccd", "rule"),
    [("09108700012", "format"), ("999087000123", "province_code"), ("091999000123", "birth_year")],
)
async def test_claim_with_a_malformed_number_is_invalid_cccd(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord], cccd: str, rule: str
) -> None:
    response = await post_claim(client, demo_token, claim_of(citizens[3], cccd=cccd))

    problem = assert_problem(response, 422, "INVALID_CCCD")
    assert problem["rule"] == rule
    assert cccd not in problem["detail"]


async def test_verifying_needs_the_right_to_post(
    client: httpx.AsyncClient, settings: Settings, citizens: list[CitizenRecord]
) -> None:
    from lgsp.admin_tasks import create_client

    reader = await create_client(
        settings, instance="kiengiang", name="reader", services=["dancu:GET"], is_admin=False
    )
    token = await fetch_token(client, client_id=reader.client_id, secret=reader.client_secret)

    response = await post_claim(client, token, claim_of(citizens[3]))

    assert_problem(response, 403, "ACCESS_DENIED")


# --- get_household --------------------------------------------------------------------------

RELATIONSHIPS = {"Chủ hộ": "head", "Vợ": "spouse", "Chồng": "spouse", "Con": "child"}
RELATIONSHIPS |= {"Cha": "parent", "Mẹ": "parent"}


@pytest.mark.parametrize("index", [0, 1, 5])
async def test_household_lists_the_seeded_members_head_first(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord], index: int
) -> None:
    citizen = citizens[index]
    expected = [c for c in citizens if c.ma_ho == citizen.ma_ho]

    response = await client.get(
        f"{KG}/dancu/v1/citizens/{citizen.so_dinh_danh}/household", headers=bearer(demo_token)
    )

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "household_id": citizen.ma_ho,
        "head_cccd": expected[0].so_dinh_danh,
        "members": [
            {
                "cccd": member.so_dinh_danh,
                "full_name": member.ho_va_ten,
                "relationship": RELATIONSHIPS[member.quan_he_voi_chu_ho],
                "date_of_birth": born(member).isoformat(),
                "gender": "male" if member.gioi_tinh == "1" else "female",
            }
            for member in expected
        ],
    }
    assert body["members"][0]["relationship"] == "head"


async def test_household_of_an_unknown_citizen_is_404(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord]
) -> None:
    absent = absent_number(citizens)

    response = await client.get(
        f"{KG}/dancu/v1/citizens/{absent}/household", headers=bearer(demo_token)
    )

    problem = assert_problem(response, 404, "CITIZEN_NOT_FOUND")
    assert absent not in problem["detail"]


async def test_household_of_a_malformed_number_is_invalid_cccd(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    response = await client.get(
        f"{KG}/dancu/v1/citizens/09108700012a/household", headers=bearer(demo_token)
    )

    assert assert_problem(response, 422, "INVALID_CCCD")["rule"] == "format"


async def test_catalog_lists_the_three_operations(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    listing = (await client.get(f"{KG}/services", headers=bearer(demo_token))).json()

    dancu = next(service for service in listing["services"] if service["id"] == "dancu")
    assert [(o["id"], o["method"], o["path"]) for o in dancu["operations"]] == [
        ("get_citizen", "GET", "/citizens/{cccd}"),
        ("verify_citizen", "POST", "/citizens/verify"),
        ("get_household", "GET", "/citizens/{cccd}/household"),
    ]
    assert all(operation["summary"] for operation in dancu["operations"])


async def test_a_citizen_of_another_province_is_404_with_where_to_ask(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    tiengiang = generate_citizens(province_code="82", seed=settings.seed, count=1)[0].so_dinh_danh

    response = await client.get(f"{KG}/dancu/v1/citizens/{tiengiang}", headers=bearer(demo_token))

    problem = assert_problem(response, 404, "CITIZEN_NOT_FOUND")
    assert problem["registered_in"] == "82"
    assert problem["target_instance"] == "tiengiang"
    assert "X-LGSP-Target: tiengiang" in problem["hint"]
    assert "csdlqgdc" in problem["hint"]
    assert tiengiang not in problem["hint"]
    asked_there = await client.get(
        f"{KG}/dancu/v1/citizens/{tiengiang}",
        headers={**bearer(demo_token), "X-LGSP-Target": problem["target_instance"]},
    )
    assert asked_there.status_code == 200, asked_there.text


async def test_a_citizen_of_a_province_the_bus_lacks_is_pointed_to_the_national_database(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    hanoi = make_cccd(province_code="001", gender="female", birth_year=1990, serial=123456)

    response = await client.get(f"{KG}/dancu/v1/citizens/{hanoi}", headers=bearer(demo_token))

    problem = assert_problem(response, 404, "CITIZEN_NOT_FOUND")
    assert "target_instance" not in problem
    assert "no instance of this bus serves that province" in problem["hint"]
    assert "csdlqgdc" in problem["hint"]


async def test_an_unknown_citizen_of_the_province_itself_gets_no_hint(
    client: httpx.AsyncClient, demo_token: str, citizens: list[CitizenRecord]
) -> None:
    absent = absent_number(citizens)

    response = await client.get(f"{KG}/dancu/v1/citizens/{absent}", headers=bearer(demo_token))

    problem = assert_problem(response, 404, "CITIZEN_NOT_FOUND")
    assert absent.startswith("091")
    assert "hint" not in problem


async def test_the_in_process_lookup_is_answered_without_the_mocks_asgi_app(
    client: httpx.AsyncClient,
    demo_token: str,
    bus: BusState,
    citizens: list[CitizenRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bus calls the mock's plain lookup function (issue 21); the mock's app, which would
    answer the same, is not entered. Every other call of the system still is."""
    transport = bus.instances["kiengiang"].systems["dancu"]
    entered: list[str] = []
    app = transport._app  # type: ignore[attr-defined]

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await app(scope, receive, send)

    monkeypatch.setattr(transport, "_app", watched)
    citizen = citizens[0]

    found = await client.get(
        f"{KG}/dancu/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(demo_token)
    )
    household = await client.get(
        f"{KG}/dancu/v1/citizens/{citizen.so_dinh_danh}/household", headers=bearer(demo_token)
    )

    assert found.status_code == 200
    assert found.json()["full_name"] == citizen.ho_va_ten
    assert household.status_code == 200
    assert entered == [f"/api/congdan/{citizen.so_dinh_danh}/ho"]
