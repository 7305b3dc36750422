"""Schemathesis against the in-process bus: generate a case, send it over httpx, check the answer.

Schemathesis' pytest plugin ends an ASGI app's lifespan after every test, and the bus takes
a second to start; so the bus runs once per database (`conftest.py`), each operation's cases
come from `APIOperation.as_strategy()` under `@given`, go out through the bus's
`httpx.AsyncClient` and are checked with `Case.validate_response`. Requests are encoded by
`requests`, exactly as schemathesis' own transport encodes them, and sent byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from anyio.from_thread import BlockingPortal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from lgsp.cli._openapi import OPENAPI_DIR
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer

CHECKS: list[CheckFunction] = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

BUDGET = settings(
    max_examples=12,
    derandomize=True,  # the same cases every run, so a failure reproduces
    database=None,  # nothing written under .hypothesis/
    deadline=None,
    # The autouse per-test fixtures (`clean_environ`, `pooled_keys`) are harmless across
    # examples: the bus the examples call is the package's, not theirs.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NDXP = "/ndxp"
NATIONAL = {"csdlqgdc", "dvcqg", "vdxp"}
"""The services NDXP serves as well as each LGSP."""

_REQUEST_FIELDS = ("method", "url", "headers", "files", "data", "params", "auth", "cookies", "json")


@dataclass(frozen=True)
class Bus:
    """The running bus (in `portal`'s event loop) and the demo client's token at each base."""

    portal: BlockingPortal
    http: httpx.AsyncClient
    tokens: dict[str, str]


def load_schema(name: str) -> OpenApiSchema:
    """A checked-in document (the same the instances serve: tests/test_openapi.py)."""
    document = json.loads((OPENAPI_DIR / name).read_text(encoding="utf-8"))
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig())


def operations(schema: OpenApiSchema) -> list[APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def targets(name: str, bases: Sequence[str]) -> list[object]:
    """`(base, operation)` for every operation of the checked-in `name` at each of `bases`, named
    `{instance} {operation}`."""
    return [
        pytest.param(base, operation, id=f"{base.rsplit('/', 1)[-1]} {operation.label}")
        for operation in operations(load_schema(name))
        for base in bases
    ]


def service_targets() -> list[object]:
    """Every service's operations at Kiên Giang, the national services' at NDXP too."""
    return [
        target
        for path in sorted((OPENAPI_DIR / "services").glob("*.json"))
        for target in targets(
            f"services/{path.name}", [KG, NDXP] if path.name.split(".")[0] in NATIONAL else [KG]
        )
    ]


def cases(operation: APIOperation) -> st.SearchStrategy[Case]:
    """Valid requests (which must get a documented answer) and invalid ones (a problem)."""
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )


def send(bus: Bus, case: Case, base: str, *, authorised: bool = True) -> httpx.Response:
    headers = bearer(bus.tokens[base]) if authorised else {}
    kwargs: dict[str, Any] = case.as_transport_kwargs(
        base_url=f"{TEST_PUBLIC_URL}{base}", headers=headers
    )
    prepared = requests.Request(**{k: kwargs[k] for k in _REQUEST_FIELDS if k in kwargs}).prepare()
    assert prepared.method is not None
    assert prepared.url is not None
    request = partial(
        bus.http.request,
        prepared.method,
        prepared.url,
        headers=dict(prepared.headers),
        content=prepared.body,
    )
    return bus.portal.call(request)


def clear_faults(bus: Bus, base: str) -> None:
    """Remove every fault rule at `base`: a rule drawn by one case must not break later ones."""
    clear = partial(bus.http.delete, f"{base}/admin/faults", headers=bearer(bus.tokens[base]))
    assert bus.portal.call(clear).status_code == 200


def check(case: Case, response: httpx.Response) -> None:
    """Raise schemathesis' failure report (with a curl line) when any check fails."""
    case.validate_response(response, checks=CHECKS)
