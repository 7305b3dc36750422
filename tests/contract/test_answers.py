"""Every published contract, the gateway's (openapi/gateway.json, at an LGSP and at NDXP) and
each service's under openapi/services/ (as an LGSP serves it, and NDXP the national ones):
whatever schemathesis sends, no 5xx, and every answer is documented, with its declared media
type and schema, problem+json included (issue 5; issue 7's fuzz with a fixed budget)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.schemas import APIOperation

from tests.contract.harness import (
    BUDGET,
    NDXP,
    Bus,
    cases,
    check,
    clear_faults,
    send,
    service_targets,
    targets,
)
from tests.fixtures.bus import KG

TOKEN_ENDPOINTS = {"/token", "/token/revoke"}  # the client authenticates by Basic or form


@pytest.mark.parametrize(
    ("base", "operation"), targets("gateway.json", (KG, NDXP)) + service_targets()
)
@BUDGET
@given(data=st.data())
def test_an_operation_answers_as_its_contract_says(
    base: str, operation: APIOperation, data: st.DataObject, contract_bus: Bus
) -> None:
    case = data.draw(cases(operation), label="case")

    try:
        response = send(contract_bus, case, base, authorised=operation.path not in TOKEN_ENDPOINTS)
    finally:
        if operation.path == "/admin/faults" and operation.method == "post":
            clear_faults(contract_bus, base)  # a rule drawn here must not break later cases

    check(case, response)
