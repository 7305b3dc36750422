"""The gateway's own contract (openapi/gateway.json): what it documents for token endpoints,
admin endpoints and the generic invocation route, and a fault rule's answer against it. The
fuzzing of every operation is `test_answers.py`'s (issue 5)."""

from __future__ import annotations

from functools import partial

import pytest

from tests.contract.harness import Bus, check, clear_faults, load_schema
from tests.fixtures.bus import KG, bearer

GATEWAY = load_schema("gateway.json").raw_schema
OAUTH_ANSWERS = {"/token", "/token/revoke"}  # RFC 6749 §5.2 JSON, not problem+json


def test_a_fault_rule_without_limits_answers_as_documented(contract_bus: Bus) -> None:
    """`remaining` and `expires_at` are left out of the answer when null: the contract once
    required them, so every rule with no `times` or `expires_in` broke it."""
    schema = load_schema("gateway.json")
    operation = schema["/admin/faults"]["POST"]
    rule = {"service": "dancu", "latency_ms": 1}
    add = partial(
        contract_bus.http.post,
        f"{KG}/admin/faults",
        json=rule,
        headers=bearer(contract_bus.tokens[KG]),
    )

    try:
        response = contract_bus.portal.call(add)
    finally:
        clear_faults(contract_bus, KG)

    assert response.status_code == 201
    check(operation.Case(body=rule, media_type="application/json"), response)


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, operations in GATEWAY["paths"].items() for method in operations],
)
def test_every_gateway_error_is_documented_as_a_problem(path: str, method: str) -> None:
    responses = GATEWAY["paths"][path][method]["responses"]

    for status, response in responses.items():
        if int(status) >= 400 and not (path in OAUTH_ANSWERS and status in {"400", "401", "429"}):
            assert list(response["content"]) == ["application/problem+json"], (status, response)


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, operations in GATEWAY["paths"].items() for method in operations],
)
def test_the_request_guards_answers_are_documented_on_every_operation(
    path: str, method: str
) -> None:
    """413 and 431 can answer any request, 400 INVALID_PATH any path with a parameter, and a
    JSON body FastAPI cannot decode is a 400 problem: found by schemathesis, undocumented."""
    operation = GATEWAY["paths"][path][method]
    documented = operation["responses"]

    assert {"413", "431"} <= set(documented)
    if "{" in path:
        assert "INVALID_PATH" in documented["400"]["description"]
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        assert "400" in documented
