"""The pytest plugin as an integrator's project uses it: a separate pytest run, from a copy of
`examples/integrator`, with the installed package (its `pytest11` entry point) and nothing of
this repository's configuration."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio.to_thread
import psycopg
import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.database import TEST_DATABASE_URL

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "integrator"
RUN_TIMEOUT = 300

pytestmark = pytest.mark.processes


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        # As an integrator runs it: today's era, not the suite's pinned one (tests/conftest.py).
        env={
            **{k: v for k, v in os.environ.items() if k != "LGSP_ERA"},
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


@pytest.fixture
def integrator(tmp_path: Path) -> Path:
    """The example project on its own, outside this checkout (no conftest of ours above it)."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "integrator"))


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["inprocess", "port"])
async def test_the_example_integrator_suite_passes_against_the_bus(
    integrator: Path, mode: str, engine: AsyncEngine, database_url: str
) -> None:
    """SQLite: the plugin's default temporary file; PostgreSQL: this run's schema (`engine`)."""
    database = [] if database_url.startswith("sqlite") else [f"--lgsp-database-url={database_url}"]

    run = await anyio.to_thread.run_sync(
        lambda: run_pytest(integrator, "-q", f"--lgsp-mode={mode}", *database)
    )

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Every test of the example, none skipped; the async one once per anyio backend installed
    # (trio comes with the browser tier's selenium).
    expected = 11 if importlib.util.find_spec("trio") else 10
    assert f"{expected} passed" in run.stdout


def test_a_failing_integrator_test_fails_the_run(integrator: Path) -> None:
    (integrator / "tests" / "test_wrong.py").write_text(
        "def test_a_wrong_expectation(lgsp_client, lgsp):\n"
        "    answer = lgsp_client.get(f\"{lgsp.base_url('kiengiang')}/dancu/v1/citizens/123\")\n"
        "    assert answer.status_code == 200\n"
    )

    run = run_pytest(integrator, "-q", "tests/test_wrong.py")

    assert run.returncode == 1, run.stdout[-4000:]
    assert "1 failed" in run.stdout


def test_a_suite_that_asks_for_no_bus_starts_none(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n"
        "def test_nothing_of_the_bus_is_loaded():\n"
        "    assert 'lgsp.app' not in sys.modules\n"
    )

    run = run_pytest(tmp_path, "-q", "--strict-config", "test_plain.py")

    assert run.returncode == 0, run.stdout[-4000:]
    assert "1 passed" in run.stdout


@pytest.mark.parametrize(
    "option", ["--lgsp-mode=socket", "--lgsp-seed=forty-two", "--lgsp-population=many"]
)
def test_a_bad_option_is_a_usage_error(tmp_path: Path, option: str) -> None:
    (tmp_path / "test_plain.py").write_text("def test_nothing():\n    pass\n")

    run = run_pytest(tmp_path, "-q", option, "test_plain.py")

    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "--lgsp-" in run.stderr


BUS_TESTS = """
import pytest


def verifications(lgsp, http, times):
    base, headers = lgsp.base_url("angiang"), lgsp.headers("angiang")
    cccd = http.get(f"{base}/admin/samples", headers=headers).json()["samples"]["cccd"][0]
    citizen = http.get(f"{base}/dancu/v1/citizens/{cccd}", headers=headers).json()
    claim = {key: citizen[key] for key in ("cccd", "full_name", "date_of_birth")}
    return [
        http.post(f"{base}/dancu/v1/citizens/verify", json=claim, headers=headers).status_code
        for _ in range(times)
    ]


def test_the_token_is_for_the_eras_first_province(lgsp, lgsp_client, lgsp_token):
    assert lgsp.default_instance == "angiang"
    answer = lgsp_client.get(
        f"{lgsp.base_url('angiang')}/services", headers={"Authorization": f"Bearer {lgsp_token}"}
    )
    assert answer.status_code == 200, answer.text


def test_claims_are_checked_as_often_as_the_test_needs(lgsp, lgsp_client, pytestconfig):
    statuses = verifications(lgsp, lgsp_client, 15)
    if pytestconfig.getoption("lgsp_verify_rate", None):  # opted in: lgsp serve's limit
        assert statuses[:10] == [200] * 10 and 429 in statuses, statuses
    else:
        assert statuses == [200] * 15, statuses


@pytest.mark.parametrize("turn", range(4))
def test_each_turn_gets_a_token(lgsp, turn):
    assert lgsp.token("dongthap")
"""


