"""The composition root: the gateway wired to the mock systems. The one `lgsp` module that
imports `mocks`.

The gateway (`lgsp.app.create_app`) runs whatever embedded systems it is handed; this module
hands it the mocks (`MOCK_SYSTEMS`) and offers the wired bus, `create_bus`, which every caller
that wants the whole bus uses: `lgsp serve` and its workers, the pytest plugin, the published
examples, the benchmarks and the tests. The mocks stay systems outside the bus (DESIGN.md §3):
this module translates what the bus tells an embedded system (`SystemContext`) into what a mock
is configured with (`mocks.config.SystemConfig`), and nothing in the mocks knows the gateway.

Tools that build on the mocks' seeded data (the examples of the published contracts,
`lgsp.cli._openapi_examples`) find it here too, so that this module lists everything the
gateway package takes from `mocks`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from lgsp.app import OnReady, create_app
from lgsp.routing.systems import (
    DirectSource,
    EmbeddedSystem,
    SystemContext,
    SystemFactory,
    SystemRegistry,
)
from lgsp.routing.transports import DirectAnswer, DirectCall
from lgsp.settings import Settings

if TYPE_CHECKING:  # imported when first used (`__getattr__`, the factories): not at start-up
    from collections.abc import AsyncIterator

    import httpx

    from lgsp.auth.keys import KeyForge
    from lgsp.state import BusState
    from mocks.config import SystemConfig
    from mocks.dancu.seed import CitizenRecord, generate_citizens
    from mocks.directory.agencies import CENTRAL_AGENCIES, agencies_of, find_agency
    from mocks.dvc.procedures import PROCEDURES, procedure_code_under
    from mocks.dvc.seed import PlannedDossier, plan_dossiers, seeded_dossier_codes

logger = logging.getLogger(__name__)

__all__ = [
    "CENTRAL_AGENCIES",
    "MOCK_SYSTEMS",
    "PROCEDURES",
    "CitizenRecord",
    "PlannedDossier",
    "agencies_of",
    "create_bus",
    "find_agency",
    "generate_citizens",
    "mock_config",
    "plan_dossiers",
    "procedure_code_under",
    "seeded_dossier_codes",
]


def mock_config(context: SystemContext, system: str | None = None) -> SystemConfig:
    """What a mock is told when the bus runs it: its instance, the seed, the database of the
    systems (`Settings.systems_database_url`), and, for a mock that calls services through its
    LGSP, its client there and the dialect the topology gives `system` to call it in."""
    from mocks.config import SystemConfig

    instance, settings = context.instance, context.settings
    config = SystemConfig(
        instance=instance.name,
        province_code=instance.seed_code,
        province_name=instance.title.removeprefix("LGSP "),
        era=settings.era,
        provinces=dict(context.provinces),
        seed=settings.seed,
        population=settings.population,
        database_url=settings.systems_database_url,
        trusted_roots_pem=(
            settings.trusted_roots_file.read_text(encoding="ascii")
            if settings.trusted_roots_file is not None
            else ""
        ),
        signature_policy=settings.signature_policies.get(instance.name, "report"),
        trust_refresh_seconds=settings.crl_cache_seconds,
        clock_skew_seconds=settings.document_clock_skew_seconds,
        central_agencies=dict(settings.central_agencies),
        sole_writer=settings.systems_sole_writer_here,
    )
    if context.bus is None:
        return config
    spec = instance.system(system) if system is not None else None
    return config.model_copy(
        update={
            "bus_url": context.bus.base_url,
            "bus_client_id": context.bus.client_id,
            "bus_client_secret": SecretStr(context.bus.client_secret),
            "bus_dialect": spec.dialect if spec is not None else "bus",
        }
    )


def _agencies(context: SystemContext) -> dict[str, str]:
    """The agencies a province's document system serves: organ id → name; in era 2026 today's
    bodies too, which send and report (the seed's documents since 1 July 2025) beside the old."""
    from mocks.directory.agencies import AGENCIES, TODAYS_AGENCIES

    code = context.instance.seed_code or ""
    today = TODAYS_AGENCIES.get(code, ()) if context.settings.era == "2026" else ()
    agencies = AGENCIES.get(code, ()) + today
    return {agency.organ_id: agency.name for agency in agencies}


def _central_bodies(context: SystemContext) -> dict[str, str]:
    """The central bodies the national axis serves itself: VPCP and the configured ones."""
    from mocks.directory.agencies import central_agencies

    return dict(central_agencies(context.settings.central_agencies))


def _document_system_config(context: SystemContext) -> SystemConfig:
    """A document system's configuration, with a key and certificate for each of its agencies
    from the bus's test CA: handed to it at provisioning, as an agency's token is handed to
    its clerks (the mock never reaches into the bus for them)."""
    from lgsp.ca.authority import certificate_pem, key_pem
    from lgsp.ca.store import CertificateAuthority

    config = mock_config(context)
    if not context.settings.mocks_sign:
        return config
    ca = CertificateAuthority(context.settings.data_dir)
    now = datetime.now(UTC)
    root = certificate_pem(ca.root(now=now))
    identities = {
        organ_id: SecretStr((key_pem(i.key) + certificate_pem(i.certificate) + root).decode())
        for organ_id, i in ca.ensure_all(_agencies(context), now=now).items()
    }
    return config.model_copy(update={"signing_identities": identities})


def _citizen_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    from mocks.dancu.seed import generate_citizens

    config = mock_config(context)
    if config.province_code is None:
        return {}
    citizens = generate_citizens(
        province_code=config.province_code, seed=config.seed, count=min(count, config.population)
    )
    return {"cccd": [citizen.so_dinh_danh for citizen in citizens]}


def _dvc_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    from mocks.directory.agencies import agencies_of
    from mocks.dvc.procedures import PROCEDURES, procedure_code_under
    from mocks.dvc.seed import seeded_dossier_codes

    config = mock_config(context)
    if config.province_code is None:
        return {}
    letter = agencies_of(config.province_code, era=config.era)[0].letter_code
    return {
        # under the level-1 code of the era's bodies today (H01 in 2026, H33 in 2024)
        "procedure": [
            procedure_code_under(procedure.code, letter) for procedure in PROCEDURES[:count]
        ],
        "dossier": seeded_dossier_codes(
            province_code=config.province_code,
            seed=config.seed,
            population=config.population,
            era=config.era,
        )[:count],
    }


def _organisation_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    """The bodies of the instance's province today (in era 2024, the seeded ones)."""
    from mocks.directory.agencies import AGENCIES, agencies_of

    code = context.instance.seed_code or ""
    if code not in AGENCIES:
        return {"organ_id": []}
    agencies = agencies_of(code, era=context.settings.era)
    return {"organ_id": [agency.organ_id for agency in agencies][:count]}


def _national_citizen_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    from mocks.csdlqgdc.app import sample_numbers as national_citizen_samples

    return national_citizen_samples(mock_config(context), count)


def _national_dossier_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    from mocks.dvcqg.seed import sample_dossiers as national_dossier_samples

    return national_dossier_samples(mock_config(context), count)


def _unit_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    """Old units the seed uses: each has today's successors (`/units/{code}/successors`)."""
    from mocks.directory.admin_units import ADMIN_UNITS

    return {"unit_code": sorted(ADMIN_UNITS.ward_successors)[:count]}


def _bus(context: SystemContext) -> httpx.AsyncBaseTransport | None:
    """How a mock that calls the bus reaches it: in-process, when the bus runs the mock."""
    return context.bus.transport if context.bus is not None else None


def _dancu(context: SystemContext) -> FastAPI:
    from mocks.dancu.app import create_app as create_dancu_app

    return create_dancu_app(mock_config(context))


def _dancu_direct(app: FastAPI) -> DirectCall | None:
    from mocks.direct import direct_answers

    return direct_answers(app)


def _dvc(context: SystemContext) -> FastAPI:
    from mocks.dvc.app import create_app as create_dvc_app

    return create_dvc_app(mock_config(context, "dvc"), bus_transport=_bus(context))


def _qlvb(context: SystemContext) -> FastAPI:
    from mocks.qlvb.app import create_app as create_qlvb_app

    return create_qlvb_app(_document_system_config(context), bus_transport=_bus(context))


def _csdlqgdc(context: SystemContext) -> FastAPI:
    from mocks.csdlqgdc.app import create_app as create_csdlqgdc_app

    return create_csdlqgdc_app(mock_config(context))


def _dmhc(context: SystemContext) -> FastAPI:
    from mocks.dmhc.app import create_app as create_dmhc_app

    return create_dmhc_app(mock_config(context))


def _dvcqg(context: SystemContext) -> FastAPI:
    from mocks.dvcqg.app import create_app as create_dvcqg_app

    return create_dvcqg_app(mock_config(context))


def _vdxp(context: SystemContext) -> FastAPI:
    from mocks.vdxp.app import create_app as create_vdxp_app

    return create_vdxp_app(mock_config(context), bus_transport=_bus(context))


MOCK_SYSTEMS: SystemRegistry = {
    "dancu": EmbeddedSystem(
        _dancu,
        samples=_citizen_samples,
        direct=_dancu_direct,  # the citizen lookup, called without ASGI (issue 21)
    ),
    "dvc": EmbeddedSystem(
        _dvc,
        # verifies applicants in the citizen database (non-residents in the national one,
        # through NDXP); syncs every status change to DVCQG (in the OpenCPS dialect, looking
        # each dossier up first: TraCuuHoSo)
        bus_rights={"dancu": "GET,POST", "csdlqgdc": "POST", "dvcqg": "GET,POST"},
        samples=_dvc_samples,
    ),
    "qlvb": EmbeddedSystem(
        _qlvb,
        # Documents and statuses for other provinces; the national trail of what it sent, for
        # the sender's trace of a document the axis could not forward (issue 17).
        bus_rights={"vdxp": "GET,POST"},
        samples=_organisation_samples,
        organisations=_agencies,
    ),
    "csdlqgdc": EmbeddedSystem(_csdlqgdc, samples=_national_citizen_samples),
    "dmhc": EmbeddedSystem(_dmhc, samples=_unit_samples),
    "dvcqg": EmbeddedSystem(_dvcqg, samples=_national_dossier_samples),
    # hands documents and statuses to the recipient's province
    "vdxp": EmbeddedSystem(_vdxp, bus_rights={"qlvb": "POST"}, central=_central_bodies),
}
"""Every mock system, by the name topology files give it. Each factory imports its mock when
called: the mocks are not imported by `lgsp serve` until the bus has started (`create_bus`)."""

_EXPORTED = {
    "ADMIN_UNITS": "mocks.directory.admin_units",
    "PROVINCES": "mocks.directory.agencies",
    "CENTRAL_AGENCIES": "mocks.directory.agencies",
    "agencies_of": "mocks.directory.agencies",
    "find_agency": "mocks.directory.agencies",
    "PROCEDURES": "mocks.dvc.procedures",
    "procedure_code_under": "mocks.dvc.procedures",
    "CitizenRecord": "mocks.dancu.seed",
    "generate_citizens": "mocks.dancu.seed",
    "PlannedDossier": "mocks.dvc.seed",
    "plan_dossiers": "mocks.dvc.seed",
    "seeded_dossier_codes": "mocks.dvc.seed",
}


def __getattr__(name: str) -> Any:
    """The seeded data's helpers that tools take from here, imported when first asked for."""
    if name in _EXPORTED:
        return getattr(import_module(_EXPORTED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _issue_identities(context: SystemContext) -> None:
    """A document system's keys and certificates from the test CA, made before its app is
    built, in a thread: the RSA key of a first start then runs beside the event loop."""
    if context.settings.mocks_sign:
        from lgsp.ca.store import CertificateAuthority

        ca = CertificateAuthority(context.settings.data_dir)
        ca.ensure_all(_agencies(context), now=datetime.now(UTC))


MADE_AHEAD: dict[str, Callable[[SystemContext], None]] = {"qlvb": _issue_identities}
"""Work a system's factory would do that runs in a thread, before the factory runs on the
event loop (`DeferredSystems`): the factory finds it done."""


class DeferredSystems:
    """The embedded systems of one bus, opened after it is ready, in the background.

    `create_app` runs each system's lifespan (its tables, its seed, a document system's keys
    from the test CA) before the bus answers; most of a start went there and into importing
    the mocks. Here the gateway is handed, for each system, a stand-in (`_DeferredApp`) whose
    lifespan returns at once; the real systems are imported, built (a document system's CA
    keys made first in a thread, `MADE_AHEAD`) and started one after another once the bus is
    ready (`start`), and a call to a system that is not open yet waits for it to be. `/healthz`
    stays honest: every call is answered as before, only a call that needs a system still
    opening is answered once it is open. `opened` waits for them all (the banner).
    """

    def __init__(self, ahead: Mapping[str, Callable[[SystemContext], None]] = MADE_AHEAD) -> None:
        self._ahead = ahead
        self._apps: list[_DeferredApp] = []
        self._queue: list[_DeferredApp] = []
        self._opener: asyncio.Task[None] | None = None
        self._paused = False

    def registry(self, systems: SystemRegistry) -> SystemRegistry:
        """`systems` with each factory replaced by one that builds a stand-in."""
        return {
            name: replace(
                entry,
                factory=self._deferring(name, entry.factory),
                direct=_once_open(entry.direct) if entry.direct is not None else None,
            )
            for name, entry in systems.items()
        }

    def _deferring(self, name: str, factory: SystemFactory) -> SystemFactory:
        def stand_in(context: SystemContext) -> FastAPI:
            app = _DeferredApp(
                self,
                factory,
                context,
                name=f"{context.instance.name}/{name}",
                ahead=self._ahead.get(name),
            )
            self._apps.append(app)
            self._queue.append(app)
            return app

        return stand_in

    def start(self, first: _DeferredApp | None = None) -> None:
        """Open every system not yet open, one after another in the order the bus asked for
        them; `first` (a system a call waits for) before the others still waiting. While
        paused, only the order changes: the call waits for `resume`."""
        if first is not None and first in self._queue:
            self._queue.remove(first)
            self._queue.insert(0, first)
        if self._paused:
            return
        if self._queue and (self._opener is None or self._opener.done()):
            self._opener = asyncio.create_task(self._open_queued(), name="open the systems")

    async def _open_queued(self) -> None:
        while self._queue and not self._paused:
            await self._queue.pop(0).open()

    async def pause(self) -> None:
        """Let the system opening now finish, and open no other until `resume`, not even one a
        call waits for: for a caller about to stop running the event loop for a while. A system
        caught mid-opening would keep its database's write lock all that time, and a statement
        that another task had handed to its driver's thread would wait out SQLite's busy timeout
        and fail ("database is locked"): the test suite's loop runs only during async tests,
        and a reset between tests found a system that had failed to open that way. A background
        task's call (the outbox worker's) waits meanwhile, as it would for a slow system."""
        self._paused = True
        if self._opener is not None:
            await asyncio.gather(self._opener, return_exceptions=True)

    def resume(self) -> None:
        """The end of a `pause`: the systems still waiting open, a call's first."""
        self._paused = False
        self.start()

    def all_open(self) -> bool:
        return all(app.is_open for app in self._apps)

    async def opened(self) -> None:
        """Once every system is open (or has failed to open, as its calls will say)."""
        self.resume()
        await asyncio.gather(*(app.wait_opened() for app in self._apps))

    def forget(self, app: _DeferredApp) -> None:
        """`app`'s lifespan is over (the bus stopped): a bus started again makes new ones."""
        self._apps.remove(app)
        if app in self._queue:
            self._queue.remove(app)


def _once_open(direct: DirectSource) -> DirectSource:
    """A system's plain function (`EmbeddedSystem.direct`) asked of the real app once it is
    open; until then nothing answers directly, so a call goes to the stand-in and waits."""

    def deferred(app: FastAPI) -> DirectCall | None:
        if not isinstance(app, _DeferredApp):
            return direct(app)
        found: list[DirectCall | None] = []

        def call(method: str, path: str) -> DirectAnswer | None:
            if not found:
                if not app.is_open:
                    return None
                found.append(direct(app.opened_app))
            answer = found[0]
            return answer(method, path) if answer is not None else None

        return call

    return deferred


class _DeferredApp(FastAPI):
    """What the gateway runs in place of one embedded system until it is open: see
    `DeferredSystems`. Its calls are handed to the real system, with the real lifespan state."""

    def __init__(
        self,
        systems: DeferredSystems,
        factory: SystemFactory,
        context: SystemContext,
        *,
        name: str,
        ahead: Callable[[SystemContext], None] | None = None,
    ) -> None:
        super().__init__(lifespan=self._lifespan, openapi_url=None, docs_url=None, redoc_url=None)
        self._systems = systems
        self._factory = factory
        self._ahead = ahead
        self._context = context
        self._system = name
        self._ready: asyncio.Future[tuple[FastAPI, dict[str, Any]]] | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        self._ready = asyncio.get_running_loop().create_future()
        try:
            yield {}
        finally:
            await self._close()

    @property
    def is_open(self) -> bool:
        """Open and serving (not: still opening, failed to open, or stopped)."""
        ready = self._ready
        return (
            ready is not None and ready.done() and not ready.cancelled() and not ready.exception()
        )

    @property
    def opened_app(self) -> FastAPI:
        """The real system; only once `is_open`."""
        if self._ready is None or not self.is_open:
            raise RuntimeError(f"the embedded system {self._system} is not open")
        return self._ready.result()[0]

    async def open(self) -> None:
        """Build the system and start its lifespan in a task of its own, which holds it open
        until the bus stops; return once it is open, or has failed to open."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"open {self._system}")
        await self.wait_opened()

    async def _run(self) -> None:
        ready = self._ready
        if ready is None:
            raise RuntimeError(f"the embedded system {self._system} was opened outside its bus")
        try:
            if self._ahead is not None:
                await _to_thread_to_the_end(self._ahead, self._context)
            # On the event loop, not in a thread: FastAPI silences a pydantic warning while it
            # builds routes with `warnings.catch_warnings()`, which is not thread-safe.
            app = self._factory(self._context)
            async with app.router.lifespan_context(app) as state:
                ready.set_result((app, dict(state or {})))
                await self._stop.wait()
        except asyncio.CancelledError:  # the bus stopped while the system was opening
            if not ready.done():
                ready.cancel()
            raise
        except Exception as error:
            logger.exception("the embedded system %s failed", self._system)
            if not ready.done():
                ready.set_exception(error)

    async def wait_opened(self) -> None:
        if self._ready is not None:
            await asyncio.wait([self._ready])

    async def until_open(self) -> None:
        """Once open, or failed to open (its call then says so), opening it first if it is
        still queued: what a call waits for before its upstream timeout starts
        (`lgsp.routing.transports.OpensLate`)."""
        if self._ready is None:
            raise RuntimeError(f"the embedded system {self._system} is called outside its bus")
        if not self._ready.done():
            self._systems.start(first=self)
        await self.wait_opened()

    async def _close(self) -> None:
        self._stop.set()
        self._systems.forget(self)
        if self._task is None:
            return
        if self._ready is not None and not self._ready.done():
            self._task.cancel()  # stopped while it was still opening
        await asyncio.gather(self._task, return_exceptions=True)
        if self._ready is not None and self._ready.done() and not self._ready.cancelled():
            self._ready.exception()  # retrieved: a failure was logged when it happened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._ready is None:
            raise RuntimeError(f"the embedded system {self._system} is called outside its bus")
        if not self._ready.done():
            self._systems.start(first=self)
        app, state = await asyncio.shield(self._ready)
        await app({**scope, "state": dict(state)}, receive, send)


async def _to_thread_to_the_end(
    work: Callable[[SystemContext], None], context: SystemContext
) -> None:
    """`work` in a thread; cancelled, wait for the thread to end, then end cancelled. A thread
    cannot be stopped, and this one writes into the data dir (the test CA's keys): a stop that
    left it running let it write there after the bus had stopped, into a folder that the next
    bus may have wiped already: certificates under a root that is gone, which that bus takes
    for its own."""
    ahead = asyncio.ensure_future(asyncio.to_thread(work, context))
    try:
        await asyncio.shield(ahead)
    except asyncio.CancelledError:
        await asyncio.gather(ahead, return_exceptions=True)
        raise


def create_bus(
    settings: Settings | None = None,
    *,
    instances: list[str] | None = None,
    on_ready: OnReady | None = None,
    forge: KeyForge | None = None,
    systems: DeferredSystems | None = None,
) -> FastAPI:
    """The bus with its mock systems: `create_app` handed `MOCK_SYSTEMS`, each opened once the
    bus is ready (`DeferredSystems`; pass one to wait for them: `await systems.opened()`)."""
    deferred = systems if systems is not None else DeferredSystems()

    def ready(bus: BusState) -> None:
        bus.systems_open = deferred.all_open
        deferred.start()
        if on_ready is not None:
            on_ready(bus)

    return create_app(
        settings,
        systems=deferred.registry(MOCK_SYSTEMS),
        instances=instances,
        on_ready=ready,
        forge=forge,
    )
