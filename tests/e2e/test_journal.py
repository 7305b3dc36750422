"""`{base}/admin/journal…`: what the bus received and answered, listed, bounded, masked and
verified the way an integrator's test does after making its calls."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lgsp.journal import store
from lgsp.journal.capture import mask_document
from lgsp.journal.models import JournalRecord
from lgsp.journal.schemas import JournalFilter
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, bearer_json, fetch_token, registered_client

pytestmark = pytest.mark.anyio

JOURNAL = f"{KG}/admin/journal"
VERIFY = f"{JOURNAL}/verify"
CITIZENS = f"{KG}/dancu/v1/citizens"


@pytest.fixture
def journal_settings() -> dict[str, Any]:
    """Overridden by tests that need other journal settings."""
    return {}


@pytest.fixture
def settings(settings: Settings, journal_settings: dict[str, Any]) -> Settings:
    return settings.model_copy(update=journal_settings)


@pytest.fixture
def citizen() -> Any:
    return generate_citizens(province_code="91", seed=7, count=1)[0]


async def journal(
    client: httpx.AsyncClient, token: str, base: str = KG, **params: Any
) -> dict[str, Any]:
    answer = await client.get(f"{base}/admin/journal", params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def verify_claim(client: httpx.AsyncClient, token: str, citizen: Any) -> httpx.Response:
    claim = {
        "cccd": citizen.so_dinh_danh,
        "full_name": citizen.ho_va_ten,
        "date_of_birth": "1900-01-01",
    }
    return await client.post(f"{CITIZENS}/verify", json=claim, headers=bearer(token))


async def test_a_call_is_journaled_with_its_bodies_masked(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    call = await verify_claim(client, demo_token, citizen)
    assert call.status_code == 200, call.text

    page = await journal(client, demo_token, request_id=call.headers["X-Request-ID"])

    assert page["masked"] is True
    (entry,) = page["entries"]
    assert (entry["method"], entry["path"], entry["status"]) == (
        "POST",
        "/dancu/v1/citizens/verify",
        200,
    )
    assert (entry["client_id"], entry["service"]) == ("demo", "dancu")
    assert entry["request"]["content_type"] == "application/json"
    assert entry["response"]["content_type"] == "application/json"
    number = citizen.so_dinh_danh
    assert f'"cccd":"{number[:3]}*******{number[-2:]}"' in entry["request"]["body"]
    assert '"date_of_birth":"1*********"' in entry["request"]["body"]  # a birth date: masked
    assert entry["response"]["body"]
    assert not entry["response"]["truncated"]
    whole = str(page)
    assert number not in whole
    assert citizen.ho_va_ten not in whole
    first_letters = " ".join(word[0] + "*" * (len(word) - 1) for word in citizen.ho_va_ten.split())
    assert first_letters in entry["request"]["body"]


async def test_a_call_refused_at_the_gateway_is_journaled_too(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    refused = await client.get(f"{CITIZENS}/091048993438")

    (entry,) = (await journal(client, demo_token, request_id=refused.headers["X-Request-ID"]))[
        "entries"
    ]

    assert (entry["status"], entry["client_id"]) == (401, None)
    assert '"code":"INVALID_TOKEN"' in entry["response"]["body"]


async def test_a_number_with_percent_encoded_digits_is_masked_in_the_query_and_path(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """SECURITY-PROBE-2026-12 F13: each decodes to the whole number where it is used."""
    calls = [
        await client.get(
            f"{KG}/dvc/v1/dossiers?applicant=%3091154541622", headers=bearer(demo_token)
        ),
        await client.get(f"{CITIZENS}/%3091048993438", headers=bearer(demo_token)),
    ]

    entries = [
        entry
        for call in calls
        for entry in (await journal(client, demo_token, request_id=call.headers["X-Request-ID"]))[
            "entries"
        ]
    ]

    assert [entry["query"] for entry in entries] == ["applicant=091*******22", ""]
    assert entries[1]["path"] == "/dancu/v1/citizens/091*******38"
    assert "3091154541622" not in str(entries)


async def test_a_dossiers_composite_personal_fields_and_query_are_masked(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """The integrator review: `form_data`'s composite names and `?phone=…&name=…` were kept."""
    form_data = {
        "SoDienThoaiNguoiThan": "0987654321",
        "HoTenChuHo": "Nguyễn Hữu Quang",
        "DiaChiMoi": "Số 12 đường Mạc Cửu",
        "TenThuTuc": "Đăng ký thường trú",
    }
    calls = [
        await client.post(
            f"{KG}/dvc/v1/dossiers", json={"form_data": form_data}, headers=bearer(demo_token)
        ),
        await client.get(
            f"{KG}/dvc/v1/dossiers?phone=0912345678&name=Ho%C3%A0ng", headers=bearer(demo_token)
        ),
    ]

    posted, listed = [
        (await journal(client, demo_token, request_id=call.headers["X-Request-ID"]))["entries"][0]
        for call in calls
    ]

    assert json.loads(posted["request"]["body"])["form_data"] == {
        "SoDienThoaiNguoiThan": "0*********",
        "HoTenChuHo": "N***** H** Q****",
        "DiaChiMoi": "S* 1* đ**** M** C**",
        "TenThuTuc": "Đăng ký thường trú",
    }
    assert listed["query"] == "phone=0*********&name=H****"


