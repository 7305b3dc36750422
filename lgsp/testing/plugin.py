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
- `lgsp_token` (function): the demo client's token at the `lgsp_instance` instance.

Options, on the command line or as ini keys (`[tool.pytest.ini_options]`); the command line
wins:

- `--lgsp-mode` / `lgsp_mode`: `inprocess` (default; no port, clients reach the bus through
  `lgsp_bus.transport()`) or `port` (a real server on a free loopback port, for code under
  test that opens its own connections).
- `--lgsp-seed` / `lgsp_seed`: seed of the generated data (default: the bus's, 2024).
- `--lgsp-population` / `lgsp_population`: citizens per province (default 200).
- `--lgsp-database-url` / `lgsp_database_url`: default a temporary SQLite file per session.
  Each session (each pytest-xdist worker) works apart in the database given, and removes its
  part at its end (`lgsp.testing._database`): on PostgreSQL a schema of its own,
  `lgsp_pytest_<pid>_<random>`; on SQLite a file of its own beside the one given,
  `<name>-lgsp_pytest_<pid>_<random>.db`. The same URL serves every run.
- `--lgsp-instances` / `lgsp_instances`: comma-separated instances to serve (default all).
- `--lgsp-verify-rate` / `lgsp_verify_rate`: citizen verifications (and dossier filings) each
  client may make a minute; default 0, no limit: a test double does not throttle by surprise.
  Give `lgsp serve`'s 30 to test how your code meets its 429.
- `lgsp_instance` (ini only): the instance `lgsp_token` is for; default the first province the
  bus serves (`LgspBus.default_instance`: `angiang` in today's era, `kiengiang` in 2024).

Other `LGSP_*` environment variables (`LGSP_ERA`, `LGSP_TOPOLOGY_FILE`, …) apply as they do
to `lgsp serve`, except `LGSP_VERIFY_RATE_PER_MINUTE` (the option above). With pytest-xdist
each worker starts a bus of its own.

The bus fails to start, with one message, when the project has a top-level package that hides
one of the bus's (`mocks`, `adapters`, `formats`, `kit`: `lgsp.testing._shadowing`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    import httpx

    from lgsp.testing import BusOptions, LgspBus

_OPTIONS = (
    ("mode", "inprocess|port: in this process without a port (default), or on a free port"),
    ("seed", "seed of the bus's generated data (default: the bus's own)"),
    ("population", "citizens per province (default: the bus's own, 200)"),
    ("database-url", "database of the bus (default: a temporary SQLite file)"),
    ("instances", "comma-separated instances to serve (default: all)"),
    ("verify-rate", "citizen verifications a client may make a minute (default: 0, no limit)"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lgsp", "LGSP mock bus")
    for name, help_text in _OPTIONS:
        group.addoption(f"--lgsp-{name}", dest=f"lgsp_{name.replace('-', '_')}", help=help_text)
        parser.addini(f"lgsp_{name.replace('-', '_')}", help_text, default=None)
    parser.addini(
        "lgsp_instance", "instance of the lgsp_token fixture (default: the first province)"
    )


@dataclass(frozen=True)
class _Chosen:
    mode: str
    seed: int | None
    population: int | None
    database_url: str | None
    instances: list[str] | None
    verify_rate: float


_CHOSEN = pytest.StashKey[_Chosen]()
_N = TypeVar("_N", int, float)


def pytest_configure(config: pytest.Config) -> None:
    """Check the options once, before any test runs: a typo is a usage error, not N errors."""
    mode = _option(config, "lgsp_mode") or "inprocess"
    if mode not in ("inprocess", "port"):
        raise pytest.UsageError(f"--lgsp-mode must be inprocess or port, not {mode!r}")
    instances = _option(config, "lgsp_instances")
    config.stash[_CHOSEN] = _Chosen(
        mode=mode,
        seed=_number(config, "lgsp_seed", int),
        population=_number(config, "lgsp_population", int),
        database_url=_option(config, "lgsp_database_url"),
        instances=[i.strip() for i in instances.split(",") if i.strip()] if instances else None,
        verify_rate=_number(config, "lgsp_verify_rate", float) or 0.0,
    )
    if not 0 <= config.stash[_CHOSEN].verify_rate < float("inf"):
        raise pytest.UsageError("--lgsp-verify-rate must be 0 (no limit) or a positive number")


def bus_options(
    config: pytest.Config, tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> BusOptions:
    """The options of the session's bus, from the command line, then the ini file; on
    `database_url` (the chosen one, the session's own part of it)."""
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
        database_url=database_url,
        instances=chosen.instances,
        # Not `lgsp serve`'s 30 a minute: a test filing its eleventh dossier is not an attack.
        settings_overrides={"verify_rate_per_minute": chosen.verify_rate},
    )


@pytest.fixture(scope="session")
def lgsp_bus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LgspBus]:
    """The whole bus, started once per session; not reset (ask for `lgsp` for that)."""
    from lgsp.testing import start_bus
    from lgsp.testing._database import own_database
    from lgsp.testing._shadowing import shadowed_packages, shadowing_message

    shadowed = shadowed_packages()
    if shadowed:  # one error, then the run stops: every other test would fail the same way
        request.session.shouldstop = "lgsp-mock-bus cannot start"
        pytest.fail(shadowing_message(shadowed), pytrace=False)
    chosen = request.config.stash[_CHOSEN].database_url
    with contextlib.ExitStack() as stack:
        url = None if chosen is None else stack.enter_context(own_database(chosen))
        yield stack.enter_context(start_bus(bus_options(request.config, tmp_path_factory, url)))


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
    """The demo client's access token at the `lgsp_instance` instance (default: the first
    province served, `lgsp.default_instance`)."""
    instance: str = request.config.getini("lgsp_instance") or lgsp.default_instance
    return lgsp.token(instance)


def _option(config: pytest.Config, name: str) -> str | None:
    given = config.getoption(name)
    if given is not None:
        return str(given)
    from_ini = config.getini(name)
    return str(from_ini) if from_ini else None


def _number(config: pytest.Config, name: str, kind: type[_N]) -> _N | None:
    value = _option(config, name)
    if value is None:
        return None
    try:
        number = kind(value)
    except ValueError:
        flag = name.replace("_", "-")
        what = "an integer" if kind is int else "a number"
        raise pytest.UsageError(f"--{flag} must be {what}, not {value!r}") from None
    return number
