"""`/console/{instance}/catalog…`: Danh mục dịch vụ — each service's contract, its seeded
examples as curl, and a try-it that calls as a client you choose.

The try-it fetches a token at the instance's own `/token` with the client id and secret given
in the form (the bus keeps only secrets' hashes), then makes the example's call with it, and
shows both answers: a refused token (401), a missing right (403), or what the service said.
Bodies are masked, as everywhere in the console (`lgsp.journal.capture.mask_text`).
"""

from __future__ import annotations

import json
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lgsp.catalog.examples import Example, ExampleRequest, examples_for
from lgsp.catalog.schemas import ServiceSpec
from lgsp.console._kit import Console, admin_api, bus_client, to
from lgsp.deps import BusDep
from lgsp.journal.capture import mask_text
from lgsp.routing.resolver import TARGET_HEADER, is_served
from lgsp.state import BusState, InstanceState

NO_TOKEN = ""
"""The try-it's client choice that sends no token at all (to see the gateway's 401)."""
MAX_SHOWN = 16 * 1024
"""Characters of an answer the page shows; the rest is cut, and said to be."""


@dataclass(frozen=True)
class Step:
    """One call the try-it made, as the page shows it."""

    title: str
    request: str
    status: int
    body: str
    error_source: str | None


def example_path(request: ExampleRequest) -> str:
    """The example's path after `{base}`, its parameters filled in and its query appended."""
    path = request.path
    for name, value in request.path_params.items():
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
    query = f"?{urlencode(request.query)}" if request.query else ""
    return f"/{request.service}/{request.version}{path}{query}"


def example_body(request: ExampleRequest) -> str | None:
    if request.body is None:
        return None
    if isinstance(request.body, str):
        return request.body
    return json.dumps(request.body, ensure_ascii=False)


def curl_lines(base: str, request: ExampleRequest) -> str:
    """The example as a shell user runs it: a token for `$CLIENT_ID`, then the call."""
    token = (
        'TOKEN=$(curl -sS -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials '
        f"{shlex.quote(base + '/token')} | python3 -c 'import json,sys; "
        'print(json.load(sys.stdin)["access_token"])\')'
    )
    call = [
        "curl -sS -i",
        f"-X {request.method}",
        shlex.quote(base + example_path(request)),
        '-H "Authorization: Bearer $TOKEN"',
    ]
    body = example_body(request)
    if body is not None:
        call.append(
            f"-H {shlex.quote('Content-Type: ' + (request.media_type or 'application/json'))}"
        )
        call.append(f"--data-binary {shlex.quote(body)}")
    return token + "\n" + " \\\n  ".join(call)


def _examples(bus: BusState, instance: str) -> Mapping[str, Example]:
    """The instance's own examples: its citizens, agencies and communes in the bus's era."""
    spec = bus.instances[instance].spec
    return examples_for(bus.settings.era, spec.name, spec.seed_code)


def add_catalog_routes(router: APIRouter, console: Console) -> None:
    @router.get("/{instance}/catalog")
    async def catalog(request: Request, bus: BusDep, instance: str) -> Response:
        """Danh mục: the services served here, their contracts and examples."""
        return await _catalog_page(request, bus, console, instance)

    @router.post("/{instance}/catalog/try")
    async def try_it(request: Request, bus: BusDep, instance: str) -> Response:
        posted = await console.posted(request, bus, instance, back="catalog")
        form = posted.form
        example = _examples(bus, instance).get(str(form.get("operation", ""))[:200])
        served = {s.id for s in _served(bus, bus.instances[instance])}
        if example is None or example.request.service not in served:
            return to(f"/{instance}/catalog", error="Không có ví dụ cho thao tác này.")
        client_id = str(form.get("client_id", ""))[:64]
        secret = str(form.get("client_secret", ""))[:256]
        target = str(form.get("target", ""))
        if target and target not in _provinces(bus, instance):
            return to(f"/{instance}/catalog", error="Không có tỉnh đích này.")
        request_id = f"console-try-{secrets.token_hex(6)}"
        steps = await _try(
            request,
            bus,
            bus.instances[instance],
            example,
            client_id,
            secret,
            target=target,
            request_id=request_id,
        )
        return await _catalog_page(
            request,
            bus,
            console,
            instance,
            tried=example.request.key,
            steps=steps,
            request_id=request_id,
        )