async def test_tokens_and_admin_calls_are_not_journaled(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    await journal(client, demo_token)
    await fetch_token(client)

    entries = (await journal(client, demo_token))["entries"]

    assert entries == []


@pytest.mark.parametrize("journal_settings", [{"journal_unmasked": True}])
async def test_the_dev_profile_may_keep_bodies_unmasked(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    await verify_claim(client, demo_token, citizen)

    page = await journal(client, demo_token)

    assert page["masked"] is False
    assert citizen.so_dinh_danh in page["entries"][0]["request"]["body"]
    assert citizen.ho_va_ten in page["entries"][0]["request"]["body"]


async def test_filters_narrow_the_listing(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    started = datetime.now(UTC)
    await verify_claim(client, demo_token, citizen)
    await client.get(f"{CITIZENS}/{citizen.so_dinh_danh}", headers=bearer(demo_token))
    await client.get(f"{CITIZENS}/12", headers=bearer(demo_token))

    async def found(**params: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (await journal(client, demo_token, **params))["entries"]
        return entries

    assert [entry["status"] for entry in await found()] == [422, 200, 200]  # newest first
    assert [entry["path"] for entry in await found(method="post")] == ["/dancu/v1/citizens/verify"]
    assert len(await found(status=422)) == 1
    assert len(await found(path="/dancu/v1/citizens/*")) == 3
    assert len(await found(path=r"^/dancu/v1/citizens/\d{3}\*{7}\d{2}$")) == 1  # masked paths
    assert await found(service="dvc") == []
    assert await found(client_id="someone") == []
    assert len(await found(since=started.isoformat())) == 3
    assert await found(since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat()) == []
    assert len(await found(limit=2)) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"path": "^(unclosed"},
        {"limit": 0},
        {"limit": 501},
        {"since": "2026-01-01T00:00:00"},  # no offset: which instant?
        {"since": "0001-01-01T00:00:00+07:00"},  # before year 1 once in UTC
        {"status": 99},
        {"method": "BREW"},
        {"request_id": "bad id"},
        {"nonsense": "1"},
    ],
)
async def test_bad_filters_are_problems(
    client: httpx.AsyncClient, demo_token: str, params: dict[str, Any]
) -> None:
    answer = await client.get(JOURNAL, params=params, headers=bearer(demo_token))

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "INVALID_REQUEST"


async def test_verify_counts_matching_calls(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    for _ in range(2):
        await verify_claim(client, demo_token, citizen)
    await client.get(f"{CITIZENS}/{citizen.so_dinh_danh}", headers=bearer(demo_token))

    async def verify(**expectation: Any) -> httpx.Response:
        return await client.post(VERIFY, json=expectation, headers=bearer(demo_token))

    exact = await verify(method="POST", path="/dancu/v1/citizens/verify", count=2)
    assert exact.status_code == 200, exact.text
    assert exact.json() == {"verified": True, "count": 2, "expected": "exactly 2"}
    # A CCCD and a name in the expected body are masked as the stored ones were: they match.
    by_body = await verify(body={"cccd": citizen.so_dinh_danh, "full_name": citizen.ho_va_ten})
    assert by_body.json()["count"] == 2, by_body.text
    assert (await verify(service="dancu", at_least=3, at_most=3)).status_code == 200
    assert (await verify(path="/dancu/v1/citizens/verify")).json()["expected"] == "at least 1"
    nothing = await verify(service="dvc", count=0)
    assert nothing.status_code == 200, nothing.text


async def test_a_value_nested_under_a_personal_key_is_masked_and_still_verified(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    """An applicant sent as a record, an address as an object, a phone as a number: stored
    masked, and an expectation naming them is masked the same way, so it matches."""
    nested = {
        "applicant": {"name": citizen.ho_va_ten},
        "permanent_address": {"street": "12 Le Loi"},
        "phone": 84912345678,
    }
    call = await client.post(
        f"{CITIZENS}/verify",
        json={"cccd": citizen.so_dinh_danh, **nested},
        headers=bearer(demo_token),
    )

    page = await journal(client, demo_token, request_id=call.headers["X-Request-ID"])
    (entry,) = page["entries"]
    for kept_whole in (citizen.ho_va_ten, "Le Loi", "84912345678"):
        assert kept_whole not in entry["request"]["body"]
    matched = await client.post(VERIFY, json={"body": nested}, headers=bearer(demo_token))
    assert matched.status_code == 200, matched.text
    assert matched.json()["count"] == 1


async def test_a_path_with_a_real_cccd_matches_its_masked_record(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    """Paths are stored masked: a filter naming the number the test called with is masked the
    same way, as a glob, as a regular expression, and for the near misses of a failed one."""
    cccd = citizen.so_dinh_danh
    await client.get(f"{CITIZENS}/{cccd}", headers=bearer(demo_token))

    async def verify(**expectation: Any) -> httpx.Response:
        return await client.post(VERIFY, json=expectation, headers=bearer(demo_token))

    plain = await verify(method="GET", path=f"/dancu/v1/citizens/{cccd}")
    assert plain.status_code == 200, plain.text
    assert (await verify(path=f"^/dancu/v1/citizens/{cccd}$")).status_code == 200
    missed = await verify(path=f"/dancu/v1/citizens/{cccd}", method="POST")
    assert missed.status_code == 409, missed.text
    (near,) = missed.json()["near_misses"]
    assert (near["method"], near["path"]) == (
        "GET",
        f"/dancu/v1/citizens/{cccd[:3]}*******{cccd[-2:]}",
    )
    listed = await journal(client, demo_token, path=f"/dancu/v1/citizens/{cccd}")
    assert len(listed["entries"]) == 1


async def test_a_failed_verification_says_what_was_received(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    await verify_claim(client, demo_token, citizen)

    missed = await client.post(
        VERIFY,
        json={"path": "/dancu/v1/citizens/verify", "body": {"date_of_birth": "2000-01-01"}},
        headers=bearer(demo_token),
    )
    too_many = await client.post(
        VERIFY, json={"service": "dancu", "at_most": 0}, headers=bearer(demo_token)
    )

    assert missed.status_code == 409, missed.text
    assert missed.headers["content-type"] == "application/problem+json"
    problem = missed.json()
    assert problem["code"] == "JOURNAL_VERIFICATION_FAILED"
    assert (problem["count"], problem["expected"], problem["matched"]) == (0, "at least 1", [])
    (near,) = problem["near_misses"]
    assert near["path"] == "/dancu/v1/citizens/verify"
    assert '"date_of_birth":"1*********"' in near["request_body"]  # masked as stored
    assert citizen.so_dinh_danh not in str(problem)
    assert too_many.status_code == 409
    assert (too_many.json()["count"], len(too_many.json()["matched"])) == (1, 1)
    assert too_many.json()["near_misses"] == []


@pytest.mark.parametrize(
    "expectation",
    [
        {"count": 1, "at_least": 1},
        {"at_least": 3, "at_most": 2},
        {"count": -1},
        {"path": "^["},
        {"unknown": True},
    ],
)
async def test_bad_expectations_are_problems(
    client: httpx.AsyncClient, demo_token: str, expectation: dict[str, Any]
) -> None:
    answer = await client.post(VERIFY, json=expectation, headers=bearer(demo_token))

    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize("journal_settings", [{"journal_max_entries": 3}])
async def test_only_the_newest_exchanges_are_kept(
    client: httpx.AsyncClient, demo_token: str, bus: BusState, citizen: Any
) -> None:
    sent = [
        (await client.get(f"{CITIZENS}/{citizen.so_dinh_danh}", headers=bearer(demo_token)))
        for _ in range(5)
    ]

    entries = (await journal(client, demo_token))["entries"]
    pruned = await store.prune(
        bus.session_factory,
        ["kiengiang"],
        now=datetime.now(UTC),
        retention_seconds=3600,
        max_entries=3,
    )

    newest = [answer.headers["X-Request-ID"] for answer in reversed(sent[2:])]
    assert [entry["request_id"] for entry in entries] == newest
    assert pruned == 2
    async with bus.session_factory() as session:
        rows = await session.scalar(select(func.count()).select_from(JournalRecord))
    assert rows == 3


async def test_exchanges_older_than_the_retention_are_neither_listed_nor_kept(
    client: httpx.AsyncClient, demo_token: str, bus: BusState, citizen: Any
) -> None:
    await client.get(f"{CITIZENS}/{citizen.so_dinh_danh}", headers=bearer(demo_token))
    await client.get(f"{CITIZENS}/12", headers=bearer(demo_token))
    async with bus.session_factory() as session:
        newest = await session.scalar(select(func.max(JournalRecord.occurred_at)))
    assert newest is not None
    # As seen an hour later, with a retention that keeps only the last call's instant.
    later = newest + timedelta(hours=1)
    retention = (later - newest).total_seconds()

    kept = [
        record.status
        async for record in store.matching(
            bus.session_factory,
            "kiengiang",
            JournalFilter(),
            now=later,
            retention_seconds=retention,
            max_entries=1000,
        )
    ]
    pruned = await store.prune(
        bus.session_factory, ["kiengiang"], now=later, retention_seconds=retention, max_entries=1000
    )

    assert kept == [422]
    assert pruned == 1


@pytest.mark.parametrize("journal_settings", [{"journal_max_body_bytes": 20}])
async def test_long_bodies_are_masked_then_cut_and_marked(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    await verify_claim(client, demo_token, citizen)

    (entry,) = (await journal(client, demo_token))["entries"]

    body = entry["request"]["body"]
    assert entry["request"]["truncated"] is True
    assert len(body.encode()) <= 20
    assert body.startswith('{"cccd":"091***')  # the cut falls inside the masked number
    assert not re.search(r"\d{4}", body)
    # A cut body cannot be said to contain anything.
    verified = await client.post(
        VERIFY, json={"body": {"date_of_birth": "1900-01-01"}}, headers=bearer(demo_token)
    )
    assert verified.status_code == 409


async def test_a_body_refused_before_it_was_read_is_marked_incomplete(
    client: httpx.AsyncClient, citizen: Any
) -> None:
    refused = await client.post(
        f"{CITIZENS}/verify", json={"cccd": citizen.so_dinh_danh}, headers=bearer("forged")
    )
    token = await fetch_token(client)

    (entry,) = (await journal(client, token, request_id=refused.headers["X-Request-ID"]))["entries"]

    assert entry["status"] == 401
    assert entry["request"]["truncated"] is True  # not "an empty body was sent"


async def test_a_body_the_database_could_not_store_costs_no_call_its_answer(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    """A lone surrogate escape, stored as such, would have failed the audit transaction."""
    answer = await client.post(
        f"{CITIZENS}/verify",
        content=b'{"cccd": "%s", "full_name": "\\ud800", "date_of_birth": "1990-01-01"}'
        % citizen.so_dinh_danh.encode(),
        headers=bearer_json(demo_token),
    )

    assert answer.status_code != 503, answer.text
    (entry,) = (await journal(client, demo_token, request_id=answer.headers["X-Request-ID"]))[
        "entries"
    ]
    assert entry["request"]["body"].encode("utf-8")


async def test_reset_empties_the_journal(
    client: httpx.AsyncClient, demo_token: str, citizen: Any
) -> None:
    await client.get(f"{CITIZENS}/{citizen.so_dinh_danh}", headers=bearer(demo_token))

    reset = await client.post(f"{KG}/admin/reset", headers=bearer(demo_token))

    assert reset.status_code == 200, reset.text
    assert (await journal(client, demo_token))["entries"] == []


async def test_a_forwarded_call_is_in_each_instance_journal(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    tiengiang = generate_citizens(province_code="82", seed=7, count=1)[0]
    call = await client.get(
        f"{KG}/csdlqgdc/v1/citizens/{tiengiang.so_dinh_danh}", headers=bearer(demo_token)
    )
    assert call.status_code == 200, call.text
    request_id = call.headers["X-Request-ID"]
    ndxp_token = await fetch_token(client, "/ndxp")

    here = (await journal(client, demo_token, request_id=request_id))["entries"]
    there = (await journal(client, ndxp_token, "/ndxp", request_id=request_id))["entries"]

    assert [(e["client_id"], e["status"]) for e in here] == [("demo", 200)]
    assert [(e["client_id"], e["path"]) for e in there] == [
        (
            "lgsp-kiengiang",
            f"/csdlqgdc/v1/citizens/{tiengiang.so_dinh_danh[:3]}*******{tiengiang.so_dinh_danh[-2:]}",
        )
    ]


async def test_a_forwarded_answer_is_journaled_masked_at_each_gateway(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """A gateway that passes a call on holds the answer only as bytes: it masks them as JSON,
    what the caller got with each id and name masked (issue 21)."""
    tiengiang = generate_citizens(province_code="82", seed=7, count=1)[0]
    call = await client.get(
        f"{KG}/csdlqgdc/v1/citizens/{tiengiang.so_dinh_danh}", headers=bearer(demo_token)
    )
    assert call.status_code == 200, call.text
    assert tiengiang.ho_va_ten in call.text
    request_id = call.headers["X-Request-ID"]
    ndxp_token = await fetch_token(client, "/ndxp")

    here = (await journal(client, demo_token, request_id=request_id))["entries"]
    there = (await journal(client, ndxp_token, "/ndxp", request_id=request_id))["entries"]

    bodies = [entry["response"]["body"] for entry in (*here, *there)]
    assert len(bodies) == 2
    for body in bodies:
        assert json.loads(body) == mask_document(call.json())
        assert tiengiang.so_dinh_danh not in body
        assert tiengiang.ho_va_ten not in body


async def test_the_journal_needs_an_admin_token(client: httpx.AsyncClient, bus: BusState) -> None:
    mine = await registered_client(bus, {"dancu": "GET"}, name="vendor")
    vendor = await fetch_token(client, client_id=mine.client_id, secret=mine.client_secret)

    for method, url in (("GET", JOURNAL), ("POST", VERIFY)):
        anonymous = await client.request(method, url, json={})
        refused = await client.request(method, url, json={}, headers=bearer(vendor))
        assert (anonymous.status_code, refused.status_code) == (401, 403), url
        assert refused.json()["code"] == "ACCESS_DENIED"


@pytest.mark.parametrize("journal_settings", [{"journal_enabled": False}])
async def test_a_bus_without_journal_says_so(
    client: httpx.AsyncClient, demo_token: str, bus: BusState, citizen: Any
) -> None:
    await client.get(f"{CITIZENS}/{citizen.so_dinh_danh}", headers=bearer(demo_token))

    listing = await client.get(JOURNAL, headers=bearer(demo_token))
    verifying = await client.post(VERIFY, json={}, headers=bearer(demo_token))

    assert listing.status_code == verifying.status_code == 409
    assert listing.json()["code"] == "JOURNAL_DISABLED"
    async with bus.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(JournalRecord)) == 0
