"""What a start imports: modules only some deployments need wait until they are needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.processes import free_port

LAZY = [
    "aiohttp",
    "sqlalchemy.dialects.postgresql",
    "rich",
    "pygments",
    "mocks",
    "jinja2",
    "lgsp.console.router",
    "lxml",
    "signxml",
]
"""HTTP clients to systems and peers at a `url` (the embedded bus has none), the PostgreSQL
dialect (the bus is on SQLite), and what draws tables and spinners, or httpx's own CLI; the
mock systems (opened once the bus is ready, `lgsp.composition.DeferredSystems`), the console
and the docs page's templates (at their first request), the XML of the trust faults."""


@pytest.mark.processes
def test_starting_the_embedded_bus_imports_only_what_it_uses() -> None:
    """What is imported when the bus is ready: `/healthz` answers 200 from then on."""
    script = (
        "import asyncio, sys, tempfile\n"
        "import lgsp.cli  # as `lgsp serve`: the command's modules first\n"
        "from asgi_lifespan import LifespanManager\n"
        "from lgsp.composition import create_bus\n"
        "from lgsp.settings import Settings\n"
        "def ready(bus):\n"
        f"    print(sorted(m for m in {LAZY!r} if m in sys.modules))\n"
        "async def start():\n"
        "    settings = Settings(_env_file=None, data_dir=tempfile.mkdtemp())\n"
        "    app = create_bus(settings, on_ready=ready)\n"
        "    async with LifespanManager(app, startup_timeout=60):\n"
        "        pass\n"
        "asyncio.run(start())\n"
    )

    finished = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )

    assert finished.stdout.strip() == "[]", finished.stderr


@pytest.mark.processes
def test_httpx_command_line_still_runs_where_lgsp_put_off_its_import() -> None:
    script = "import lgsp.cli, httpx\nhttpx.main(['--help'])\n"

    finished = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )

    assert (finished.returncode, "Usage: httpx" in finished.stdout) == (0, True), finished.stderr


BEFORE_HEALTHZ = ["fastapi", "sqlalchemy", "lgsp.errors", "lgsp.app", "mocks", "wsproto"]
"""What `lgsp serve` answers `/healthz` without (`lgsp.cli._starting`): the bus's frameworks,
its error classes and app, the mocks, and uvicorn's WebSocket protocol (the bus has none)."""


@pytest.mark.processes
def test_lgsp_serve_listens_before_it_imports_the_bus(tmp_path: Path) -> None:
    """`lgsp serve` up to the moment uvicorn would serve: what is imported then."""
    script = (
        "import sys\n"
        "import lgsp.cli._serve as serve\n"
        "from lgsp.cli import main\n"
        "def run_server(app, args, settings, *, sock, **options):\n"
        "    import uvicorn\n"
        "    from lgsp.server import server_options\n"
        "    uvicorn.Config(app, log_config=None, **server_options(settings)).load()\n"
        f"    print(sorted(m for m in {BEFORE_HEALTHZ!r} if m in sys.modules))\n"
        "serve.run_server = run_server\n"
        f"main(['serve', '--port', '{free_port()}', '--data-dir', {str(tmp_path)!r}])\n"
    )

    finished = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )

    assert finished.stdout.strip() == "[]", finished.stderr
