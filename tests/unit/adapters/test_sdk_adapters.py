"""What the two SDK-style adapters (`qlvb`, `vdxp`) do alike, one test each over both.

Each system refuses in terms of its own, and answers in shapes of its own: its test module lists
those (`REFUSALS`, `UNREADABLE`). The refusals both make in the same words (`adapters._common`'s
`idempotency_refusals` and `edxml_refusals`, and a few of their own) and the answers no SDK-style
adapter can read are written here once, and checked of both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from types import ModuleType
from typing import Any

import pytest

from adapters import UnknownOperation
from adapters.base import CanonicalRequest, SystemResponse, TranslationError
from adapters.qlvb import (
    DocumentNotFound,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    NotAParty,
    QlvbAdapter,
    UnknownRecipient,
    UnknownReporter,
    document_key,
)
from adapters.vdxp import VdxpAdapter
from formats.edxml import InvalidEdxml
from tests.fixtures.documents import NOW
from tests.unit.adapters import test_qlvb_adapter as qlvb
from tests.unit.adapters import test_vdxp_adapter as vdxp
from tests.unit.adapters.calls import (
    SECRET,
    SdkRefusal,
    refused,
    sdk_answer,
)

Sdk = QlvbAdapter | VdxpAdapter
KEY = document_key("000.00.01.H33,2025/06/02,15/STP-VP")

# Both systems' refusals that become the same problem.
SHARED_REFUSALS: list[SdkRefusal] = [
    (404, {"ErrorCode": "DOCUMENT_NOT_FOUND"}, DocumentNotFound, {}),
    (403, {"ErrorCode": "NOT_A_PARTY"}, NotAParty, {}),
    (422, {"ErrorCode": "IDEMPOTENCY_KEY_REUSED"}, IdempotencyKeyReused, {}),
    (400, {"ErrorCode": "INVALID_IDEMPOTENCY_KEY"}, InvalidIdempotencyKey, {}),
    (422, {"ErrorCode": "INVALID_EDXML", "Rule": "document_id_mismatch"}, InvalidEdxml,
     {"rule": "document_id_mismatch"}),
    (422, {"ErrorCode": "INVALID_EDXML", "Rule": "Not A Rule"}, InvalidEdxml, {"rule": "refused"}),
    (422, {"ErrorCode": "INVALID_EDXML", "Rule": SECRET}, InvalidEdxml, {"rule": "refused"}),
    (413, {"ErrorCode": "TOO_LARGE"}, InvalidEdxml, {"rule": "too_large"}),
]  # fmt: skip

# Answers no SDK-style adapter can read, whatever the operation.
UNREADABLE = [
    SystemResponse(200, b"<html>proxy error</html>"),
    SystemResponse(200, b"[]"),
    SystemResponse(500, b'{"status": "FAIL", "ErrorCode": "E500"}'),
    sdk_answer(418, ErrorCode="DOCUMENT_NOT_FOUND"),
]

# An inbound status names its reporter, not a recipient, when no agency has the organ id.
QLVB_PER_OPERATION: Mapping[tuple[str, type[TranslationError]], type[TranslationError]] = {
    ("receive_status", UnknownRecipient): UnknownReporter
}

# Each adapter with its test module, whose tables say what only its system refuses or answers.
SYSTEMS: list[tuple[Sdk, ModuleType]] = [
    (QlvbAdapter(today=lambda: date(2025, 6, 2), now=lambda: NOW), qlvb),
    (VdxpAdapter(today=lambda: date(2025, 6, 2)), vdxp),
]


def _refusals() -> Iterator[Any]:
    for adapter, tests in SYSTEMS:
        for number, (status, fields, error, extensions) in enumerate(
            [*SHARED_REFUSALS, *tests.REFUSALS]
        ):
            for operation in tests.OPERATIONS:
                expected = QLVB_PER_OPERATION.get((operation, error), error)
                case = f"{adapter.adapter}-{operation}-{number}-{fields['ErrorCode']}"
                yield pytest.param(
                    adapter, operation, (status, fields), expected, extensions, id=case
                )


def _unreadable() -> Iterator[Any]:
    for adapter, tests in SYSTEMS:
        table = [*((tests.OPERATIONS, response) for response in UNREADABLE), *tests.UNREADABLE]
        each = [(operation, answer) for operations, answer in table for operation in operations]
        for number, (operation, response) in enumerate(each):
            yield pytest.param(
                adapter, operation, response, id=f"{adapter.adapter}-{operation}-{number}"
            )


@pytest.mark.parametrize(
    ("adapter", "operation", "answer", "error", "extensions"), list(_refusals())
)
def test_each_refusal_of_the_system_has_its_own_problem(
    adapter: Sdk,
    operation: str,
    answer: tuple[int, dict[str, Any]],
    error: type[TranslationError],
    extensions: dict[str, Any],
) -> None:
    """The system's refusal (`status`, SDK `fields`) becomes `error`, its content kept out.

    Only the codec's own text (INVALID_EDXML) is ever repeated; it names elements, not values.
    """
    status, fields = answer
    desc = "MessageHeader has no Subject." if error is InvalidEdxml else f"about {SECRET}"
    response = sdk_answer(status, **{"ErrorDesc": desc, **fields})
    request = CanonicalRequest(operation, {"id": KEY})

    caught = refused(lambda: adapter.to_canonical(request, response), error)

    assert caught.status == error.status
    assert caught.extensions == extensions


@pytest.mark.parametrize(("adapter", "operation", "response"), list(_unreadable()))
def test_an_answer_the_adapter_cannot_read_is_a_bad_gateway(
    adapter: Sdk, operation: str, response: SystemResponse
) -> None:
    """A 502 that repeats none of the answer's content."""
    request = CanonicalRequest(operation, {"id": KEY})

    caught = refused(lambda: adapter.to_canonical(request, response), adapter.invalid)

    assert caught.status == 502


@pytest.mark.parametrize(
    "adapter", [adapter for adapter, _ in SYSTEMS], ids=lambda adapter: adapter.adapter
)
def test_an_unknown_operation_is_not_supported(adapter: Sdk) -> None:
    request = CanonicalRequest("delete_document", {})

    refused(lambda: adapter.to_system(request), UnknownOperation)
    refused(lambda: adapter.to_canonical(request, sdk_answer()), UnknownOperation)
