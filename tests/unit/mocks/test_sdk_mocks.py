"""What QLVB's endpoint and the VDXP axis answer alike: both speak the VDXP SDK's JSON, so a body
in another media type is a 415 and the router's own 404 and 405 come in the same `FAIL` envelope.
One test for the two mocks, each on SQLite alone (refused before any SQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from formats.edxml import render_edxml
from mocks.config import SystemConfig
from mocks.qlvb.app import create_app as create_qlvb
from tests.fixtures.apps import serving
from tests.fixtures.documents import NOW
from tests.unit.mocks.test_qlvb_app import assert_fail, make_document
from tests.unit.mocks.test_vdxp_app import running as running_axis

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(system: str, url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Kiên Giang's QLVB endpoint, or NDXP's axis with access to a stand-in bus."""
    if system == "qlvb":
        config = SystemConfig(instance="kiengiang", province_code="91", seed=7, database_url=url)
        async with serving(create_qlvb(config, now=lambda: NOW), "http://qlvb.test") as client:
            yield client
        return
    async with running_axis(url) as client:
        yield client


@pytest.mark.parametrize(
    ("system", "path", "content_type"),
    [
        ("qlvb", "/sendEdoc", "application/json"),
        ("qlvb", "/updateStatus", "text/plain"),
        ("qlvb", "/getReceivedEdocList", "application/xml"),
        ("qlvb", "/getEdoc", "application/x-www-form-urlencoded"),
        ("vdxp", "/sendEdoc", "application/json"),
        ("vdxp", "/sendStatus", "text/plain"),
        ("vdxp", "/getEdocTrail", "text/xml"),
    ],
)
async def test_a_body_of_the_wrong_media_type_is_refused(
    sqlite_url: str, system: str, path: str, content_type: str
) -> None:
    async with running(system, sqlite_url) as client:
        response = await client.post(path, content=b"{}", headers={"Content-Type": content_type})

    assert_fail(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("system", ["qlvb", "vdxp"])
@pytest.mark.parametrize(("method", "status"), [("POST", 404), ("GET", 405)])
async def test_router_errors_answer_in_the_same_shape(
    sqlite_url: str, system: str, method: str, status: int
) -> None:
    path = "/nosuch" if status == 404 else "/sendEdoc"

    async with running(system, sqlite_url) as client:
        response = await client.request(method, path)

    assert_fail(response, status, str(status))


@pytest.mark.parametrize("system", ["qlvb", "vdxp"])
async def test_a_document_id_longer_than_the_endpoints_keep_is_refused(
    sqlite_url: str, system: str
) -> None:
    """One bound for both (mocks/vdxp/sdk.py `MAX_DOCUMENT_ID`): past it, nothing is stored."""
    document = make_document(document_id=f"000.00.01.H33,2025/06/02,15/{'X' * 133}")
    assert len(document["document_id"]) == 161

    async with running(system, sqlite_url) as client:
        response = await client.post(
            "/sendEdoc", content=render_edxml(document), headers={"Content-Type": "application/xml"}
        )

    assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == "too_long"


@pytest.mark.parametrize(("system", "path"), [("qlvb", "/getEdoc"), ("vdxp", "/getEdocTrail")])
async def test_a_json_call_naming_a_document_id_too_long_to_be_kept_is_refused(
    sqlite_url: str, system: str, path: str
) -> None:
    async with running(system, sqlite_url) as client:
        response = await client.post(path, json={"documentId": "X" * 161})

    errors = assert_fail(response, 422, "INVALID_REQUEST")["Errors"]
    assert [(e["loc"], e["type"]) for e in errors] == [(["documentId"], "string_too_long")]
