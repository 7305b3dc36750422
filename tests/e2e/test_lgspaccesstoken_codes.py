"""The `lgspaccesstoken` door's `{error_code, message, data}` (DOMAIN.md §2.2): a refusal keeps
the bus's stable code at the head of its message, and `RECEIVER_CODE` names the receiver as a
caller knows it (an instance, a province code, an agency's organ id), never the bus's headers."""

from __future__ import annotations

import httpx
import pytest

from adapters.dialects import lgspaccesstoken as lat
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.e2e.test_dialects import DEMO, LAT, access_header
from tests.fixtures.bus import KG, DialectSettings, bearer
from tests.fixtures.documents import canonical_document

pytestmark = pytest.mark.anyio

HEADER = {lat.HEADER: access_header(*DEMO)}


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "lgspaccesstoken")})


async def test_an_unknown_recipient_keeps_its_stable_code_in_the_message(
    client: httpx.AsyncClient,
) -> None:
    unknown = {"organ_id": "000.00.99.H33", "organ_name": "Không có"}
    document = canonical_document("9071", [unknown], notation="STP-VP", subject="Thử")

    response = await client.post(f"{LAT}/qlvb/v1/documents", json=document, headers=HEADER)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_code"] == "302"
    assert body["message"].startswith("UNKNOWN_RECIPIENT: "), body


@pytest.mark.parametrize(
    "receiver",
    ["tiengiang", "82", "000.00.01.H58", "000.00.00.H58"],
    ids=["instance", "province-code", "agency", "province-agency"],
)
async def test_receiver_code_names_the_province_as_a_caller_knows_it(
    client: httpx.AsyncClient, demo_token: str, receiver: str
) -> None:
    cccd = generate_citizens(province_code="82", seed=7, count=1)[0].so_dinh_danh
    own = await client.get(
        f"{KG}/dancu/v1/citizens/{cccd}",
        headers={**bearer(demo_token), "X-LGSP-Target": "tiengiang"},
    )

    response = await client.get(
        f"{LAT}/dancu/v1/citizens/{cccd}",
        # SENDER_CODE and TRAN_CODE are taken and not interpreted (unsourced meaning)
        headers={
            **HEADER,
            "SENDER_CODE": "000.00.01.H33",
            "TRAN_CODE": "dancu",
            "RECEIVER_CODE": receiver,
        },
    )

    assert own.status_code == response.status_code == 200, response.text
    assert response.json()["data"] == own.json()


@pytest.mark.parametrize("receiver", ["99", "000.00.00.H99", "nowhere"])
async def test_a_receiver_code_naming_no_province_is_refused_in_the_callers_words(
    client: httpx.AsyncClient, receiver: str
) -> None:
    response = await client.get(
        f"{LAT}/dancu/v1/citizens/091048993438",
        headers={**HEADER, "RECEIVER_CODE": receiver, "X-Request-ID": "lat-receiver"},
    )

    assert response.status_code == 404, response.text
    body = response.json()
    assert body["error_code"] == "201"
    assert body["message"].startswith("TARGET_NOT_FOUND: RECEIVER_CODE names no province"), body
    assert "X-LGSP" not in response.text
    assert response.headers["x-request-id"] == "lat-receiver"


async def test_receiver_code_on_a_national_service_still_reaches_ndxp(
    client: httpx.AsyncClient,
) -> None:
    plain = await client.get(f"{LAT}/dvcqg/v1/dossiers", headers=HEADER)
    response = await client.get(
        f"{LAT}/dvcqg/v1/dossiers", headers={**HEADER, "RECEIVER_CODE": "tiengiang"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == plain.json()
    assert response.json()["error_code"] == "0"
