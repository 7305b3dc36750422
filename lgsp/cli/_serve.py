"""`lgsp serve`: the bus in this process under uvicorn, stopped cleanly by SIGTERM or Ctrl-C;
with `--workers N`, in N uvicorn worker processes, each built by `create_worker_app`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lgsp.cli._common import (
    CommandFailed,
    add_data_dir,
    listen,
    port_number,
    run_server,
    settings_from,
)
from lgsp.cli._progress import Spinner
from lgsp.cli._system import serve_system
from lgsp.settings import DEMO_CLIENT_SECRET, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from lgsp.auth.keys import KeyForge
    from lgsp.composition import DeferredSystems
    from lgsp.state import BusState
    from lgsp.tls import ServerTls
    from lgsp.topology import InstanceSpec

SAMPLE_CITIZENS = 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn's supervisor waits for a worker to answer its ping before killing it. A
spawned worker answers only once it has unpickled its server, which imports most of the bus:
over uvicorn's 5 s on a loaded 2-core machine, where every worker was killed and started again,
forever. A worker that hangs for good is still replaced, a minute later."""
WORKER_ENVIRONMENT = "LGSP_SERVE_WORKER"
"""JSON handed by `lgsp serve --workers` to each worker: settings overrides and instances."""


def add_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="start the bus (NDXP and every province)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8000)
    serve.add_argument("--seed", type=int, help="seed for generated data (LGSP_SEED)")
    serve.add_argument(
        "--population", type=int, help="citizens generated per province (LGSP_POPULATION)"
    )
    serve.add_argument(
        "--era",
        choices=("2026", "2024"),
        help="built-in topology: today's provinces (2026, default) or the seeded ones before "
        "1 July 2025 (2024) (LGSP_ERA)",
    )
    serve.add_argument("--instance", action="append", help="serve only this instance (repeatable)")
    serve.add_argument(
        "--ndxp-url",
        help="base URL of NDXP when another process serves it, e.g. http://ndxp:8000/ndxp "
        "(LGSP_NDXP_URL)",
    )
    serve.add_argument(
        "--system",
        help="serve only this system of the one --instance, as a process of its own that the "
        "bus reaches at the system's url in the topology file",
    )
    serve.add_argument(
        "--bus-url",
        help="with --system: root URL of the bus the system calls (default LGSP_PUBLIC_URL)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving every instance on the one port, sharing its database",
    )
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate of the bus's own test CA ({data-dir}/tls/ca.pem: "
        "what clients trust)",
    )
    serve.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate")
    serve.add_argument("--tls-key", type=Path, help="the PEM private key of --tls-cert")
    add_data_dir(serve)
    serve.set_defaults(handler=serve_bus)


def serve_bus(args: argparse.Namespace) -> int:
    if args.system is not None:
        return serve_system(args)
    gc.disable()  # until the bus is built (`settle_heap`): start-up makes objects, not garbage
    try:
        return _serve_bus(args)
    finally:
        gc.enable()


def _serve_bus(args: argparse.Namespace) -> int:
    from lgsp.logging import configure_logging

    overrides: dict[str, Any] = {}
    https = args.tls or args.tls_cert is not None or args.tls_key is not None
    if "LGSP_PUBLIC_URL" not in os.environ:  # behind a proxy, the operator's URL wins
        scheme = "https" if https else "http"
        overrides["public_url"] = f"{scheme}://{_url_host(args.host)}:{args.port}"
    for option in ("seed", "population", "ndxp_url", "era"):
        if getattr(args, option) is not None:
            overrides[option] = getattr(args, option)
    settings = settings_from(args, **overrides)
    if args.workers != 1:
        _check_workers(args, settings)
    served = _served(settings, args.instance)
    tls = _server_tls(args, settings) if https else None
    sock = listen(args.host, args.port)  # before the seeding, the logging and the banner
    try:
        configure_logging(json=settings.log_format == "json")
        options = {} if tls is None else tls.uvicorn_options()
        if args.workers != 1:
            return _serve_workers(args, settings, overrides, sock, options)
        return _serve_one(args, settings, served, sock, tls)
    finally:
        sock.close()


