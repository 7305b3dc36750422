"""Path traversal in any path parameter: refused at the gateway's edge, before any hop.

Every operation of the catalog that takes a path parameter gets each hostile spelling in its
place; none may reach an owning system or the next gateway. Without the refusal, httpx resolves
`..` on the forwarding hop, so NDXP would be asked for another path than the one authorised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from adapters.base import SystemRequest, SystemResponse
from lgsp.state import BusState
from tests.fixtures.bus import KG, bearer, bearer_json
from tests.security.conftest import RawRequest

pytestmark = pytest.mark.anyio

HOSTILE = [
    "..",
    ".",
    "%2e%2e",
    "%2E%2e",
    ".%2e",
    "..%2f..%2fadmin",
    "a%2Fb",
    "..%5c..%5cwindows",
    "a%00b",
    "a%0d%0aX-Injected:%20yes",
]


def parameterised_paths(bus: BusState) -> list[tuple[str, str]]:
    """(method, path template) of each operation of the catalog with a path parameter."""
    return [
        (operation.method, f"{KG}/{service.id}/{service.version}{operation.path}")
        for service in bus.catalog
        for operation in service.operations
        if "{" in operation.path
    ]


class HopSpy:
    """Records every call a gateway makes to an owning system or to another gateway."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, bus: BusState) -> None:
        self.calls: list[str] = []
        for instance in bus.instances.values():
            for hop in [*instance.systems.values(), *instance.peers.values()]:
                monkeypatch.setattr(hop, "send", self._recording(hop.send))

    def _recording(self, send: Any) -> Any:
        async def recorded(
            request: SystemRequest, extra_headers: Mapping[str, str] | None = None
        ) -> SystemResponse:
            self.calls.append(f"{request.method} {request.path}")
            response: SystemResponse = await send(request, extra_headers)
            return response

        return recorded


@pytest.mark.parametrize("payload", HOSTILE)
async def test_hostile_path_parameters_are_400_and_reach_no_system(
    raw_request: RawRequest,
    bus: BusState,
    demo_token: str,
    monkeypatch: pytest.MonkeyPatch,
    payload: str,
) -> None:
    spy = HopSpy(monkeypatch, bus)
    headers = bearer_json(demo_token)
    wrong = []
    for method, template in parameterised_paths(bus):
        path = re.sub(r"\{[^}]+\}", payload, template)

        answer = await raw_request(method, path, headers=headers, body=b"{}")

        problem = answer.json()
        if (answer.status, problem.get("code")) != (400, "INVALID_PATH") or answer.headers[
            "content-type"
        ] != "application/problem+json":
            wrong.append(f"{method} {path}: {answer.status} {problem}")

    assert not wrong, "\n".join(wrong)
    assert spy.calls == []


@pytest.mark.parametrize("path", [f"{KG}/admin/faults/..", f"{KG}/admin/outbox/%2e%2e/redrive"])
async def test_the_gateways_own_path_parameters_are_guarded_too(
    raw_request: RawRequest, demo_token: str, path: str
) -> None:
    answer = await raw_request("POST", path, headers=bearer(demo_token))

    assert answer.status == 400
    assert answer.json()["code"] == "INVALID_PATH"


async def test_a_double_encoded_dot_segment_reaches_the_next_hop_as_the_same_text(
    raw_request: RawRequest, bus: BusState, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`%252e%252e` is the text `%2e%2e` here, a plain (invalid) number, and it is forwarded
    encoded again: NDXP reads the same text, refuses it as a number, and never sees `..`."""
    spy = HopSpy(monkeypatch, bus)

    answer = await raw_request(
        "GET", f"{KG}/csdlqgdc/v1/citizens/%252e%252e/household", headers=bearer(demo_token)
    )

    assert answer.status == 422
    assert answer.json()["code"] == "INVALID_CCCD"
    assert answer.json()["instance"] == "/ndxp/csdlqgdc/v1/citizens/%2e%2e/household"
    assert spy.calls == ["GET /csdlqgdc/v1/citizens/%2e%2e/household"]  # the hop to NDXP only


async def test_ordinary_paths_with_dots_inside_segments_pass(
    raw_request: RawRequest, demo_token: str
) -> None:
    """Dossier codes hold dots (000.00.06.H33-…); only whole `.`/`..` segments are refused."""
    answer = await raw_request(
        "GET", f"{KG}/dvc/v1/dossiers/000.00.07.H33-250602-0001", headers=bearer(demo_token)
    )

    assert answer.status == 404
    assert answer.json()["code"] != "INVALID_PATH"
