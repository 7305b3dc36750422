"""A respx router that answers like the bus for one service: unit tests with no bus at all.

    with bus_router("dancu") as router:
        answer = fetch_citizen(BASE, "091048993438")  # the client code under test, using httpx
    assert router.calls.call_count == 2  # the token, then the citizen

Nothing is re-implemented: the router holds the real mock system of the service (the same
FastAPI app the bus runs, seeded from `seed` and `population`) and the real adapter, and does
what the gateway does in between (`lgsp.routing.router`): match the operation in the catalog,
translate, call the mock, translate back, and render errors with the bus's own problem+json
document. What it leaves out is what needs the bus's database and keys: tokens are opaque (not
JWTs) and are accepted only by the router that issued them, any client credentials are taken,
and there are no rights, rate limits, faults, journal or audit.

Only services whose mock keeps no state and calls no other system are supported (see
`SUPPORTED_SERVICES`); for the others, `bus_router` raises `ValueError`. Use the `lgsp` pytest
fixture for those.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import respx
from anyio.from_thread import start_blocking_portal
from starlette.responses import JSONResponse

from adapters import ADAPTERS
from adapters.base import Adapter, CanonicalRequest, SystemResponse, TranslationError
from lgsp.catalog.loader import find_operation, load_catalog
from lgsp.catalog.schemas import ServiceSpec
from lgsp.composition import MOCK_SYSTEMS
from lgsp.errors import (
    ERROR_SOURCE_HEADER,
    PROBLEM_MEDIA_TYPE,
    InvalidToken,
    LgspError,
    ServiceNotFound,
    error_source,
    problem_document,
    problem_fields,
    source_header,
)
from lgsp.logging import request_id_var
from lgsp.routing.systems import SystemContext
from lgsp.routing.transports import InProcessTransport
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, Topology, load_topology

SUPPORTED_SERVICES = ("dancu", "csdlqgdc")
"""Services whose mocks are read-only and in memory: answered in-process, with no database."""

DEFAULT_BASE_URL = "http://127.0.0.1:8000/lgsp/kiengiang"
TOKEN_TTL_SECONDS = Settings.model_fields["token_ttl_seconds"].default
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:*-]{1,128}$")  # as lgsp.middleware
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def bus_router(
    service: str = "dancu",
    *,
    base_url: str = DEFAULT_BASE_URL,
    seed: int = 2024,
    population: int = 200,
) -> respx.MockRouter:
    """A router mocking `POST {base}/token` and `{base}/{service}/{version}/…` of one instance.

    `base_url` names the instance as the bus serves it (`…/lgsp/<province>` or `…/ndxp`);
    `seed` and `population` are the bus's `--seed` and `--population`, so the same
    identifiers are found (`GET {base}/admin/samples` of a bus with those settings lists some).
    Use it as a context manager (or `respx.mock(router=…)`-style with `.start()`/`.stop()`);
    it is built with `assert_all_called=False`, since a test rarely calls every route.
    """
    if service not in SUPPORTED_SERVICES:
        raise ValueError(
            f"bus_router supports {', '.join(SUPPORTED_SERVICES)}, not {service!r}: its mock "
            "needs a database or calls other systems; use the `lgsp` pytest fixture instead"
        )
    base = base_url.rstrip("/")
    settings = Settings(_env_file=None, seed=seed, population=population)  # LGSP_ERA: the bus's
    topology = load_topology(None, settings.era)
    gateway = _Gateway(service, _instance_of(topology, base), topology, settings)
    router = respx.MockRouter(assert_all_called=False)
    router.post(f"{base}/token", name="token").mock(side_effect=gateway.token)
    router.route(url__startswith=f"{base}/{service}/", name=service).mock(
        side_effect=lambda request: gateway.invoke(request, base)
    )
    return router


def _instance_of(topology: Topology, base: str) -> InstanceSpec:
    path = urlsplit(base).path
    for instance in topology.instances:
        if path == instance.mount_path:
            return instance
    for alias, instance in topology.aliases.items():
        if path == f"/lgsp/{alias}":  # an old province's base, as the bus still answers it
            return instance
    known = ", ".join(instance.mount_path for instance in topology.instances)
    raise ValueError(f"base_url must end with an instance's path ({known}), not {path!r}")


class _Gateway:
    """The gateway's hop for one service of one instance, with the real mock behind it."""

    def __init__(
        self, service: str, instance: InstanceSpec, topology: Topology, settings: Settings
    ) -> None:
        catalog = load_catalog(
            Settings.model_fields["catalog_dir"].default, known_adapters=set(ADAPTERS)
        )
        self.services: dict[str, ServiceSpec] = {
            spec.version: spec for spec in catalog if spec.id == service
        }
        self.service_id = service
        spec = next(iter(self.services.values()))
        owner = topology.national if spec.owner == "national" else instance
        if owner is None or owner.system(spec.system) is None:
            raise ValueError(f"{instance.name} neither owns nor reaches {service}")
        context = SystemContext(owner, settings, provinces=topology.provinces)
        self.owner = owner
        self.instance = instance.name
        self.transport = InProcessTransport(
            MOCK_SYSTEMS[spec.system].factory(context),
            system=spec.system,
            host=f"{spec.system}.{owner.name}.internal",
            timeout=settings.upstream_timeout_seconds,
        )
        self.adapter: Adapter = ADAPTERS[spec.adapter](today=_today)
        self.tokens: set[str] = set()

    def token(self, request: httpx.Request) -> httpx.Response:
        """Client-credentials grant: any client is taken, and granted this one service."""
        form = dict(parse_qsl(request.content.decode("latin-1")))
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error(400, "invalid_request", "grant_type is required.")
        if grant_type != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "Only the client_credentials grant is supported."
            )
        if "authorization" not in request.headers and "client_id" not in form:
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        token = f"lgsp-mock.{secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL_SECONDS,
            "scope": form.get("scope") or self.service_id,
        }
        return httpx.Response(200, json=body, headers=_NO_STORE)

    def invoke(self, request: httpx.Request, base: str) -> httpx.Response:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        context = request_id_var.set(request_id)
        try:
            status, content, headers = self._answer(request, base)
        except LgspError as error:
            source = error_source(self.instance)
            status, content = error.status, _problem(error, request.url.path, source)
            headers = error.response_headers()
        finally:
            request_id_var.reset(context)
        if status >= 400 and isinstance(content, dict) and "error_source" in content:
            headers[ERROR_SOURCE_HEADER] = source_header(content["error_source"])
        headers["X-Request-ID"] = request_id
        headers["Content-Type"] = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
        # The bytes the bus sends: Starlette's JSONResponse rendering (compact, UTF-8).
        return httpx.Response(status, content=bytes(JSONResponse(content).body), headers=headers)

    def _answer(self, request: httpx.Request, base: str) -> tuple[int, Any, dict[str, str]]:
        """`lgsp.routing.router.invoke_service`, in its order: token, service, operation."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("Send the access token as `Authorization: Bearer <token>`.")
        if token.strip() not in self.tokens:
            raise InvalidToken("The access token was not signed by a key of this instance.")
        rest = request.url.path.removeprefix(urlsplit(base).path + f"/{self.service_id}/")
        version, _, path = rest.partition("/")
        spec = self.services.get(version)
        if spec is None:
            known = ", ".join(sorted(self.services))
            raise ServiceNotFound(
                f"There is no service {self.service_id} {version}. Known versions: {known}."
            )
        matched = find_operation(spec, request.method, "/" + path)
        canonical = CanonicalRequest(
            operation=matched.operation.id,
            path_params=matched.path_params,
            query=tuple(request.url.params.multi_items()),
            body=request.content,
            content_type=request.headers.get("content-type"),
        )
        # A forwarded call is translated by the owner's gateway: the problem names its path,
        # and its instance; a refusal in the answer is the owning system's.
        where = f"{self.owner.mount_path}/{spec.id}/{spec.version}/{path}"
        try:
            response = self._call(canonical)
        except TranslationError as error:
            return error.status, _problem(error, where, error_source(self.owner.name)), {}
        try:
            answer = self.adapter.to_canonical(canonical, response)
        except TranslationError as error:
            source = error_source(self.owner.name, spec.system)
            return error.status, _problem(error, where, source), {}
        return answer.status, answer.content, {}

    def _call(self, canonical: CanonicalRequest) -> SystemResponse:
        """The mock through the bus's own in-process transport, on an event loop of its own
        thread, so that sync and async client code alike are answered by this side effect."""
        system_request = self.adapter.to_system(canonical)
        with start_blocking_portal() as portal:
            return portal.call(self.transport.send, system_request)


def _today() -> date:
    return datetime.now(UTC).date()  # the gateway's clock (lgsp.app)


def _problem(
    error: LgspError | TranslationError, instance: str, source: dict[str, str]
) -> dict[str, Any]:
    return problem_document(
        **problem_fields(error), instance=instance, extensions=error.extensions, source=source
    )


def _oauth_error(status: int, error: str, description: str) -> httpx.Response:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="lgsp"'
    body = {"error": error, "error_description": description}
    return httpx.Response(status, json=body, headers=headers)
