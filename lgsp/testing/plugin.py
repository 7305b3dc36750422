"""pytest plugin: the whole bus for an integrator's test suite, fresh for every test.

Installing `lgsp-mock-bus` registers this plugin (entry point `pytest11: lgsp`); nothing needs
to be imported, and no fixture is autouse: a suite that asks for none of them is untouched.

Fixtures:

- `lgsp_bus` (session): the bus, started once for the session (`lgsp.testing.LgspBus`):
  `url`, `base_url(instance)`, `instances`, `client()` / `async_client()`,
  `transport()` / `async_transport()`, `token(instance)`, `headers(instance)`, `reset()`.
- `lgsp` (function): the same bus, reset to its seeded state before the test
  (`POST {base}/admin/reset`, tens of milliseconds). Use this one unless a test must see
  what an earlier one left.
- `lgsp_client` (function): an `httpx.Client` on the fresh bus's root URL.
- `lgsp_token` (function): the demo client's token at the default instance (`lgsp_instance`).

Options, on the command line or as ini keys (`[tool.pytest.ini_options]`); the command line
wins:

- `--lgsp-mode` / `lgsp_mode`: `inprocess` (default; no port, clients reach the bus through
  `lgsp_bus.transport()`) or `port` (a real server on a free loopback port, for code under
  test that opens its own connections).
- `--lgsp-seed` / `lgsp_seed`: seed of the generated data (default: the bus's, 2024).
- `--lgsp-population` / `lgsp_population`: citizens per province (default 200).
- `--lgsp-database-url` / `lgsp_database_url`: default a temporary SQLite file per session;
  a PostgreSQL URL works (the bus creates its tables; a reset before each test clears data).
- `--lgsp-instances` / `lgsp_instances`: comma-separated instances to serve (default all).
- `lgsp_instance`: the instance `lgsp_token` is for (default `kiengiang`).

Other `LGSP_*` environment variables (`LGSP_TOPOLOGY_FILE`, …) apply as they do to
`lgsp serve`. With pytest-xdist each worker starts a bus of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from lgsp.testing import BusOptions, LgspBus

DEFAULT_INSTANCE = "kiengiang"
_OPTIONS = (
    ("mode", "inprocess|port: in this process without a port (default), or on a free port"),
    ("seed", "seed of the bus's generated data (default: the bus's own)"),
    ("population", "citizens per province (default: the bus's own, 200)"),
    ("database-url", "database of the bus (default: a temporary SQLite file)"),
    ("instances", "comma-separated instances to serve (default: all)"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lgsp", "LGSP mock bus")
    for name, help_text in _OPTIONS:
        group.addoption(f"--lgsp-{name}", dest=f"lgsp_{name.replace('-', '_')}", help=help_text)
        parser.addini(f"lgsp_{name.replace('-', '_')}", help_text, default=None)
    parser.addini("lgsp_instance", "instance of the lgsp_token fixture", default=DEFAULT_INSTANCE)


@dataclass(frozen=True)
class _Chosen:
    mode: str
    seed: int | None
    population: int | None
    database_url: str | None
    instances: list[str] | None


_CHOSEN = pytest.StashKey[_Chosen]()


def pytest_configure(config: pytest.Config) -> None:
    """Check the options once, before any test runs: a typo is a usage error, not N errors."""
    mode = _option(config, "lgsp_mode") or "inprocess"
    if mode not in ("inprocess", "port"):
        raise pytest.UsageError(f"--lgsp-mode must be inprocess or port, not {mode!r}")
    instances = _option(config, "lgsp_instances")
    config.stash[_CHOSEN] = _Chosen(
        mode=mode,
        seed=_integer(config, "lgsp_seed"),
        population=_integer(config, "lgsp_population"),
        database_url=_option(config, "lgsp_database_url"),
        instances=[i.strip() for i in instances.split(",") if i.strip()] if instances else None,
    )


def bus_options(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> BusOptions:
    """The options of the session's bus, from the command line, then the ini file."""
    from lgsp.testing import MODES, BusOptions

    chosen = config.stash[_CHOSEN]
    mode = chosen.mode
    if mode not in MODES:  # pragma: no cover - pytest_configure refused it
        raise pytest.UsageError(f"unknown --lgsp-mode {mode!r}")
    return BusOptions(
        data_dir=tmp_path_factory.mktemp("lgsp"),
        mode=mode,
        seed=chosen.seed,
        population=chosen.population,
        database_url=chosen.database_url,
        instances=chosen.instances,
    )


@pytest.fixture(scope="session")
def lgsp_bus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LgspBus]:
    """The whole bus, started once per session; not reset (ask for `lgsp` for that)."""
    from lgsp.testing import start_bus

    with start_bus(bus_options(request.config, tmp_path_factory)) as bus:
        yield bus


@pytest.fixture
def lgsp(lgsp_bus: LgspBus) -> LgspBus:
    """The session's bus, back to its seeded state for this test."""
    lgsp_bus.reset()
    return lgsp_bus


@pytest.fixture
def lgsp_client(lgsp: LgspBus) -> Iterator[httpx.Client]:
    """An `httpx.Client` on the fresh bus's root URL (`lgsp.url`); paths start with `{base}`."""
    with lgsp.client() as client:
        yield client


@pytest.fixture
def lgsp_token(lgsp: LgspBus, request: pytest.FixtureRequest) -> str:
    """The demo client's access token at the `lgsp_instance` instance (default kiengiang)."""
    instance: str = request.config.getini("lgsp_instance") or DEFAULT_INSTANCE
    return lgsp.token(instance)


def _option(config: pytest.Config, name: str) -> str | None:
    given = config.getoption(name)
    if given is not None:
        return str(given)
    from_ini = config.getini(name)
    return str(from_ini) if from_ini else None


def _integer(config: pytest.Config, name: str) -> int | None:
    value = _option(config, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        flag = name.replace("_", "-")
        raise pytest.UsageError(f"--{flag} must be an integer, not {value!r}") from None