def _server_tls(args: argparse.Namespace, settings: Settings) -> ServerTls:
    """The operator's certificate (`--tls-cert` and `--tls-key`, both or neither), else one
    of the bus's test CA naming the host it listens on and the host of its public URL."""
    from lgsp.tls import bus_tls, given_tls

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ValueError("--tls-cert and --tls-key go together: the certificate and its key")
    if args.tls_cert is not None:
        return given_tls(args.tls_cert, args.tls_key)
    hosts = [_url_host(args.host), urlsplit(settings.public_url).hostname or ""]
    return bus_tls(settings.data_dir, hosts)


def _serve_one(
    args: argparse.Namespace,
    settings: Settings,
    served: list[InstanceSpec],
    sock: socket.socket,
    tls: ServerTls | None,
) -> int:
    """The bus in this process: uvicorn serves `StartingApp` on `sock` at once (`/healthz`
    answers), while the bus is imported and built in a thread, then opened; the banner is
    printed once it is open."""
    from lgsp.cli._starting import StartingApp

    spinners: list[Spinner] = []
    opened: list[BusState] = []
    systems: list[DeferredSystems] = []
    announcing: list[asyncio.Task[None]] = []
    stop_server: list[Callable[[], None]] = []
    ready = False

    def build() -> FastAPI:
        """In a thread, while the server answers: most of a start, imports first."""
        forge = early_key_forge(settings, len(served))  # its own threads, while the bus imports
        spinner = Spinner(_startup_work(settings, served))
        spinners.append(spinner)
        spinner.start()
        from lgsp.composition import DeferredSystems, create_bus

        systems.append(DeferredSystems())
        return create_bus(
            settings,
            instances=args.instance,
            on_ready=opened.append,
            forge=forge,
            systems=systems[0],
        )

    async def announce() -> None:
        """The banner, written in a thread (its sample identifiers come from the seeds) while
        the bus answers; the heap settled once the mock systems, opening meanwhile, are open."""
        text = await asyncio.to_thread(
            _banner, opened[0], ca_file=None if tls is None else tls.ca_file
        )
        _stop_spinners(spinners)
        print(text, flush=True)
        await systems[0].opened()
        settle_heap()

    def on_open() -> None:
        """The bus is open: every request goes to it from now on."""
        announcing.append(asyncio.get_running_loop().create_task(announce()))

    def on_started() -> None:
        """uvicorn serves the socket and handles the stop signals from now on."""
        nonlocal ready
        ready = True

    app = StartingApp(
        build,
        hold_seconds=settings.startup_hold_seconds,
        on_open=on_open,
        on_failed=lambda _error: stop_server[0](),
    )
    try:
        with _exit_quietly_after_shutdown(lambda: ready):
            options = {} if tls is None else tls.uvicorn_options()
            run_server(
                app,
                args,
                settings,
                sock=sock,
                on_started=on_started,
                on_server=stop_server.append,
                on_config=app.served_by,
                **options,
            )
    finally:
        _stop_spinners(spinners)
    if app.failure is not None:
        raise CommandFailed("the bus did not start (its error is in the log above)")
    return 0


def _stop_spinners(spinners: list[Spinner]) -> None:
    while spinners:
        spinners.pop().stop()


def _check_workers(args: argparse.Namespace, settings: Settings) -> None:
    """Before the port is bound: a bad `--workers` is exit 2 and holds nothing."""
    from sqlalchemy.engine import make_url

    if args.workers < 1:
        raise ValueError("--workers takes a number of processes, 1 or more")
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            "--workers needs a database the processes share: an SQLite file (the default) or "
            "PostgreSQL, not an in-memory SQLite database"
        )


