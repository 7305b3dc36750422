"""The pytest plugin as an integrator's project uses it: a separate pytest run, from a copy of
`examples/integrator`, with the installed package (its `pytest11` entry point) and nothing of
this repository's configuration."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio.to_thread
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

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
