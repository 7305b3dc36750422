"""A central body beside VPCP is a setting (`SystemConfig.central_agencies`, assigned): the
axis serves it only when configured, and its national inbox takes what is addressed to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import ValidationError

from formats.edxml import render_edxml
from mocks.config import SystemConfig
from mocks.vdxp.app import create_app
from tests.fixtures.handovers import HandoverBus, bus_access, handing_over
from tests.unit.mocks.test_qlvb_app import assert_fail, assert_ok, document_id, make_document
from tests.unit.mocks.test_vdxp_app import PROVINCES, submit

pytestmark = pytest.mark.anyio

MINISTRY = "000.00.00.G14"  # a G code seen in public code (DOMAIN.md §6.2), unnamed there


@asynccontextmanager
async def axis_with(
    url: str, handovers: HandoverBus, central: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    config = SystemConfig(
        instance="ndxp",
        provinces=PROVINCES,
        database_url=url,
        central_agencies=central,
        **bus_access("ndxp", "vdxp"),
    )
    async with handing_over(
        create_app, config, "http://vdxp.test", handovers=handovers, raise_app_exceptions=False
    ) as client:
        yield client


async def test_an_assigned_central_body_receives_in_its_national_inbox(
    sqlite_url: str, handovers: HandoverBus
) -> None:
    document = make_document(to=(MINISTRY,), number="31")

    async with axis_with(sqlite_url, handovers, {MINISTRY: "Bộ (assigned)"}) as axis:
        answer = assert_ok(await submit(axis, render_edxml(document)))
        inbox = assert_ok(await axis.post("/getReceivedEdocList", json={"organId": MINISTRY}))

    assert answer["Destinations"] == []  # no province: nothing handed over
    assert handovers.handed == []
    assert [(i["DocumentId"], i["To"]) for i in inbox["Items"]] == [
        (document_id(document), MINISTRY)
    ]


async def test_a_central_code_not_configured_is_refused_by_its_own_code(
    sqlite_url: str, handovers: HandoverBus
) -> None:
    document = make_document(to=(MINISTRY,), number="32")

    async with axis_with(sqlite_url, handovers, {}) as axis:
        response = await submit(axis, render_edxml(document))

    assert_fail(response, 422, "UNKNOWN_CENTRAL_AGENCY")
    assert response.json()["OrganIds"] == [MINISTRY]


def test_only_a_central_code_can_be_assigned_to_a_central_body() -> None:
    with pytest.raises(ValidationError):
        SystemConfig(instance="ndxp", central_agencies={"000.00.01.H33": "Sở Tư pháp"})
