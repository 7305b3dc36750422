"""The mocks' envelope toolkit: every error answered in the system's own envelope, never in the
bus's problem+json, with the details each family of systems writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from formats.ngsp import envelope
from mocks.envelope import (
    Envelope,
    EnvelopeError,
    NgspEnvelope,
    SdkEnvelope,
    Translation,
    install_envelope_handlers,
    router_errors,
)

pytestmark = pytest.mark.anyio


class Refused(Exception):
    """A mock's own exception, answered through a translation."""


class RefusedLoudly(Refused):
    pass


def make_app(answer: Envelope, translations: Sequence[Translation[Any]]) -> FastAPI:
    app = FastAPI()
    install_envelope_handlers(app, answer, translations)

    @app.get("/envelope-error")
    async def envelope_error() -> None:
        raise EnvelopeError(409, "409", "INVALID_STATE: đã xử lý", data={"TrangThaiHoSo": "9"})

    @app.get("/refused")
    async def refused() -> None:
        raise RefusedLoudly("the mock's own reason")

    @app.get("/items/{number}")
    async def item(number: int) -> dict[str, int]:
        return {"number": number}

    return app


async def call(app: FastAPI, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        return await client.request(method, path)


@pytest.fixture(name="ngsp")
def fx_ngsp() -> FastAPI:
    return make_app(NgspEnvelope(), [router_errors()])


async def test_envelope_error_is_answered_in_the_ngsp_envelope_with_its_payload(
    ngsp: FastAPI,
) -> None:
    response = await call(ngsp, "GET", "/envelope-error")

    assert response.status_code == 409
    assert response.json() == {
        "error_code": "409",
        "message": "INVALID_STATE: đã xử lý",
        "data": {"TrangThaiHoSo": "9"},
    }
    assert list(response.json()) == ["error_code", "message", "data"]  # the real key order


async def test_router_404_is_a_shouted_code_that_does_not_echo_the_path(ngsp: FastAPI) -> None:
    response = await call(ngsp, "GET", "/api/congdan/091089482999/unknown")

    assert response.status_code == 404
    assert response.json() == {"error_code": "404", "message": "NOT_FOUND", "data": None}
    assert "091089482999" not in response.text


async def test_router_405_keeps_its_allow_header_with_head_beside_get(ngsp: FastAPI) -> None:
    """HEAD is served wherever GET is (`kit.head`: the bus, and a mock run as a process)."""
    response = await call(ngsp, "POST", "/items/1")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["message"] == "METHOD_NOT_ALLOWED"


async def test_unhandled_validation_error_is_not_answered_by_a_toolkit_that_was_not_told() -> None:
    """Only the classes listed are answered in the envelope: FastAPI keeps its own 422."""
    response = await call(make_app(NgspEnvelope(), [router_errors()]), "GET", "/items/x")

    assert response.status_code == 422
    assert "detail" in response.json()


async def test_dvcqg_family_writes_result_and_its_own_code_for_router_errors() -> None:
    app = make_app(NgspEnvelope(key="result", success_message="Thành công"), [router_errors("-1")])

    response = await call(app, "GET", "/nowhere")

    assert response.json() == {"error_code": "-1", "message": "NOT_FOUND", "result": None}


def test_ngsp_ok_is_the_success_envelope_with_status_and_extra_members() -> None:
    answer = NgspEnvelope(key="result", success_message="Thành công").ok([1], 201, TrungLap=False)

    assert answer.status_code == 201
    assert json.loads(answer.body) == {
        **envelope([1], message="Thành công", key="result"),
        "TrungLap": False,
    }
    assert list(json.loads(answer.body)) == ["error_code", "message", "result", "TrungLap"]


async def test_sdk_family_answers_fail_with_extra_fields_and_unshouted_reasons() -> None:
    def loudly(exc: Refused) -> EnvelopeError:
        return EnvelopeError(422, "REFUSED", str(exc), {"Rule": "loud"})

    app = make_app(SdkEnvelope(), [Translation(Refused, loudly), router_errors(shout=False)])

    refused = await call(app, "GET", "/refused")
    missing = await call(app, "GET", "/nowhere")

    assert refused.status_code == 422
    assert refused.json() == {
        "status": "FAIL",
        "ErrorCode": "REFUSED",
        "ErrorDesc": "the mock's own reason",
        "Rule": "loud",
    }
    assert missing.json() == {"status": "FAIL", "ErrorCode": "404", "ErrorDesc": "Not Found"}


def test_sdk_ok_carries_the_fields_after_the_status() -> None:
    answer = SdkEnvelope().ok(DocId="42")

    assert answer.body == b'{"status":"OK","ErrorCode":"0","ErrorDesc":"","DocId":"42"}'


async def test_the_first_translation_that_fits_answers() -> None:
    def first(_exc: Refused) -> EnvelopeError:
        return EnvelopeError(400, "first", "first")

    def second(_exc: RefusedLoudly) -> EnvelopeError:
        return EnvelopeError(400, "second", "second")

    app = make_app(
        NgspEnvelope(), [Translation(Refused, first), Translation(RefusedLoudly, second)]
    )

    assert (await call(app, "GET", "/refused")).json()["error_code"] == "first"


async def test_validation_errors_are_answered_when_a_translation_is_given() -> None:
    def invalid(exc: RequestValidationError) -> EnvelopeError:
        fields = ", ".join(str(error["loc"][-1]) for error in exc.errors())
        return EnvelopeError(400, "302", f"DATA_TYPE_INVALID: {fields}")

    app = make_app(NgspEnvelope(), [Translation(RequestValidationError, invalid)])

    response = await call(app, "GET", "/items/x")

    assert response.status_code == 400
    assert response.json() == {
        "error_code": "302",
        "message": "DATA_TYPE_INVALID: number",
        "data": None,
    }
