"""What a gateway adds to a call it passes on to the next gateway (issue 21's cross-province
hop): the fields it sends, the request id the next hop reads, and the route to a named
province. The answer it makes of the next hop's: test_json_answer.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import SystemRequest
from lgsp.errors import TargetNotFound
from lgsp.masking import _STANDING_RUN, _UUID, _mask_digits, mask_request_id
from lgsp.routing.peers import PeerCredentials, PeerLink
from lgsp.routing.resolver import Forward, resolve_route
from lgsp.routing.transports import HttpTransport, http_client
from lgsp.topology import TOPOLOGY_2024, TOPOLOGY_2026

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


@pytest.fixture
async def heads() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server on loopback answering `{}` to every request: its URL, and the heads it read."""
    read: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                read.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", read
    server.close()
    await server.wait_closed()


@pytest.mark.anyio
async def test_a_peer_link_sends_host_the_hops_fields_and_its_token_alone(
    heads: tuple[str, list[bytes]],
) -> None:
    """httpx's default fields (Accept, Accept-Encoding, Connection, User-Agent) are no use to
    the next gateway, which would parse, scan and journal each of them on every call."""
    url, read = heads
    async with http_client(f"{url}/ndxp", timeout=5) as client:
        link = PeerLink(name="ndxp", client=client, credentials=PeerCredentials("lgsp-a", "s"))
        link._token, link._token_expires_at = "t1", float("inf")
        call = SystemRequest("GET", "/dancu/v1/citizens/1", headers={"X-LGSP-Target": "b"})
        assert (await link.send(call, {"X-Request-ID": "r-1"})).status == 200

    (head,) = read
    assert head.split(b"\r\n")[:-2] == [
        b"GET /ndxp/dancu/v1/citizens/1 HTTP/1.1",
        f"Host: {url.removeprefix('http://')}".encode(),
        b"X-LGSP-Target: b",
        b"X-Request-ID: r-1",
        b"Authorization: Bearer t1",
    ]


@pytest.mark.anyio
async def test_a_systems_field_replaces_the_clients_default_of_the_same_name(
    heads: tuple[str, list[bytes]],
) -> None:
    url, read = heads
    async with http_client(url, timeout=5) as client:
        transport = HttpTransport(client, system="demo")
        call = SystemRequest("POST", "/x", body=b"<a/>", headers={"accept": "application/xml"})
        assert (await transport.send(call)).status == 200

    fields = [line.lower() for line in read[0].split(b"\r\n")[1:] if line]
    assert [f for f in fields if f.startswith(b"accept:")] == [b"accept: application/xml"]
    assert b"user-agent: python-httpx" in b" ".join(fields)  # a system still gets httpx's own
    assert fields[-1] == b"content-length: 4"


def _masked_the_long_way(request_id: str) -> str:
    """`mask_request_id` without its shortcuts."""
    uuids = [uuid.span() for uuid in _UUID.finditer(request_id)]

    def mask(run: object) -> str:
        start, text = run.start(), run.group()  # type: ignore[attr-defined]
        return str(text if any(a <= start < b for a, b in uuids) else _mask_digits(text))

    return _STANDING_RUN.sub(mask, request_id)


@given(st.text(alphabet="0123456789abcdefABCDEF-.:*xz", min_size=1, max_size=40))
def test_a_request_id_is_masked_as_without_the_hex_shortcut(request_id: str) -> None:
    assert mask_request_id(request_id) == _masked_the_long_way(request_id)


def test_the_bus_s_own_request_id_reaches_the_next_hop_unchanged() -> None:
    assert mask_request_id("5f0c2a9e1b7d4c3a0000000000000001") == (
        "5f0c2a9e1b7d4c3a0000000000000001"
    )
    assert (
        mask_request_id("091203001234") == _masked_the_long_way("091203001234") != ("091203001234")
    )


def test_the_route_to_a_named_province_follows_the_topology_it_is_given() -> None:
    service = SimpleNamespace(owner="province", id="dancu", version="v1", system="dancu")
    spec = TOPOLOGY_2024.get("kiengiang")
    instance = SimpleNamespace(spec=spec, peers={"ndxp": "link"}, systems={})

    route = resolve_route(service, instance, TOPOLOGY_2024, "tiengiang")  # type: ignore[arg-type]
    assert route == Forward(peer="link", target="tiengiang")  # type: ignore[arg-type]
    # A province of one era is none of the other's: each topology answers for itself.
    only_2024 = next(
        i.name
        for i in TOPOLOGY_2024.instances
        if i.kind == "province" and TOPOLOGY_2026.get(i.name) is None
    )
    with pytest.raises(TargetNotFound):
        resolve_route(service, instance, TOPOLOGY_2026, only_2024)  # type: ignore[arg-type]