def _serve_workers(
    args: argparse.Namespace,
    settings: Settings,
    overrides: dict[str, Any],
    sock: socket.socket,
    options: dict[str, Any],
) -> int:
    """`--workers N`: uvicorn's worker processes, each the whole bus, sharing one database.

    On the SQLite file one more process writes every worker's audit records (and journal
    rows): each worker hands it its calls and answers once it has committed them
    (`lgsp.audit.writer_service`), so the workers never wait for each other's write lock and
    the chains are linked in one place. The mocks' seed, the keys and the clients are made
    once, under the file's write lock, by whichever worker comes first.
    """
    overrides = {**overrides, "workers": args.workers}
    if args.data_dir is not None:
        overrides = {**overrides, "data_dir": str(args.data_dir)}
    with ExitStack() as stack:
        from sqlalchemy.engine import make_url

        url = make_url(settings.resolved_database_url)
        if url.get_backend_name() == "sqlite":  # a file: `_check_workers` refused :memory:
            from lgsp.audit.writer_process import audit_writer_process

            writer = audit_writer_process(
                url.database or "", busy_timeout=settings.sqlite_busy_timeout_seconds
            )
            overrides = {**overrides, "audit_writer_socket": stack.enter_context(writer)}
        os.environ[WORKER_ENVIRONMENT] = worker_environment(overrides, args.instance)
        print(f"Starting {args.workers} workers at {settings.public_url}", flush=True)
        run_server(
            "lgsp.cli._serve:create_worker_app",
            args,
            settings,
            sock=sock,
            factory=True,
            workers=args.workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **options,
        )
    return 0


def create_worker_app() -> FastAPI:
    """The factory each of `lgsp serve --workers N`'s processes calls (`uvicorn --factory`).

    Settings come from the environment, as for one process, with the command line's overrides
    and instances that the parent put in `LGSP_SERVE_WORKER`. The workers share one
    database (the SQLite file or PostgreSQL): each serves every instance, and the kernel
    spreads connections.
    """
    gc.disable()  # until the bus and its systems are open (`settle_heap`), as `serve` does
    from lgsp.composition import DeferredSystems, create_bus
    from lgsp.logging import configure_logging

    handed = json.loads(os.environ.get(WORKER_ENVIRONMENT, "{}"))
    settings = Settings(**handed.get("overrides", {}))
    configure_logging(json=settings.log_format == "json")  # a spawned process: `serve`'s part
    systems = DeferredSystems()
    settling: list[asyncio.Task[None]] = []

    async def settle() -> None:
        await systems.opened()
        settle_heap()

    def on_ready(_bus: BusState) -> None:
        settling.append(asyncio.get_running_loop().create_task(settle()))

    return create_bus(
        settings, instances=handed.get("instances"), on_ready=on_ready, systems=systems
    )


def worker_environment(overrides: dict[str, Any], instances: list[str] | None) -> str:
    """What `create_worker_app` reads: the value of `LGSP_SERVE_WORKER` for the workers."""
    return json.dumps({"overrides": overrides, "instances": instances}, default=str)


YOUNG_COLLECTION_THRESHOLD = 10_000
"""Net allocations of tracked objects between young collections (CPython's default: 700)."""


def settle_heap(_bus: BusState | None = None) -> None:
    """For a server process once the bus is built: freeze what start-up made.

    The seeded records, the catalog and the apps live as long as the process. Left to the
    collector, every full collection walks them all again (~130 ms with the default seed) and
    stalls every call under way: it set the p99 under load. Frozen, they are never scanned
    again. Not done by `create_app`, which tests call many times in one process. The collector
    is off while a server starts (`serve`, `create_worker_app`): it is on again from here.

    No collection first: it would walk that same heap once more before the first answer
    (~150 ms of CPU on a loaded machine) to find ~3,700 unreachable objects (under 1 MB), which
    are cheaper kept, frozen with the rest, than found.

    Young collections from then on come every `YOUNG_COLLECTION_THRESHOLD` objects rather than
    every 700: the collector counts an object made before a collection and freed after it as
    never freed, so the objects of the 32 calls under way made a young collection every ~20
    calls, each walking those calls' objects to free nothing (~10 µs of CPU per call, issue 21).
    """
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    gc.enable()