async def _try(
    request: Request,
    bus: BusState,
    instance: InstanceState,
    example: Example,
    client_id: str,
    secret: str,
    *,
    target: str,
    request_id: str,
) -> list[Step]:
    """Token, then call, under one request id: the trace then names the hop that failed."""
    base = instance.spec.mount_path
    steps: list[Step] = []
    headers: dict[str, str] = {"X-Request-ID": request_id}
    if target:
        headers[TARGET_HEADER] = target
    call = example.request
    async with bus_client(request, bus) as http:
        if client_id != NO_TOKEN:
            issued = await http.post(
                f"{base}/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
            )
            steps.append(_step("Lấy token", f"POST {base}/token (client {client_id})", issued))
            if issued.status_code != 200:
                return steps
            headers["Authorization"] = f"Bearer {issued.json()['access_token']}"
        body = example_body(call)
        if body is not None:
            headers["Content-Type"] = call.media_type or "application/json"
        path = example_path(call)
        answer = await http.request(
            call.method,
            f"{base}{path}",
            headers=headers,
            content=None if body is None else body.encode(),
        )
        steps.append(_step("Gọi dịch vụ", f"{call.method} {base}{path}", answer))
    return steps


def _step(title: str, line: str, answer: httpx.Response) -> Step:
    if (
        answer.status_code == 200 and "access_token" in answer.text
    ):  # the token itself is the client's, not the page's
        shown = json.dumps({**answer.json(), "access_token": "…"}, ensure_ascii=False)
    else:
        shown = mask_text(answer.text)
    if len(shown) > MAX_SHOWN:
        shown = shown[:MAX_SHOWN] + " … (cắt bớt)"
    return Step(
        title=title,
        request=mask_text(line),
        status=answer.status_code,
        body=shown,
        error_source=answer.headers.get("X-LGSP-Error-Source"),
    )


async def _catalog_page(
    request: Request,
    bus: BusState,
    console: Console,
    instance: str,
    *,
    tried: str = "",
    steps: list[Step] | None = None,
    request_id: str = "",
) -> Response:
    session = console.administered(request, bus, instance)
    served = bus.instances[instance]
    async with admin_api(request, bus, session) as api:
        found = await api.get(instance, "/admin/clients")
    clients = [
        c for c in (found or {}).get("clients", []) if c["kind"] == "tenant" and not c["revoked_at"]
    ]
    examples = _examples(bus, instance)
    base = served.issuer
    services: list[dict[str, Any]] = []
    for service in _served(bus, served):
        operations = []
        for operation in service.operations:
            key = f"{service.id}.{service.version}:{operation.id}"
            example = examples.get(key)
            operations.append(
                {
                    "spec": operation,
                    "key": key,
                    "example": example,
                    "curl": None if example is None else curl_lines(base, example.request),
                }
            )
        services.append({"spec": service, "operations": operations})
    return console.page(
        request,
        bus,
        "catalog.html",
        instance=instance,
        base=served.spec.mount_path,
        services=services,
        clients=clients,
        tried=tried,
        steps=steps or [],
        request_id=request_id,
        provinces=_provinces(bus, instance),
        error=request.query_params.get("error", ""),
    )


def _provinces(bus: BusState, instance: str) -> list[str]:
    """Where a call may be sent on with `X-LGSP-Target`: the other provinces of the bus."""
    return [
        spec.name
        for spec in bus.topology.instances
        if spec.kind == "province" and spec.name != instance
    ]


def _served(bus: BusState, instance: InstanceState) -> list[ServiceSpec]:
    return [service for service in bus.catalog if is_served(service, instance)]
