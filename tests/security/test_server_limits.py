"""The server's own limits, through a real `lgsp serve` (SECURITY-PROBE-2026-12 F4, F8): a header
block bounded in bytes while it arrives, and in time; a connection cap; keep-alive limits.

`benchmarks/floods.py` runs the probe's full-size floods and prints the memory they cost.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lgsp.server import DESCRIPTORS_KEPT, server_options
from lgsp.settings import Settings
from tests.fixtures.processes import DEMO_CREDENTIALS, free_port, start_lgsp, stop, wait_ready
from tests.fixtures.sockets import PROC_NET_TCP, unread_bytes

HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
LINE = b"X-a: " + b"b" * 65000 + b"\r\n"
FLOOD_BYTES = 48 * 1024 * 1024
HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 20
KEEPALIVE_MAX_REQUESTS = 3
BODY_TIMEOUT = 1.0
BODY_MIN_RATE = 1024


class Bus:
    def __init__(self, port: int, pid: int) -> None:
        self.port = port
        self.pid = pid
        self.base = f"http://127.0.0.1:{port}"

    def connect(self) -> socket.socket:
        """A blocking connection: no bound of the test's on how soon the server acts (a server
        that never does leaves the test to pytest's timeout, which fails it)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.settimeout(None)
        return sock

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bus]:
    """One bus with tight limits for the whole module: a start costs seconds."""
    data_dir = tmp_path_factory.mktemp("server-limits")
    port = free_port()
    process = start_lgsp(
        ["serve", "--port", str(port), "--data-dir", str(data_dir)],
        env={
            "LGSP_POPULATION": "20",
            "LGSP_SERVER_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "LGSP_SERVER_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            "LGSP_SERVER_KEEPALIVE_MAX_REQUESTS": str(KEEPALIVE_MAX_REQUESTS),
            "LGSP_SERVER_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
            "LGSP_SERVER_BODY_MIN_RATE": str(BODY_MIN_RATE),
        },
        log=data_dir / "bus.log",
    )
    try:
        asyncio.run(wait_ready(f"http://127.0.0.1:{port}", process))
        yield Bus(port, process.pid)
    finally:
        stop(process)


def until_read(port: int) -> None:
    """Once the bus has read all that its connections sent it (accepted each, and begun the
    requests that are whole): what comes next then finds them in the state they were sent in."""
    while unread_bytes(port):
        time.sleep(0.01)


def answer(sock: socket.socket) -> bytes:
    """What the server wrote before it closed the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def flood(sock: socket.socket, prefix: bytes, chunk: bytes) -> None:
    """Sends `prefix`, then `chunk` until FLOOD_BYTES or until the server stops reading."""
    sent = 0
    try:
        sock.sendall(prefix)
        while sent < FLOOD_BYTES:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
@pytest.mark.parametrize(
    ("prefix", "chunk"),
    [(HEAD, LINE), (HEAD + b"X-a: ", b"b" * 65000)],
    ids=["many-header-lines", "one-header-line-that-never-ends"],
)
def test_a_header_block_that_never_ends_is_refused_431_without_buffering_it(
    bus: Bus, prefix: bytes, chunk: bytes
) -> None:
    before = bus.rss_bytes()
    with bus.connect() as sock:
        flood(sock, prefix, chunk)
        grown = bus.rss_bytes() - before
        received = answer(sock)

    assert received.startswith(b"HTTP/1.1 431 "), received[:200]
    assert b'"code": "REQUEST_HEADERS_TOO_LARGE"' in received
    assert grown < FLOOD_BYTES // 4, f"the server grew by {grown / 2**20:.0f} MiB"


def trickle(sock: socket.socket, pause: float) -> None:
    """Sends a byte every `pause` until the server answers or closes the connection (no bound
    of its own, as `Bus.connect`)."""
    while not select.select([sock], [], [], pause)[0]:
        try:
            sock.sendall(b"a")
        except OSError:  # reset: the server closed it
            return


def test_a_header_block_sent_a_byte_at_a_time_is_cut_off_408(bus: Bus) -> None:
    """Each byte comes well within the header timeout, so an idle timeout would never end the
    connection: only a bound on the whole block, from its first byte, cuts it off."""
    with bus.connect() as sock:
        sock.sendall(HEAD + b"X-Slow: ")
        trickle(sock, HEADER_TIMEOUT / 5)
        received = answer(sock)

    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b'"code": "REQUEST_HEADER_TIMEOUT"' in received


def test_a_body_sent_a_byte_at_a_time_is_cut_off(bus: Bus) -> None:
    """The token endpoint reads its form before it knows the client: without a bound on the
    body, trickled bodies would hold connections that the cap cannot take back."""
    head = b"POST /lgsp/kiengiang/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
    head += b"Content-Type: application/x-www-form-urlencoded\r\n\r\ngrant_type="
    with bus.connect() as sock:
        sock.sendall(head)
        trickle(sock, BODY_TIMEOUT / 5)
        received = answer(sock)

    assert received == b""  # closed mid-body, unanswered (`lgsp.server`: no 408 of its own)


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(bus: Bus) -> None:
    """Nothing else closes a connection that never sent a byte (uvicorn's keep-alive timeout
    starts after a response): that it is closed at all is the header timeout's doing."""
    with bus.connect() as sock:
        assert answer(sock) == b""


