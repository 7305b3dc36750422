"""HEAD wherever the bus answers GET (RFC 9110 §9.3.2): health checks and `curl -I` use it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.apps import systems_opened
from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

_VARYING = {"date", "x-request-id"}


def _citizen(settings: Settings) -> str:
    return f"{KG}/dancu/v1/citizens/" + (
        generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh
    )


@pytest.mark.parametrize(
    ("path", "authorised"),
    [
        (lambda _s: "/healthz", False),
        (lambda _s: "/readyz", False),
        (lambda _s: f"{KG}/.well-known/jwks.json", False),  # a GET route of an instance
        (_citizen, True),  # a service operation, through the adapter to its system
        (lambda _s: f"{KG}/nosuch/v1/x", True),  # a refusal: its head, without its problem
    ],
)
async def test_head_answers_as_get_without_content(
    client: httpx.AsyncClient,
    demo_token: str,
    settings: Settings,
    path: Callable[[Settings], str],
    authorised: bool,
) -> None:
    await systems_opened(client)
    url = path(settings)
    headers = bearer(demo_token) if authorised else {}

    got = await client.get(url, headers=headers)
    head = await client.head(url, headers=headers)

    assert head.status_code == got.status_code != 405
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert {k: v for k, v in head.headers.items() if k not in _VARYING} == {
        k: v for k, v in got.headers.items() if k not in _VARYING
    }
    assert head.headers["x-request-id"]


async def test_head_on_a_path_without_get_is_still_405_naming_what_it_takes(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    head = await client.head(f"{KG}/dancu/v1/citizens/verify", headers=bearer(demo_token))

    assert head.status_code == 405
    assert head.headers["allow"] == "POST"
    assert head.content == b""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/healthz"),  # a route of the bus: the router's 405
        ("DELETE", f"{KG}/.well-known/jwks.json"),  # a route of an instance
        ("POST", f"{KG}/dancu/v1/citizens/001203000001"),  # a service operation: the catalog's
    ],
)
async def test_a_405_where_get_is_served_names_head_too(
    client: httpx.AsyncClient, demo_token: str, method: str, path: str
) -> None:
    """RFC 9110 §15.5.6: `Allow` names what the resource takes, and it takes HEAD as GET."""
    response = await client.request(method, path, headers=bearer(demo_token))

    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
