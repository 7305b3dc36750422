"""The whole bus running beside a test suite: in a thread of its own, with or without a port.

The bus gets its own thread and event loop in both modes. A session-scoped bus must outlive
the event loop of each test (anyio and pytest-asyncio give every test a loop of its own), its
engine and connections are bound to the loop that opened them, and a synchronous test needs
it as much as an asynchronous one.

- `inprocess`: no socket. The app's lifespan runs in the bus thread, and every request is
  handed to it over `httpx.ASGITransport` there; clients in the test thread reach it through
  `LgspBus.transport()` / `async_transport()`, which pass each request across threads.
- `port`: a real uvicorn server on a free loopback port, for code under test that opens its own
  connections (another HTTP library, a subprocess, a browser).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio.to_thread
import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from lgsp.connection import ConnectionDropped, honouring_drops
from lgsp.loopback import with_lifespan_state
from lgsp.settings import Settings

Mode = Literal["inprocess", "port"]
MODES: tuple[Mode, ...] = ("inprocess", "port")
INPROCESS_URL = "http://lgsp.test"
"""The root URL of an in-process bus: any host works, the requests never leave the process."""
REQUEST_TIMEOUT = 60.0

_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass(frozen=True)
class BusOptions:
    """How to start the bus; every field has the default the pytest plugin uses."""

    data_dir: Path
    """Where the default SQLite database (and anything else the bus writes) goes."""
    mode: Mode = "inprocess"
    seed: int | None = None
    """Seed of the generated data; None: the bus's default (`LGSP_SEED`, else 2024)."""
    population: int | None = None
    """Citizens per province; None: the bus's default (`LGSP_POPULATION`, else 200)."""
    database_url: str | None = None
    """None: a fresh SQLite file in `data_dir`. A PostgreSQL URL works too, with the same
    `data_dir` every time (its secret seals the signing keys the database keeps); the pytest
    plugin instead gives each session a schema, or a SQLite file, of its own
    (`lgsp.testing._database`)."""
    instances: list[str] | None = None
    """Serve only these instances of the topology; None: all of them."""
    startup_timeout: float = 60.0
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    """Any other `Settings` field, by name."""

    def settings(self, public_url: str) -> Settings:
        values: dict[str, Any] = {"data_dir": self.data_dir, "public_url": public_url}
        if self.seed is not None:
            values["seed"] = self.seed
        if self.population is not None:
            values["population"] = self.population
        if self.database_url is not None:
            values["database_url"] = self.database_url
        return Settings(**{**values, **self.settings_overrides})


