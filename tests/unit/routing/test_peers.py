"""An instance's link to a peer gateway: its token is cached, renewed, and never leaks a failure."""

from __future__ import annotations

import httpx
import pytest
import respx

from adapters.base import SystemRequest
from lgsp.errors import UpstreamTimeout, UpstreamUnavailable
from lgsp.routing.peers import REFRESH_MARGIN_SECONDS, PeerCredentials, PeerLink
from tests.fixtures.clocks import Clock

pytestmark = pytest.mark.anyio

NDXP = "http://ndxp.test/ndxp/"
CALL = SystemRequest(method="GET", path="/csdlqgdc/v1/citizens/1", headers={"X-Request-ID": "r"})


def token_answer(token: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
    )


def invalid_token() -> httpx.Response:
    return httpx.Response(401, json={"code": "INVALID_TOKEN", "status": 401})


@pytest.fixture
async def link_and_clock() -> tuple[PeerLink, Clock]:
    clock = Clock(1000.0)
    client = httpx.AsyncClient(base_url=NDXP)
    credentials = PeerCredentials(client_id="lgsp-kiengiang", client_secret="s3cret")
    return PeerLink(name="ndxp", client=client, credentials=credentials, clock=clock), clock


@respx.mock
async def test_the_token_is_fetched_with_client_credentials_and_sent_as_bearer(
    link_and_clock: tuple[PeerLink, Clock],
) -> None:
    link, _ = link_and_clock
    token_route = respx.post(f"{NDXP}token").mock(return_value=token_answer("t1"))
    call_route = respx.get(f"{NDXP}csdlqgdc/v1/citizens/1").mock(
        return_value=httpx.Response(200, json={"ok": True})
    )

    response = await link.send(CALL)

    assert response.status == 200
    sent = token_route.calls.last.request
    assert sent.headers["authorization"] == "Basic bGdzcC1raWVuZ2lhbmc6czNjcmV0"
    assert sent.content == b"grant_type=client_credentials"
    assert call_route.calls.last.request.headers["authorization"] == "Bearer t1"
    assert call_route.calls.last.request.headers["x-request-id"] == "r"


@respx.mock
async def test_extra_headers_ride_along_but_never_replace_the_instances_token(
    link_and_clock: tuple[PeerLink, Clock],
) -> None:
    link, _ = link_and_clock
    respx.post(f"{NDXP}token").mock(return_value=token_answer("t1"))
    call_route = respx.get(f"{NDXP}csdlqgdc/v1/citizens/1").mock(return_value=httpx.Response(200))

    await link.send(CALL, {"X-Request-ID": "r-2", "Authorization": "Bearer the-callers"})

    sent = call_route.calls.last.request
    assert sent.headers.get_list("authorization") == ["Bearer t1"]
    assert sent.headers.get_list("x-request-id") == ["r-2"]


@respx.mock
async def test_the_token_is_reused_until_shortly_before_it_expires(
    link_and_clock: tuple[PeerLink, Clock],
) -> None:
    link, clock = link_and_clock
    token_route = respx.post(f"{NDXP}token").mock(
        side_effect=[token_answer("t1", 120), token_answer("t2", 120)]
    )
    call_route = respx.get(f"{NDXP}csdlqgdc/v1/citizens/1").mock(
        return_value=httpx.Response(200, json={})
    )

    await link.send(CALL)
    clock.now += 120 - REFRESH_MARGIN_SECONDS - 1
    await link.send(CALL)
    clock.now += 2
    await link.send(CALL)

    assert token_route.call_count == 2
    bearers = [call.request.headers["authorization"] for call in call_route.calls]
    assert bearers == ["Bearer t1", "Bearer t1", "Bearer t2"]


@respx.mock
async def test_a_refused_token_is_renewed_once_and_the_call_retried(
    link_and_clock: tuple[PeerLink, Clock],
) -> None:
    link, _ = link_and_clock
    respx.post(f"{NDXP}token").mock(side_effect=[token_answer("old"), token_answer("new")])
    call_route = respx.get(f"{NDXP}csdlqgdc/v1/citizens/1").mock(
        side_effect=[invalid_token(), httpx.Response(200, json={"ok": True})]
    )

    response = await link.send(CALL)

    assert response.status == 200
    assert [c.request.headers["authorization"] for c in call_route.calls] == [
        "Bearer old",
        "Bearer new",
    ]


@pytest.mark.parametrize(
    ("refusal", "tokens", "calls"),
    [
        # A second refusal of a fresh token is passed on rather than retried forever.
        pytest.param(invalid_token(), 2, 2, id="token-refused-twice"),
        # A 401 that is not about the token is not retried at all.
        pytest.param(
            httpx.Response(401, text="<html>proxy says no</html>"), 1, 1, id="not-about-the-token"
        ),
    ],
)
@respx.mock
async def test_a_401_is_retried_at_most_once_and_only_for_the_token(
    link_and_clock: tuple[PeerLink, Clock], refusal: httpx.Response, tokens: int, calls: int
) -> None:
    link, _ = link_and_clock
    token_route = respx.post(f"{NDXP}token").mock(return_value=token_answer("t"))
    call_route = respx.get(f"{NDXP}csdlqgdc/v1/citizens/1").mock(return_value=refusal)

    response = await link.send(CALL)

    assert response.status == 401
    assert (token_route.call_count, call_route.call_count) == (tokens, calls)


@respx.mock
async def test_refused_credentials_are_a_502_naming_the_peer(
    link_and_clock: tuple[PeerLink, Clock],
) -> None:
    link, _ = link_and_clock
    respx.post(f"{NDXP}token").mock(
        return_value=httpx.Response(401, json={"error": "invalid_client"})
    )

    with pytest.raises(UpstreamUnavailable, match="ndxp refused this instance's credentials"):
        await link.send(CALL)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.Response(200, json={"token_type": "Bearer"}), UpstreamUnavailable),
        (httpx.Response(200, text="not json"), UpstreamUnavailable),
    ],
)
@respx.mock
async def test_a_token_request_that_fails_is_a_problem_not_a_crash(
    link_and_clock: tuple[PeerLink, Clock], answer: Exception | httpx.Response, error: type
) -> None:
    link, _ = link_and_clock
    route = respx.post(f"{NDXP}token")
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)

    with pytest.raises(error):
        await link.send(CALL)
