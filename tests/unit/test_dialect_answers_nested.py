"""What a door reads of the core's answer, which may be a system's body passed on: JSON
nested past the parser's stack is read as no JSON, never a 500 after the call was recorded
(the class of security finding 8, on the answer's side)."""

from __future__ import annotations

import json

import pytest
from starlette.types import Message, Receive, Scope, Send

from adapters.dialects.lgspaccesstoken import FORMS
from lgsp.dialects.exchange import Answer, problem_of
from lgsp.dialects.lgspaccesstoken_door import AccessTokenDoor
from lgsp.dialects.vdxpsdk_door import _json

pytestmark = pytest.mark.anyio

NESTED = b"[" * 5_000
GOOD = b'{"code": "CITIZEN_NOT_FOUND", "items": [[1]]}'


def answer(status: int, body: bytes) -> Answer:
    start = {"type": "http.response.start", "status": status, "headers": []}
    return Answer(messages=[start, {"type": "http.response.body", "body": body}])


async def unused(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called")


@pytest.mark.parametrize(("body", "read"), [(NESTED, {}), (GOOD, json.loads(GOOD))])
def test_a_problem_nested_past_the_stack_is_none(body: bytes, read: object) -> None:
    assert problem_of(body) == read


@pytest.mark.parametrize(("body", "read"), [(NESTED, {}), (GOOD, json.loads(GOOD))])
def test_an_sdk_view_nested_past_the_stack_is_none(body: bytes, read: object) -> None:
    assert _json(answer(200, body)) == read


@pytest.mark.parametrize(("body", "data"), [(NESTED, NESTED.decode()), (GOOD, json.loads(GOOD))])
async def test_a_success_nested_past_the_stack_is_passed_on_as_text(
    body: bytes, data: object
) -> None:
    door = AccessTokenDoor(instance="haugiang", core=unused, own=unused)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await door._envelope(send, answer(200, body), None, FORMS["haugiang"])

    assert sent[0]["status"] == 200
    document = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert document == {"error_code": "0", "message": "Thành công", "data": data}