class LgspBus:
    """A running bus: its URLs, clients that reach it, the demo client's tokens, and reset.

    Safe to share between tests and threads. In `inprocess` mode, build clients with
    `client()` / `async_client()` or give your own `httpx` clients `transport()` /
    `async_transport()`: a plain HTTP client cannot reach a bus that has no port.
    """

    def __init__(self, *, mode: Mode, url: str, settings: Settings, runner: _Runner) -> None:
        self.mode: Mode = mode
        self.url = url
        """The root URL: `GET {url}/` lists the instances, `{url}/healthz` answers 200."""
        self.settings = settings
        self._runner = runner
        self._tokens: dict[tuple[str, str, str | None], tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._http = self.client()
        listing = self._http.get("/").json()["instances"]
        self.instances: list[str] = [item["name"] for item in listing]
        """The served instances, NDXP (`ndxp`) and the provinces (`kiengiang`, …)."""
        self.national: str | None = next(
            (item["name"] for item in listing if item["kind"] == "national"), None
        )
        """The national instance (NDXP), when this bus serves it."""
        self.default_instance: str = next(
            (item["name"] for item in listing if item["kind"] == "province"), self.instances[0]
        )
        """The first province served, as `lgsp serve` shows its samples: the era's first
        (`angiang` today, `kiengiang` in era 2024), else the first instance."""

    @property
    def demo_client_id(self) -> str:
        return self.settings.demo_client_id

    @property
    def demo_client_secret(self) -> str:
        return self.settings.demo_client_secret.get_secret_value()

    def base_url(self, instance: str) -> str:
        """`{base}` of one instance: `…/ndxp` or `…/lgsp/{province}`."""
        if instance not in self.instances:
            raise KeyError(f"{instance!r} is not served; try one of {', '.join(self.instances)}")
        path = "/ndxp" if instance == "ndxp" else f"/lgsp/{instance}"
        return f"{self.url}{path}"

    def transport(self) -> httpx.BaseTransport:
        """For `httpx.Client(transport=…)`: reaches this bus in either mode."""
        if isinstance(self._runner, _InProcessRunner):
            return _ThreadTransport(self._runner)
        return httpx.HTTPTransport()

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """For `httpx.AsyncClient(transport=…)`, under asyncio: reaches this bus in either mode."""
        if isinstance(self._runner, _InProcessRunner):
            return _AsyncThreadTransport(self._runner)
        return httpx.AsyncHTTPTransport()

    def client(self, **kwargs: Any) -> httpx.Client:
        """An `httpx.Client` on the root URL; pass `base_url=bus.base_url(…)` for one instance."""
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return httpx.Client(transport=self.transport(), **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An `httpx.AsyncClient` on the root URL (use it in `async with`)."""
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return httpx.AsyncClient(transport=self.async_transport(), **kwargs)

    def token(
        self,
        instance: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
    ) -> str:
        """An access token of `instance` (the demo client's unless told), cached until a minute
        before it expires. A reset keeps clients and keys, so tokens survive it."""
        client_id = client_id or self.demo_client_id
        secret = client_secret or self.demo_client_secret
        key = (instance, client_id, scope)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        answer = self._http.post(
            f"{self.base_url(instance)}/token", data=data, auth=(client_id, secret)
        )
        if answer.status_code != 200:
            raise RuntimeError(f"no token for {client_id} at {instance}: {answer.text}")
        granted = answer.json()
        token: str = granted["access_token"]
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + granted["expires_in"] - 60)
        return token

    def headers(self, instance: str, **token_options: Any) -> dict[str, str]:
        """`{"Authorization": "Bearer …"}` with `token(instance, …)`."""
        return {"Authorization": f"Bearer {self.token(instance, **token_options)}"}

    def reset(self) -> dict[str, Any]:
        """`POST {base}/admin/reset` as the demo client: every mock back to its seeded data,
        outboxes empty (see `lgsp.reset`). Returns the bus's report."""
        instance = self.instances[0]
        answer = self._http.post(
            f"{self.base_url(instance)}/admin/reset", headers=self.headers(instance)
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the bus could not be reset: {answer.text}")
        report: dict[str, Any] = answer.json()
        return report

    def wait_for(self, instance: str, *, timeout: float = 10.0, **expectation: Any) -> int:
        """Block until `instance`'s journal holds the exchanges `expectation` describes (the
        filters and counts of `POST {base}/admin/journal/verify`); returns how many matched.

        One long-polling call (`POST {base}/admin/journal/wait`), answered as soon as they
        arrive: no sleep loop in the test. On timeout, an `AssertionError` shows what the
        bus did receive that came close (`near_misses`).
        """
        answer = self._http.post(
            f"{self.base_url(instance)}/admin/journal/wait",
            json={**expectation, "timeout_seconds": timeout},
            headers=self.headers(instance),
            timeout=timeout + REQUEST_TIMEOUT,
        )
        if answer.status_code == 408:
            raise AssertionError(f"nothing like {expectation} reached {instance}: {answer.text}")
        if answer.status_code != 200:
            raise RuntimeError(f"the bus could not wait: {answer.text}")
        count: int = answer.json()["count"]
        return count

    def wait_for_document(self, sent: httpx.Response, *, to: str, timeout: float = 20.0) -> int:
        """Block until the document whose sending answered `sent` (`POST
        {base}/qlvb/v1/documents`) has been delivered into province `to`: its gateway took
        it in from the national axis, under the request id of the sending."""
        return self._wait_for_answered(
            sent, to, timeout, path="/qlvb/v1/inbound/documents", status=202
        )

    def wait_for_status(self, reported: httpx.Response, *, to: str, timeout: float = 20.0) -> int:
        """Block until the edXML status whose report answered `reported` (`POST
        {base}/qlvb/v1/documents/{id}/status` at the recipient) reached the sender's province
        `to`."""
        return self._wait_for_answered(
            reported, to, timeout, path="/qlvb/v1/inbound/statuses", status=200
        )

    def wait_for_national_sync(self, changed: httpx.Response, *, timeout: float = 20.0) -> int:
        """Block until the dossier change that answered `changed` (filing, a transition) has
        been synchronised to the national portal (DVCQG, at NDXP)."""
        if self.national is None:
            raise RuntimeError("this bus does not serve the national instance")
        return self._wait_for_answered(changed, self.national, timeout, service="dvcqg")

    def _wait_for_answered(
        self, answer: httpx.Response, instance: str, timeout: float, **expectation: Any
    ) -> int:
        """`wait_for` the exchanges `instance` took in under the request id of `answer`: the
        bus keeps it from the call a test made to where the call's effect lands."""
        return self.wait_for(
            instance, timeout=timeout, request_id=_request_id(answer), **expectation
        )

    def close(self) -> None:
        self._http.close()


def _request_id(answer: httpx.Response) -> str:
    """The request id the bus gave a call: every hop it causes carries the same one."""
    request_id: str = answer.headers.get("x-request-id", "")
    if not request_id:
        raise ValueError("the answer has no X-Request-ID: was it answered by the bus?")
    return request_id


@contextmanager
def start_bus(options: BusOptions) -> Iterator[LgspBus]:
    """Start the bus as `options` say, yield it once it answers, and stop it afterwards."""
    from lgsp.composition import create_bus  # the whole bus: imported only when one is started

    runner: _Runner
    if options.mode == "inprocess":
        settings = options.settings(INPROCESS_URL)
        runner = _InProcessRunner(create_bus(settings, instances=options.instances))
        url = INPROCESS_URL
    elif options.mode == "port":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        settings = options.settings(url)
        runner = _ServerRunner(
            create_bus(settings, instances=options.instances), listener, settings=settings
        )
    else:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {options.mode!r}")
    try:
        runner.start(timeout=options.startup_timeout)
        bus = LgspBus(mode=options.mode, url=url, settings=settings, runner=runner)
        try:
            yield bus
        finally:
            bus.close()
    finally:
        runner.stop(timeout=options.startup_timeout)


class _Runner(Protocol):
    """Starts the bus somewhere (a thread of its own) and stops it, each within `timeout`."""

    def start(self, *, timeout: float) -> None: ...

    def stop(self, *, timeout: float) -> None: ...


class _InProcessRunner(_Runner):
    """The app's lifespan and every request it serves, on one event loop in one thread."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._asgi: httpx.ASGITransport | None = None
        self._thread = threading.Thread(target=self._run, name="lgsp-bus", daemon=True)

    def start(self, *, timeout: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the bus did not start within {timeout:g} s")
        if self._error is not None:
            raise RuntimeError("the bus failed to start") from self._error

    def stop(self, *, timeout: float) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)

    def submit(self, request: httpx.Request, body: bytes) -> concurrent.futures.Future[_Answer]:
        if self._loop is None:
            raise RuntimeError("the bus is not running")
        call: Coroutine[Any, Any, _Answer] = self._send(
            request.method, str(request.url), request.headers.raw, body
        )
        return asyncio.run_coroutine_threadsafe(call, self._loop)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start(), or the bus already stopped
            self._error = self._error or error
            self._ready.set()

    async def _main(self) -> None:
        async with self._app.router.lifespan_context(self._app) as state:
            self._stopping = asyncio.Event()
            self._asgi = httpx.ASGITransport(
                app=with_lifespan_state(self._app, dict(state or {})), raise_app_exceptions=False
            )
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stopping.wait()

    async def _send(
        self,
        method: str,
        url: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> _Answer:
        if self._asgi is None:  # pragma: no cover - submit() checks the loop first
            raise RuntimeError("the bus is not running")
        request = httpx.Request(method, url, headers=headers, content=body)
        dropped: list[Scope] = []
        # A `drop` or `cut` fault closes the connection (`lgsp.connection`): here, the error a
        # closed socket gives the client, whatever the transport made of the call.
        transport = httpx.ASGITransport(
            app=honouring_drops(self._asgi.app, dropped), raise_app_exceptions=False
        )
        response = await transport.handle_async_request(request)
        content = await response.aread()
        if dropped:
            raise ConnectionDropped("The bus closed the connection without a complete answer.")
        return response.status_code, response.headers.raw, content


class _ThreadTransport(httpx.BaseTransport):
    def __init__(self, runner: _InProcessRunner) -> None:
        self._runner = runner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        status, headers, content = self._runner.submit(request, request.read()).result()
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


class _AsyncThreadTransport(httpx.AsyncBaseTransport):
    def __init__(self, runner: _InProcessRunner) -> None:
        self._runner = runner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Awaited on whatever loop the caller's test runs, asyncio or trio: the answer is
        waited for in a worker thread, not through asyncio's own future wrapping."""
        future = self._runner.submit(request, await request.aread())
        status, headers, content = await anyio.to_thread.run_sync(future.result)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


class _ServerRunner(_Runner):
    """uvicorn on a socket bound beforehand, so the bus knows its public URL when it is built."""

    def __init__(self, app: ASGIApp, listener: socket.socket, *, settings: Settings) -> None:
        import functools

        import uvicorn

        from lgsp.server import BoundedHttpToolsProtocol, ServerLimits, proxy_options

        self._error: BaseException | None = None
        config = uvicorn.Config(
            self._reporting_startup(app),
            lifespan="on",
            loop="asyncio",
            # `lgsp serve`'s protocol: its limits, and a `drop` fault that closes the socket.
            http=functools.partial(  # type: ignore[arg-type]
                BoundedHttpToolsProtocol, limits=ServerLimits.from_settings(settings)
            ),
            log_config=None,  # the test run's logging is not ours to configure
            access_log=False,
            **proxy_options(settings),
        )
        self._server = uvicorn.Server(config)
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="lgsp-bus-server", daemon=True)

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._listener])
        except SystemExit:  # uvicorn's exit when the app fails to start: `start()` reports it
            pass

    def _reporting_startup(self, app: ASGIApp) -> ASGIApp:
        """`app`, keeping the error its lifespan fails with: uvicorn only logs it, and
        `start()` raises it as `_InProcessRunner` does (a key sealed with another secret…)."""

        async def reporting(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await app(scope, receive, send)
            except BaseException as error:
                if scope["type"] == "lifespan":
                    self._error = error
                raise

        return reporting

    def start(self, *, timeout: float) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the bus failed to start") from self._error
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bus did not start within {timeout:g} s")
            time.sleep(0.02)

    def stop(self, *, timeout: float) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._listener.close()
