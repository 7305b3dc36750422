"""A port another process holds: one line naming it and exit 1, never a "ready" banner."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lgsp.cli import main
from tests.fixtures.processes import free_port

CLEAN_ENV = {"PATH": "/usr/bin:/bin"}


def run_lgsp(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`python -m lgsp ARGV` in a clean environment, its output captured."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=CLEAN_ENV,
        check=False,
    )


@pytest.fixture(name="held_port")
def fx_held_port() -> Iterator[int]:
    """A loopback port that another socket listens on for the test's length."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        yield holder.getsockname()[1]


def test_serve_on_a_held_port_says_so_in_one_line_and_exits_1(
    held_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--port", str(held_port), "--data-dir", str(tmp_path)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert f"port {held_port}" in err
    assert not (tmp_path / "lgsp.db").exists()  # refused before seeding anything


@pytest.mark.processes
@pytest.mark.parametrize(
    "argv",
    [["serve"], ["serve", "--instance", "angiang", "--system", "dancu"]],
    ids=["bus", "system"],
)
def test_lgsp_serve_process_on_a_held_port_prints_no_banner_and_exits_1(
    held_port: int, tmp_path: Path, argv: list[str]
) -> None:
    finished = run_lgsp([*argv, "--port", str(held_port), "--data-dir", str(tmp_path)])
    output = finished.stdout + finished.stderr
    assert finished.returncode == 1, output
    assert "is ready" not in output
    assert "curl" not in output
    assert output.strip().count("\n") == 0, output
    assert f"port {held_port}" in output


@pytest.mark.processes
def test_lgsp_serve_that_cannot_start_exits_1_and_prints_no_banner(tmp_path: Path) -> None:
    """A database that is no database: start-up fails, which is "could not be done"."""
    (tmp_path / "lgsp.db").write_bytes(b"this is no SQLite database " * 100)

    finished = run_lgsp(["serve", "--port", str(free_port()), "--data-dir", str(tmp_path)])

    output = finished.stdout + finished.stderr
    assert finished.returncode == 1, output
    assert "is ready" not in output
    assert output.rstrip().splitlines()[-1].startswith("lgsp: the bus did not start")