@pytest.mark.skipif(not PROC_NET_TCP.exists(), reason="reads /proc/net/tcp (Linux)")
def test_trickling_connections_past_the_cap_make_room_for_a_real_call(bus: Bus) -> None:
    socks = [bus.connect() for _ in range(MAX_CONNECTIONS * 2)]
    try:
        for sock in socks:
            sock.sendall(HEAD + b"X-Slow: ")
        until_read(bus.port)
        response = httpx.get(f"{bus.base}/healthz")
        still_open = 0
        for sock in socks:
            sock.setblocking(False)
            try:
                still_open += sock.recv(1) != b""
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
    finally:
        for sock in socks:
            sock.close()

    assert response.status_code == 200
    assert still_open <= MAX_CONNECTIONS


@pytest.mark.skipif(not PROC_NET_TCP.exists(), reason="reads /proc/net/tcp (Linux)")
def test_past_the_cap_with_every_connection_busy_a_new_one_is_answered_503(bus: Bus) -> None:
    slow = b"POST /lgsp/kiengiang/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\ng"
    socks = [bus.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        for sock in socks:
            sock.sendall(slow)  # a request under way: not a connection the cap may take back
        until_read(bus.port)  # else one still unread is idle to the bus, and taken back
        with bus.connect() as sock:
            sock.sendall(HEAD + b"\r\n")
            received = answer(sock)
    finally:
        for sock in socks:
            sock.close()

    assert received.startswith(b"HTTP/1.1 503 "), received[:200]
    assert b'"code": "SERVER_BUSY"' in received


def test_a_keep_alive_connection_is_closed_after_its_last_allowed_request(bus: Bus) -> None:
    with httpx.Client(base_url=bus.base) as http:
        answers = [http.get("/healthz") for _ in range(KEEPALIVE_MAX_REQUESTS)]

    assert [r.status_code for r in answers] == [200] * KEEPALIVE_MAX_REQUESTS
    assert [r.headers.get("connection") for r in answers] == [None, None, "close"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="POSIX descriptor limits")
@pytest.mark.parametrize(
    ("soft", "hard", "cap", "raised_to"),
    [
        (1024, 1024, 1024 - DESCRIPTORS_KEPT, None),
        (1024, 20_000, 1000, 1000 + DESCRIPTORS_KEPT),
        (50_000, 50_000, 1000, None),
    ],
)
def test_the_connection_cap_fits_the_descriptor_limit(
    monkeypatch: pytest.MonkeyPatch, soft: int, hard: int, cap: int, raised_to: int | None
) -> None:
    import resource

    raised: list[int] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, hard))
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: raised.append(limits[0]))

    options = server_options(Settings(_env_file=None))  # type: ignore[call-arg]

    assert options["http"].keywords["limits"].max_connections == cap
    assert raised == ([raised_to] if raised_to else [])


def test_pipelined_requests_and_a_large_body_pass_the_header_bound(bus: Bus) -> None:
    """What counts is the header block: two requests in one write, and a body of many chunks
    sent with its head, are answered as usual."""
    with bus.connect() as sock:
        sock.sendall(HEAD + b"\r\n" + HEAD + b"Connection: close\r\n\r\n")
        pipelined = answer(sock)
    token = httpx.post(
        f"{bus.base}/lgsp/kiengiang/token",
        data={"grant_type": "client_credentials"},
        auth=DEMO_CREDENTIALS,
    ).json()["access_token"]
    body = b" " * (4 * 1024 * 1024) + b"{}"
    head = (
        f"POST /lgsp/kiengiang/dancu/v1/citizens/verify HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with bus.connect() as sock:
        sock.sendall(head.encode() + body)
        large = answer(sock)

    assert pipelined.count(b"HTTP/1.1 200 ") == 2
    assert large.startswith(b"HTTP/1.1 422 "), large[:200]  # read whole, then judged
