"""Which hop refused me: every error names its instance and whether the gateway or the system
behind it produced it, in `X-LGSP-Error-Source` and in the problem's `error_source`."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

HEADER = "x-lgsp-error-source"
UNKNOWN_KG_CITIZEN = "091199999999"  # a well-formed CCCD of Kiên Giang that nobody holds
UNKNOWN_TG_CITIZEN = "082199999999"


@pytest.mark.parametrize(
    ("method", "path", "authorised", "source"),
    [
        ("GET", "/nowhere", False, {"by": "gateway", "instance": "bus"}),
        ("GET", f"{KG}/services", False, {"by": "gateway", "instance": "kiengiang"}),
        ("GET", f"{KG}/nosuch/v1/x", True, {"by": "gateway", "instance": "kiengiang"}),
        ("GET", f"{KG}/dancu/v1/citizens/123", True, {"by": "gateway", "instance": "kiengiang"}),
        (
            "GET",
            f"{KG}/dancu/v1/citizens/{UNKNOWN_KG_CITIZEN}",
            True,
            {"by": "system", "instance": "kiengiang", "system": "dancu"},
        ),
    ],
)
async def test_error_names_the_hop_that_produced_it(
    client: httpx.AsyncClient,
    demo_token: str,
    method: str,
    path: str,
    authorised: bool,
    source: dict[str, str],
) -> None:
    response = await client.request(method, path, headers=bearer(demo_token) if authorised else {})

    assert response.status_code >= 400
    assert response.json()["error_source"] == source
    expected = "; ".join(
        [source["by"], *(f"{key}={source[key]}" for key in ("instance", "system") if key in source)]
    )
    assert response.headers[HEADER] == expected


async def test_a_refusal_two_hops_away_names_the_far_system(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    response = await client.get(
        f"{KG}/dancu/v1/citizens/{UNKNOWN_TG_CITIZEN}",
        headers={**bearer(demo_token), "X-LGSP-Target": "tiengiang"},
    )

    assert response.status_code == 404
    assert response.headers[HEADER] == "system; instance=tiengiang; system=dancu"
    assert response.json()["error_source"]["instance"] == "tiengiang"


async def test_guard_and_token_refusals_name_their_hop(client: httpx.AsyncClient) -> None:
    guarded = await client.get(f"{KG}/%2e%2e/healthz")
    token = await client.post(
        f"{KG}/token", data={"grant_type": "client_credentials"}, auth=("demo", "wrong")
    )

    assert guarded.status_code == 400
    assert guarded.headers[HEADER] == "gateway; instance=bus"
    assert token.status_code == 401
    assert token.headers[HEADER] == "gateway; instance=kiengiang"
    assert "error_source" not in token.json()  # RFC 6749 §5.2 form stays as it is
