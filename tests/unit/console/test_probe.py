"""The connection test's probe: one bounded GET, every failure named, never raised."""

from __future__ import annotations

import httpx
import pytest

from lgsp.console.tools import MAX_READ, probe, within

pytestmark = pytest.mark.anyio


async def test_an_answer_is_shown_with_its_status_headers_and_masked_body() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            503, headers={"Server": "qlvb-adapter", "X-Secret": "s"}, text="citizen 091199999999"
        )

    found = await probe("http://system.test/health", transport=httpx.MockTransport(answer))

    assert found.reached
    assert found.status == 503
    assert found.headers == {"server": "qlvb-adapter", "content-type": "text/plain; charset=utf-8"}
    assert "091199999999" not in found.body


async def test_a_redirect_is_reported_not_followed() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://elsewhere.test/"})

    found = await probe("http://system.test/", transport=httpx.MockTransport(answer))

    assert found.status == 302
    assert found.headers["location"] == "http://elsewhere.test/"
    assert seen == ["http://system.test/"]


async def test_a_long_body_is_read_only_so_far() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (MAX_READ * 50))

    found = await probe("http://system.test/", transport=httpx.MockTransport(answer))

    assert len(found.body) == MAX_READ


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (httpx.ConnectTimeout("slow"), "Hết giờ"),
        (httpx.ConnectError("refused"), "Không kết nối được"),
        (httpx.RemoteProtocolError("garbage"), "RemoteProtocolError"),
    ],
)
async def test_a_failure_is_named(error: Exception, said: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    found = await probe("http://system.test/", transport=httpx.MockTransport(answer))

    assert not found.reached
    assert said in found.reason


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x/", "http:///nohost", "", "http://a/" + "x" * 2000]
)
async def test_only_http_urls_with_a_host_are_probed(url: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be called")

    found = await probe(url, transport=httpx.MockTransport(answer))

    assert not found.reached
    assert "http://" in found.reason


BASES = ["http://qlvb.example:8080/api/", "https://ndxp.example/ndxp"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://qlvb.example:8080/api/health", True),
        ("http://qlvb.example:8080/api", True),
        ("https://ndxp.example/ndxp/healthz", True),
        ("http://qlvb.example:8080/apix", False),  # a sibling path, not below the base
        ("http://qlvb.example:8081/api/health", False),  # another port
        ("https://qlvb.example:8080/api/health", False),  # another scheme
        ("http://127.0.0.2:9333/", False),
        ("http://ndxp.example/ndxp", False),
        ("http://qlvb.example:99999/api", False),  # no port at all
    ],
)
def test_an_instance_admin_may_try_only_urls_below_its_topology_s(url: str, allowed: bool) -> None:
    assert within(url, BASES) is allowed
