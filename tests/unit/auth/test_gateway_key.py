"""A system run as its own process answers only the gateway that owns it (security re-probe
2026-12-07 #4): `GatewayOnly` in front of the system's app."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from lgsp.auth.gateway_key import GATEWAY_KEY_HEADER, GatewayOnly, gateway_key
from lgsp.settings import Settings

pytestmark = pytest.mark.anyio

KEY = gateway_key(
    Settings(federation_secret="s3cret-of-the-bus"), instance="angiang", system="qlvb"
)


async def system(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"inbox"})


def client() -> httpx.AsyncClient:
    door = GatewayOnly(system, key=KEY, instance="angiang", system="qlvb")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=door), base_url="http://qlvb")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([], id="none"),
        pytest.param([(GATEWAY_KEY_HEADER, "guess")], id="wrong"),
        pytest.param([(GATEWAY_KEY_HEADER, KEY[:-1])], id="prefix"),
        pytest.param([(GATEWAY_KEY_HEADER, KEY), (GATEWAY_KEY_HEADER, "x")], id="twice"),
    ],
)
async def test_a_call_without_the_gateway_s_key_is_refused(headers: list[tuple[str, str]]) -> None:
    async with client() as http:
        answer = await http.post("/getReceivedEdocList", headers=headers)

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "INVALID_TOKEN"
    assert answer.headers["x-lgsp-error-source"] == "system; instance=angiang; system=qlvb"


async def test_the_gateway_s_call_and_the_contract_pass() -> None:
    async with client() as http:
        called = await http.post("/getReceivedEdocList", headers={GATEWAY_KEY_HEADER: KEY})
        contract = await http.get("/openapi.json")

    assert (called.status_code, called.text) == (200, "inbox")
    assert contract.status_code == 200


def test_each_instance_and_system_has_its_own_key() -> None:
    settings = Settings(federation_secret="s3cret-of-the-bus")

    keys = {
        gateway_key(settings, instance=instance, system=name)
        for instance in ("angiang", "dongthap")
        for name in ("qlvb", "dvc")
    }

    assert len(keys) == 4
    assert KEY not in {
        gateway_key(Settings(federation_secret="other"), instance="angiang", system="qlvb")
    }
