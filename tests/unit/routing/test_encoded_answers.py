"""An upstream's compressed answer is decoded with the size bound on what it decodes to
(security finding 5): a gzip bomb costs at most `MAX_UPSTREAM_BODY`, is a 502, and is decoded
off the event loop; a good compressed answer passes, by both of `HttpTransport`'s ways."""

from __future__ import annotations

import gzip
import json
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from adapters.base import SystemRequest
from lgsp.errors import UpstreamUnavailable
from lgsp.routing.transports import MAX_UPSTREAM_BODY, HttpTransport, http_client
from tests.unit.routing.test_http1 import Server, ok

pytestmark = pytest.mark.anyio

BOMB_SIZE = 320 * 1024 * 1024
"""What the bomb expands to: twenty times the bound."""


def gzip_bomb() -> bytes:
    """~330 KB of valid gzip that inflates to 320 MiB of zeros, built in a blink: after a full
    flush each MiB of zeros compresses to the same bytes, so one is repeated; the trailer's
    checksum and size are those of the whole."""
    mib = bytes(1024 * 1024)
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = packer.compress(mib) + packer.flush(zlib.Z_FULL_FLUSH)  # with the gzip header
    repeated = packer.compress(mib) + packer.flush(zlib.Z_FULL_FLUSH)
    last_block = packer.flush()[:-8]
    count = BOMB_SIZE // len(mib)
    checksum = 0
    for _ in range(count):
        checksum = zlib.crc32(mib, checksum)
    trailer = struct.pack("<II", checksum, BOMB_SIZE & 0xFFFFFFFF)
    return first + repeated * (count - 1) + last_block + trailer


BOMB = gzip_bomb()


class Inflaters:
    """Every zlib inflater made while installed (httpx's and the bus's alike): the most any of
    its calls gave at once, and the threads they ran on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.largest = 0
        self.threads: set[int] = set()
        self.bounded_calls = 0
        made = zlib.decompressobj
        inflaters = self

        class Inflater:
            def __init__(self, *args: Any) -> None:
                self._inflater = made(*args)

            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                decoded = self._inflater.decompress(data, max_length)
                inflaters.largest = max(inflaters.largest, len(decoded))
                inflaters.threads.add(threading.get_ident())
                inflaters.bounded_calls += max_length == MAX_UPSTREAM_BODY + 1
                return decoded

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inflater, name)

        monkeypatch.setattr(zlib, "decompressobj", Inflater)


Send = Callable[[bytes, list[str]], Any]


@pytest.fixture(params=["pooled", "httpx"])
async def send(request: pytest.FixtureRequest) -> AsyncIterator[Send]:
    """Sends a GET to a system answering `body` with the given header lines: over the lean pool
    to a server on loopback, or through httpx (a client that is not `http_client`'s)."""
    started: list[Server] = []

    async def pooled(body: bytes, extra: list[str]) -> Any:
        server = await Server(lambda head, n: ok(body, *extra)).start()
        started.append(server)
        async with http_client(server.url, timeout=10) as client:
            transport = HttpTransport(client, system="dancu")
            return await transport.send(SystemRequest(method="GET", path="/"))

    async def through_httpx(body: bytes, extra: list[str]) -> Any:
        headers = [tuple(line.split(": ", 1)) for line in extra]

        def answer(_request: httpx.Request) -> httpx.Response:
            # A stream, as a client's transport gives: `content=` would be decoded right here.
            return httpx.Response(
                200,
                headers=[("Content-Type", "application/json"), *headers],
                stream=httpx.ByteStream(body),
            )

        mock = httpx.MockTransport(answer)
        async with httpx.AsyncClient(base_url="http://dancu", transport=mock) as client:
            transport = HttpTransport(client, system="dancu")
            return await transport.send(SystemRequest(method="GET", path="/"))

    yield pooled if request.param == "pooled" else through_httpx
    for server in started:
        await server.stop()


async def test_a_gzip_bomb_is_a_502_having_decoded_no_more_than_the_bound(
    send: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(BOMB) < MAX_UPSTREAM_BODY // 40  # small on the wire, below the raw bound
    inflaters = Inflaters(monkeypatch)
    started = time.monotonic()

    with pytest.raises(UpstreamUnavailable, match="answered too much") as refused:
        await send(BOMB, ["Content-Encoding: gzip"])

    assert (refused.value.status, refused.value.code) == (502, "UPSTREAM_UNAVAILABLE")
    assert 0 < inflaters.largest <= MAX_UPSTREAM_BODY + 1
    assert time.monotonic() - started < 10  # 0.5 s on a loaded machine


async def test_a_large_compressed_answer_is_decoded_off_the_event_loop(
    send: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is 16 MiB, 80 ms of inflating: not on the loop, where every call waits."""
    document = {"rows": ["0" * 100] * 20_000}  # 2 MB, beyond what is decoded on the loop
    inflaters = Inflaters(monkeypatch)

    response = await send(gzip.compress(json.dumps(document).encode()), ["Content-Encoding: gzip"])

    assert json.loads(response.body) == document
    assert inflaters.bounded_calls == 1
    assert threading.get_ident() in inflaters.threads  # the first try, on the loop
    assert len(inflaters.threads) == 2  # and the whole, in a worker


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw, as some send
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity, gzip", gzip.compress),
        ("x-unknown", lambda data: data),  # a coding httpx does not know is passed on as is
    ],
)
async def test_a_good_compressed_answer_is_passed_on_decoded(
    send: Send, coding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = json.dumps({"ho_ten": "Nguyễn Văn A", "so_dinh_danh": "0" * 12}).encode()

    response = await send(encode(body), [f"Content-Encoding: {coding}"])

    assert (response.status, response.body) == (200, body)
    assert response.content_type == "application/json"


async def test_more_stacked_codings_than_the_bound_are_a_502(send: Send) -> None:
    body = b'{"ok":1}'
    for _ in range(4):
        body = gzip.compress(body)

    with pytest.raises(UpstreamUnavailable, match="encoded its answer too many times"):
        await send(body, ["Content-Encoding: gzip, gzip", "Content-Encoding: gzip, gzip"])


async def test_a_body_not_in_its_coding_is_a_502(send: Send) -> None:
    with pytest.raises(UpstreamUnavailable, match="did not encode as it said"):
        await send(b"not gzip at all", ["Content-Encoding: gzip"])
