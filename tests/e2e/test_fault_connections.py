"""`drop` and `cut`: a connection closed before any byte, or in the middle of the body.

In-process, a server that honours `lgsp.connection`'s extension is acted by `honouring_drops`;
through a real `lgsp serve`, the socket shows what a client gets.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lgsp.cli import main
from lgsp.connection import DROP, ConnectionDropped, honouring_drops, is_drop
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, TEST_POPULATION, TEST_PUBLIC_URL, TEST_SEED, bearer
from tests.fixtures.documents import local_document
from tests.fixtures.processes import demo_token as process_token
from tests.fixtures.processes import free_port, start_lgsp, stop, wait_ready

pytestmark = pytest.mark.anyio

DOCUMENT = local_document("77", subject="V/v kiểm thử lỗi kết nối", date="2025-06-03")


def recording(app: ASGIApp, sent: list[Message]) -> ASGIApp:
    """`app`, every message it sends kept in `sent` (a drop included)."""

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            sent.append(message)
            await send(message)

        await app(scope, receive, recording_send)

    return served


@pytest.fixture(name="cccd")
def fx_cccd() -> str:
    return generate_citizens(province_code="91", seed=TEST_SEED, count=TEST_POPULATION)[
        0
    ].so_dinh_danh


@pytest.fixture(name="sent")
def fx_sent() -> list[Message]:
    return []


@pytest.fixture(name="served")
async def fx_served(app: FastAPI, sent: list[Message]) -> AsyncIterator[httpx.AsyncClient]:
    """`app` as `lgsp serve` serves it: the drop extension offered, and a drop ends the
    exchange as a closed socket does."""
    transport = httpx.ASGITransport(app=honouring_drops(recording(app, sent), []))
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
        yield http


async def hops(client: httpx.AsyncClient, token: str, request_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{KG}/admin/audit?request_id={request_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


@pytest.mark.parametrize("when", ["before", "after"])
async def test_drop_sends_no_byte_of_an_answer_before_closing(
    served: httpx.AsyncClient,
    client: httpx.AsyncClient,
    sent: list[Message],
    demo_token: str,
    cccd: str,
    when: str,
) -> None:
    with pytest.raises(ConnectionDropped):
        await served.get(
            f"{KG}/dancu/v1/citizens/{cccd}",
            headers={
                **bearer(demo_token),
                "X-LGSP-Fault": f"drop; when={when}",
                "X-Request-ID": f"drop-{when}",
            },
        )

    assert [message["type"] for message in sent] == [DROP]
    records = await hops(client, demo_token, f"drop-{when}")
    assert [r["hop"] for r in records] == (
        ["inbound", "fault"] if when == "before" else ["inbound", "upstream", "fault"]
    )


async def test_drop_to_a_client_of_no_server_is_a_protocol_error(
    app: FastAPI, demo_token: str, cccd: str
) -> None:
    """`httpx.ASGITransport` cannot close a socket: the client gets the error a socket gives."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as strict:
        with pytest.raises(httpx.RemoteProtocolError):
            await strict.get(
                f"{KG}/dancu/v1/citizens/{cccd}",
                headers={**bearer(demo_token), "X-LGSP-Fault": "drop"},
            )


@pytest.mark.parametrize("when", ["before", "after"])
async def test_cut_sends_the_status_and_part_of_the_body_then_closes(
    served: httpx.AsyncClient, sent: list[Message], demo_token: str, cccd: str, when: str
) -> None:
    with pytest.raises(ConnectionDropped):
        await served.get(
            f"{KG}/dancu/v1/citizens/{cccd}",
            headers={**bearer(demo_token), "X-LGSP-Fault": f"cut; when={when}"},
        )

    start, body, drop = sent
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    length = int(dict(start["headers"])[b"content-length"])
    assert body["type"] == "http.response.body"
    assert body["more_body"] is True
    assert 0 < len(body["body"]) < length
    assert is_drop(drop)
    if when == "after":  # the real answer's beginning
        assert cccd.encode() in body["body"] or b'"cccd"' in body["body"]


async def test_cut_is_a_rule_of_its_own_kind(client: httpx.AsyncClient, demo_token: str) -> None:
    added = await client.post(
        f"{KG}/admin/faults", json={"cut": True, "when": "after"}, headers=bearer(demo_token)
    )
    both = await client.post(
        f"{KG}/admin/faults", json={"cut": True, "drop": True}, headers=bearer(demo_token)
    )

    assert added.status_code == 201, added.text
    assert added.json()["cut"] is True
    assert both.status_code == 422


async def test_cli_adds_a_cut_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["faults", "add", "--instance", "kiengiang", "cut; when=after"]

    code = await anyio.to_thread.run_sync(main, [*argv, "--data-dir", str(tmp_path)])

    added = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (added["cut"], added["when"]) == (True, "after")


async def test_malformed_keeps_an_operations_202(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = await client.post(
        f"{KG}/qlvb/v1/documents",
        json=DOCUMENT,
        headers={**bearer(demo_token), "X-LGSP-Fault": "malformed; when=after"},
    )

    assert sent.status_code == 202
    with pytest.raises(ValueError, match=r"."):
        json.loads(sent.content)


@pytest.fixture(name="process_base")
async def fx_process_base(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    process = start_lgsp(
        ["serve", "--port", str(port), "--data-dir", str(tmp_path), "--population", "20"],
        log=tmp_path / "bus.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, process)
        yield base
    finally:
        stop(process)
    log = (tmp_path / "bus.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log  # a drop is no error of the server's


def raw_exchange(base: str, path: str, headers: dict[str, str]) -> bytes:
    """Every byte the server sends for one request, until it closes the connection."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    received = b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


@pytest.mark.processes
@pytest.mark.parametrize("when", ["before", "after"])
async def test_lgsp_serve_drop_closes_the_socket_before_any_byte(
    process_base: str, when: str
) -> None:
    async with httpx.AsyncClient() as http:
        token = await process_token(http, f"{process_base}/lgsp/kiengiang")
    cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh

    received = raw_exchange(
        process_base,
        f"/lgsp/kiengiang/dancu/v1/citizens/{cccd}",
        {"Authorization": f"Bearer {token}", "X-LGSP-Fault": f"drop; when={when}"},
    )

    assert received == b""


@pytest.mark.processes
async def test_lgsp_serve_cut_sends_a_status_and_part_of_the_body(process_base: str) -> None:
    kiengiang = f"{process_base}/lgsp/kiengiang"
    cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    async with httpx.AsyncClient() as http:
        token = await process_token(http, kiengiang)
        whole = await http.get(f"{kiengiang}/dancu/v1/citizens/{cccd}", headers=bearer(token))
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(
                f"{kiengiang}/dancu/v1/citizens/{cccd}",
                headers={**bearer(token), "X-LGSP-Fault": "cut; when=after"},
            )

    received = raw_exchange(
        process_base,
        f"/lgsp/kiengiang/dancu/v1/citizens/{cccd}",
        {"Authorization": f"Bearer {token}", "X-LGSP-Fault": "cut; when=after"},
    )
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert f"content-length: {len(whole.content)}".encode() in head.lower()
    assert 0 < len(body) < len(whole.content)
    assert whole.content.startswith(body)
