"""Every command exits as the README says: 0 done, 1 could not be done, 2 bad arguments.

In-process (`main`), each command once done, once with bad arguments, and once on a database
that refuses (a data dir whose `lgsp.db` is no database); `lgsp reset` with no bus to reach.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio.to_thread
import pytest

from lgsp.cli import main
from lgsp.tls import ServerTls, bus_tls
from tests.fixtures.processes import free_port

pytestmark = pytest.mark.anyio

KG = ["--instance", "kiengiang"]

WRITES = [
    ["faults", "add", *KG, "latency=10"],
    ["faults", "clear", *KG],
    ["clients", "create", *KG, "--name", "exit-codes", "--service", "dancu"],
    ["tokens", "revoke", "abc", *KG],
]
"""Commands that take `--data-dir` and write: done on a fresh one (they make its database)."""
READS = [
    ["faults", "list", *KG],
    ["clients", "list", *KG],
    ["audit", "verify"],
    ["audit", "export"],
]
"""Commands that take `--data-dir` and only read: done where a bus keeps its database."""
DONE = WRITES + READS

BAD_ARGUMENTS = [
    [],
    ["nosuch"],
    ["serve", "--port", "99999"],
    ["serve", "--port", "http"],
    ["serve", "--workers", "0"],
    ["serve", "--population", "-5"],
    ["faults", "add", *KG, "bogus"],
    ["faults", "add", *KG, "status=503", "--times", "0"],
    ["faults", "remove", *KG, "99"],
    ["faults", "list", "--instance", "atlantis"],
    ["clients", "revoke", *KG, "nobody"],
    ["clients", "create", *KG, "--name", "x", "--service", "nosuch"],
    ["tokens", "revoke", "bad jti!", *KG],
    ["audit", "verify", "--instance", "atlantis"],
    ["audit", "export", "--output", "/"],
    ["reset", "--url", "not a url"],
]


async def exit_code(argv: list[str]) -> int:
    """`lgsp argv`'s exit status: argparse's own errors exit through SystemExit."""
    try:
        return await anyio.to_thread.run_sync(main, argv)
    except SystemExit as stop:
        return int(stop.code or 0)


@pytest.mark.parametrize("argv", DONE, ids=" ".join)
async def test_a_command_that_is_done_exits_0(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv in READS:  # a bus's data dir: a write has made its database
        assert await exit_code([*WRITES[1], "--data-dir", str(tmp_path)]) == 0
    code = await exit_code([*argv, "--data-dir", str(tmp_path)])

    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=lambda argv: " ".join(argv) or "nothing")
async def test_bad_arguments_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    takes_data_dir = argv[:1] in (["faults"], ["clients"], ["tokens"], ["audit"], ["serve"])
    code = await exit_code([*argv, "--data-dir", str(tmp_path)] if takes_data_dir else argv)

    err = capsys.readouterr().err
    assert code == 2, err
    if err.startswith("lgsp: "):  # ours, not argparse's usage: one line
        assert err.count("\n") == 1, err


@pytest.mark.parametrize("argv", DONE, ids=" ".join)
async def test_a_database_that_refuses_exits_1_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lgsp.db").write_bytes(b"this is no SQLite database " * 100)

    code = await exit_code([*argv, "--data-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith("lgsp: ")
    assert err.count("\n") == 1, err


async def test_a_setting_out_of_range_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_TOKEN_TTL_SECONDS", "0")

    code = await exit_code(["clients", "list", "--data-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lgsp: invalid setting: LGSP_TOKEN_TTL_SECONDS: "), err
    assert "(got '0')" in err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize("argv", READS, ids=" ".join)
async def test_a_read_where_no_bus_keeps_a_database_exits_1_and_makes_none(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped `--data-dir` is said so, not reported on as an empty bus ("audit chain
    intact: 0 records")."""
    mistyped = tmp_path / "typo"

    code = await exit_code([*argv, "--data-dir", str(mistyped)])

    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith(f"lgsp: no bus database at {mistyped / 'lgsp.db'}")
    assert err.count("\n") == 1, err
    assert not mistyped.exists()


async def test_reset_with_no_bus_to_reach_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = await exit_code(["reset", "--url", f"http://127.0.0.1:{free_port()}"])

    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1, err


@contextmanager
def https_server(tls: ServerTls) -> Iterator[int]:
    """A listener that completes TLS handshakes with the bus's `--tls` certificate; its port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
                pass  # the client refuses the certificate during the handshake

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


async def test_reset_of_a_tls_bus_not_trusted_names_the_ca_file_to_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tls = bus_tls(tmp_path, ["127.0.0.1"])  # what `lgsp serve --tls --data-dir tmp_path` serves
    monkeypatch.setenv("LGSP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)

    with https_server(tls) as port:
        code = await exit_code(["reset", "--url", f"https://127.0.0.1:{port}"])

    err = capsys.readouterr().err
    assert code == 1, err
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert f"SSL_CERT_FILE={tls.ca_file}" in err
    assert err.count("\n") == 1, err