@contextmanager
def _exit_quietly_after_shutdown(served: Callable[[], bool]) -> Iterator[None]:
    """Make a graceful stop exit 0.

    uvicorn (0.29+) handles SIGINT and SIGTERM itself: it finishes the calls under way, runs
    the lifespan's shutdown, puts back the handlers it found and raises the signal again, so
    that the default handler ends the process "killed by SIGTERM" (status -15). The handlers
    it finds are these: once the bus has served, the re-raised signal finds the work done and
    `serve` returns 0. A signal before uvicorn has taken over stops start-up as Ctrl-C does.
    """

    def handle(signum: int, frame: FrameType | None) -> None:
        if not served():
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def early_key_forge(settings: Settings, count: int) -> KeyForge | None:
    """The signing keys of a first start, begun before the bus is imported (most of a start)
    instead of once its database is open: made in threads, on the other core, meanwhile.

    A first start is one whose SQLite file does not exist yet: every served instance lacks a
    key. Otherwise (a restart, PostgreSQL) the lifespan reads which instances lack one.
    """
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if url.database not in (None, "", ":memory:") and Path(url.database or "").exists():
        return None
    from lgsp.auth.keys import KeyForge

    return KeyForge(count)


def _served(settings: Settings, instances: list[str] | None) -> list[InstanceSpec]:
    """The instances this process will serve (all of the topology's, or those named); a name
    the topology lacks is a bad argument (exit 2), said before the port is bound."""
    from lgsp.topology import load_topology

    topology = load_topology(settings.topology_file, settings.era).instances
    unknown = sorted(set(instances or ()) - {spec.name for spec in topology})
    if unknown:
        raise ValueError(f"unknown instance(s): {', '.join(unknown)}")
    return [spec for spec in topology if not instances or spec.name in instances]


def _startup_work(settings: Settings, served: list[InstanceSpec]) -> str:
    provinces = sum(spec.kind == "province" for spec in served)
    return (
        f"Starting {len(served)} instance(s): {provinces} province(s) × "
        f"{settings.population:,} citizens"
    )


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):  # noqa: S104 - mapping a bind-all address to a callable one
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _printable_secret(settings: Settings) -> str:
    """The demo secret as the banner may show it: the published default (dev profile only; it
    is in the README), else a pointer to where the operator set it. A server's output ends up in
    CI logs and `docker compose logs`: a secret of the operator's own must never be in it
    (SECURITY-PROBE-2026-12 F14: the production banner gave admin on every instance)."""
    if settings.demo_client_secret.get_secret_value() == DEMO_CLIENT_SECRET:
        return DEMO_CLIENT_SECRET
    return "$LGSP_DEMO_CLIENT_SECRET"


def _banner(bus: Any, *, ca_file: Path | None = None) -> str:
    from lgsp.dialects.mount import door_urls
    from lgsp.routing.systems import samples

    settings: Settings = bus.settings
    secret = _printable_secret(settings)
    lines = ["", "LGSP mock bus is ready.", ""]
    for instance in bus.instances.values():
        lines.append(f"  {instance.spec.title:<45} {instance.issuer}")
        for dialect, url in door_urls(instance.spec, instance.issuer).items():
            if url != instance.issuer:  # a real platform's dialect (README "Dialects")
                lines.append(f"    {dialect:<43} {url}")
    lines += [
        "",
        f"  Demo client (admin, every service): client_id={settings.demo_client_id} "
        f"client_secret={secret}",
    ]
    cacert = ""
    if ca_file is not None:
        lines.append(f"  HTTPS with the bus's test CA: clients trust {ca_file}")
        cacert = f"--cacert {ca_file} "
    provinces = [i for i in bus.instances.values() if i.spec.kind == "province"]
    if provinces:
        first = provinces[0]
        found = samples(
            bus.systems,
            first.spec,
            settings,
            count=SAMPLE_CITIZENS,
            provinces=bus.topology.provinces,
        )
        lines.append(f"  Sample identifiers in {first.spec.title} (seed {settings.seed}):")
        lines += [f"    {kind:<10} {' '.join(values)}" for kind, values in found.items()]
        cccd = found.get("cccd", ["<cccd>"])[0]
        lines += [
            "  More at GET {base}/admin/samples.",
            "",
            "  Try:",
            f"    curl -s {cacert}-u {settings.demo_client_id}:{secret} "
            f"-d grant_type=client_credentials {first.issuer}/token",
            f"    curl -s {cacert}-H 'Authorization: Bearer <token>' "
            f"{first.issuer}/dancu/v1/citizens/{cccd}",
        ]
    return "\n".join(lines) + "\n"
