"""A central body beside VPCP is a setting (`SystemConfig.central_agencies`, assigned): the
axis serves it only when configured, and its national inbox takes what is addressed to it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from formats.edxml import render_edxml
from mocks.bus import ORIGIN_HEADER
from mocks.config import SystemConfig
from tests.fixtures.handovers import HandoverBus
from tests.unit.mocks.test_qlvb_app import assert_fail, assert_ok, document_id, make_document
from tests.unit.mocks.test_vdxp_app import running, submit

pytestmark = pytest.mark.anyio

MINISTRY = "000.00.00.G14"  # a G code seen in public code (DOMAIN.md §6.2), unnamed there
ASSIGNED = {MINISTRY: "Bộ (assigned)"}


async def test_an_assigned_central_body_receives_in_its_national_inbox(
    sqlite_url: str, handovers: HandoverBus
) -> None:
    document = make_document(to=(MINISTRY,), number="31")

    async with running(
        sqlite_url, handovers=handovers, central={MINISTRY: "Bộ (assigned)"}
    ) as axis:
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

    async with running(sqlite_url, handovers=handovers) as axis:
        response = await submit(axis, render_edxml(document))

    assert_fail(response, 422, "UNKNOWN_CENTRAL_AGENCY")
    assert response.json()["OrganIds"] == [MINISTRY]


def test_only_a_central_code_can_be_assigned_to_a_central_body() -> None:
    with pytest.raises(ValidationError):
        SystemConfig(instance="ndxp", central_agencies={"000.00.01.H33": "Sở Tư pháp"})


async def test_a_central_bodys_inbox_is_read_from_the_axiss_own_instance_only(
    sqlite_url: str, handovers: HandoverBus
) -> None:
    document = make_document(to=(MINISTRY,), number="33")
    ndxp, province = {ORIGIN_HEADER: "ndxp"}, {ORIGIN_HEADER: "kiengiang"}

    async with running(sqlite_url, handovers=handovers, central=ASSIGNED) as axis:
        assert_ok(await submit(axis, render_edxml(document)))
        listing = {"organId": MINISTRY}
        (item,) = assert_ok(await axis.post("/getReceivedEdocList", json=listing, headers=ndxp))[
            "Items"
        ]
        message = {"organId": MINISTRY, "docId": item["DocId"]}
        own = await axis.post("/getEdoc", json=message, headers=ndxp)
        listed = await axis.post("/getReceivedEdocList", json=listing, headers=province)
        fetched = await axis.post("/getEdoc", json=message, headers=province)

    assert assert_ok(own)["DocId"] == item["DocId"]
    for refused in (listed, fetched):
        assert_fail(refused, 403, "NOT_OF_CALLING_PROVINCE")
        assert "Items" not in refused.json()
        assert "Content" not in refused.json()
