"""A dialect's client-sent JSON nested past the parser's stack (security finding 8) is the
dialect's own refusal, recorded in the audit like any refused call, never a 500: the
`lgspaccesstoken` header and the VDXP SDK's `XroadVnpt-sign-header`. (The SOAP door's
portal body and the OpenCPS door's bodies go through `ngsp.request_object`, which already
refuses them: test_dialect_soap.py, and below for OpenCPS's login.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
import pytest

from adapters.dialects import lgspaccesstoken as lat
from adapters.dialects import vdxpsdk as sdk
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.e2e.test_dialect_opencps import DST
from tests.e2e.test_dialect_vdxpsdk import (  # noqa: F401 (a fixture)
    SdkSystem,
    fx_make_system,
    query_headers,
)
from tests.e2e.test_dialects import DEMO, access_header
from tests.fixtures.bus import KG, DialectSettings, bearer

pytestmark = pytest.mark.anyio

DEEP = 1500
"""`[` nested this deep: past Python's recursion limit (1000), within each header's bound."""


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "lgspaccesstoken", "vdxpsdk", "opencps")})


@pytest.fixture
async def system(make_system: Any) -> SdkSystem:
    system: SdkSystem = await make_system("--organisation", "000.00.01.H33")
    return system


async def inbound(client: httpx.AsyncClient, admin: str, request_id: str) -> list[int]:
    """The statuses of the inbound audit records of `request_id`."""
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": request_id}, headers=bearer(admin)
    )
    assert audit.status_code == 200, audit.text
    return [r["status"] for r in audit.json()["records"] if r["hop"] == "inbound"]


def citizen(settings: Settings) -> str:
    return generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        (base64.b64encode(b"[" * DEEP).decode(), 401, "100"),
        (None, 200, "0"),  # the good header, beside them
    ],
)
async def test_a_deeply_nested_lgspaccesstoken_is_refused_and_recorded(
    client: httpx.AsyncClient,
    settings: Settings,
    demo_token: str,
    value: str | None,
    status: int,
    code: str,
) -> None:
    assert value is None or len(value) <= lat.MAX_HEADER_LENGTH
    request_id = f"lat-nested-{status}-{len(value or '')}"
    headers = {lat.HEADER: value or access_header(*DEMO), "X-Request-ID": request_id}

    response = await client.get(
        f"{KG}/lgspaccesstoken/dancu/v1/citizens/{citizen(settings)}", headers=headers
    )

    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert response.headers["x-request-id"] == request_id
    statuses = await inbound(client, demo_token, request_id)
    # The good header's first call also asks the core for its client's token (recorded too).
    assert (statuses == [401]) if status == 401 else (status in statuses)


@pytest.mark.parametrize("nested", [True, False])
async def test_a_deeply_nested_sign_header_is_refused_and_recorded(
    client: httpx.AsyncClient, system: SdkSystem, demo_token: str, nested: bool
) -> None:
    """Signed with the system's own secret, so the HMAC holds and the JSON is read."""
    headers = query_headers(system, servicetype="eDoc", messagetype="edoc")
    if nested:
        document = "[" * DEEP
        assert len(document) <= sdk.MAX_SIGN_HEADER
        mac = hmac.new(system[1].encode(), document.encode(), hashlib.sha256).hexdigest()
        headers = {**headers, sdk.SIGN_HEADER: document, sdk.HASH_HEADER: mac}
    request_id = f"sdk-nested-{nested}"

    answer = await client.post(
        f"{KG}/vdxp-sdk/getReceivedEdocList", headers={**headers, "X-Request-ID": request_id}
    )

    if nested:
        assert answer.status_code == 401, answer.text
        assert (answer.json()["status"], answer.json()["ErrorCode"]) == (
            "FAIL",
            "SIGNATURE_INVALID",
        )
        assert await inbound(client, demo_token, request_id) == [401]
    else:
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "OK"


@pytest.mark.parametrize("door", ["auth", "integration"])
async def test_a_deeply_nested_opencps_body_is_the_protocols_refusal(
    client: httpx.AsyncClient, door: str
) -> None:
    answer = await client.post(
        f"{KG}/opencps/{door}", content=b"[" * 10_000, headers=DST | {"X-Request-ID": door}
    )

    assert answer.status_code < 500, answer.text
    assert answer.json()["error_code"] not in ("0", None)