@pytest.fixture
def bus_tests(tmp_path: Path) -> Path:
    (tmp_path / "test_bus.py").write_text(BUS_TESTS)
    return tmp_path


def test_the_defaults_serve_todays_map_and_never_throttle_a_test(bus_tests: Path) -> None:
    """No option: `lgsp_token` is An Giang's (today's era has no Kiên Giang of its own), and a
    test may verify more claims than `lgsp serve` allows a minute."""
    run = run_pytest(bus_tests, "-q", "test_bus.py", "-k", "not turn")

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout


def test_the_verify_limit_is_opt_in(bus_tests: Path) -> None:
    run = run_pytest(bus_tests, "-q", "test_bus.py", "-k", "claims", "--lgsp-verify-rate=30")

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def run_twice(bus_tests: Path, database_url: str) -> None:
    """The bus's tests on `database_url`: once, then again on two workers; each run passes."""
    database = f"--lgsp-database-url={database_url}"
    first = run_pytest(bus_tests, "-q", "test_bus.py", "-k", "turn", database)
    second = run_pytest(bus_tests, "-q", "test_bus.py", "-k", "turn", database, "-n", "2")

    for run in (first, second):
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert "4 passed" in run.stdout


def test_one_sqlite_file_serves_every_run_and_every_worker(bus_tests: Path) -> None:
    """As on PostgreSQL: a run on the file an earlier run filled could not open its keys, and
    two workers on one file would wait on each other's locks and reset each other's data. Each
    session works in a file of its own beside the one given, removed at its end."""
    folder = bus_tests / "data"
    folder.mkdir()

    run_twice(bus_tests, f"sqlite:///{folder / 'bus.db'}")

    assert list(folder.iterdir()) == []  # no file of a run, and the given one left as it was


@pytest.fixture
def own_database() -> Iterator[str]:
    """A database of the test's own on the test server, as a user gives the plugin one."""
    if not TEST_DATABASE_URL:
        pytest.skip("LGSP_TEST_DATABASE_URL is not set: the PostgreSQL case needs a server")
    server = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
    name = f"lgsp_plugin_{os.getpid()}"
    with psycopg.connect(server.render_as_string(False), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield server.set(database=name).render_as_string(False)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgresql
def test_one_postgresql_database_serves_every_run_and_every_worker(
    bus_tests: Path, own_database: str
) -> None:
    """The bus seals its keys with its data dir's secret, new each session: each session (each
    xdist worker) works in a schema of its own, dropped at its end, never in another's."""
    run_twice(bus_tests, own_database)

    with psycopg.connect(own_database) as connection:
        left = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')"
        ).fetchone()
    assert left == (0,)  # no schema of a run, and nothing in public


SHADOWING_PROJECT = {
    "mocks/__init__.py": '"""The project\'s own test doubles."""\n',
    "test_with_the_bus.py": "def test_one(lgsp):\n    pass\n\ndef test_two(lgsp):\n    pass\n",
    "test_without_the_bus.py": "import mocks\n\ndef test_mine():\n    assert mocks.__doc__\n",
}


def test_a_project_package_hiding_the_bus_is_named_at_start(tmp_path: Path) -> None:
    """`python -m pytest` puts the project first on `sys.path`: its `mocks` hides the bus's."""
    for name, content in SHADOWING_PROJECT.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(content)

    with_bus = run_pytest(tmp_path, "-q", "test_with_the_bus.py")
    without = run_pytest(tmp_path, "-q", "test_without_the_bus.py")

    output = with_bus.stdout + with_bus.stderr
    assert with_bus.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "1 error" in output  # the first test's, then the run stops
    assert "Interrupted: lgsp-mock-bus cannot start" in output
    assert f"`mocks` ({tmp_path.resolve() / 'mocks'})" in output
    assert "Rename your package" in output
    assert "ModuleNotFoundError" not in output
    assert without.returncode == 0, without.stdout  # the plugin leaves a suite without bus alone
