"""A vendor's long-lived VDXP SDK client (the jar stamps `XroadVnpt-timestamp` once, when its
service object is made) keeps working for a day at the bus's default, and no longer: the SDK
sends no nonce, so a captured read call could otherwise be replayed for ever (no source says
the real axis checks a window: `LGSP_VDXP_SDK_MAX_SKEW_SECONDS`, assigned)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from adapters.dialects import vdxpsdk as sdk
from formats.dates import VIETNAM_TIME
from lgsp.settings import Settings
from tests.e2e.test_dialect_vdxpsdk import SEND, sdk_headers
from tests.e2e.test_sdk_documents import STC, STP, as_sent
from tests.fixtures.bus import KG, DialectSettings
from tests.fixtures.cli import CreateClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "vdxpsdk")})


@pytest.fixture
async def systems(create_client: CreateClient) -> list[tuple[str, str]]:
    """Two vendors' SDK credentials (`systemid`, `secret`), made by the CLI on the bus's
    database, as an operator makes them."""
    systems = []
    for organisation in (STP, STC):
        shown = await create_client(
            "QLVB vendor (SDK)", "--service", "qlvb", "--dialect", "vdxpsdk",
            "--organisation", organisation,
        )  # fmt: skip
        systems.append((shown["systemid"], shown["secret"]))
    return systems


async def send_and_list(
    client: httpx.AsyncClient, systems: list[tuple[str, str]], made: datetime
) -> tuple[httpx.Response, httpx.Response]:
    """What a service object made at `made` does: send a document, list the recipient's."""
    data = as_sent("edoc_update.edxml", "17601")
    sent = await client.post(SEND, content=data, headers=sdk_headers(systems[0], data, at=made))
    entries = {"Content-Type": "application/json", "servicetype": "eDoc", "messagetype": "edoc"}
    listed = await client.post(
        f"{KG}/vdxp-sdk/getReceivedEdocList",
        headers={**sdk.signed_headers(*systems[1], entries, timestamp=sdk.format_timestamp(made)),
                 "Content-Type": "application/json"},
    )  # fmt: skip
    return sent, listed


async def test_a_service_object_made_hours_ago_still_sends_and_lists(
    client: httpx.AsyncClient, settings: Settings, systems: list[tuple[str, str]]
) -> None:
    made = datetime.now(VIETNAM_TIME) - timedelta(hours=23)  # when the service object was made

    sent, listed = await send_and_list(client, systems, made)

    assert (sent.status_code, sent.json()["status"]) == (202, "OK"), sent.text
    assert listed.status_code == 200, listed.text
    assert sent.json()["DocId"] in [k["docId"] for k in listed.json()["data"]]
    assert settings.vdxp_sdk_max_skew_seconds == 86_400  # the default: no environment set


async def test_a_call_stamped_over_a_day_ago_is_stale_by_default(
    client: httpx.AsyncClient, systems: list[tuple[str, str]]
) -> None:
    """A captured `getReceivedEdocList` replayed the next day reads nothing."""
    made = datetime.now(VIETNAM_TIME) - timedelta(hours=25)

    sent, listed = await send_and_list(client, systems, made)

    assert (sent.status_code, sent.json()["ErrorCode"]) == (401, "TIMESTAMP_STALE"), sent.text
    assert (listed.status_code, listed.json()["ErrorCode"]) == (401, "TIMESTAMP_STALE")
    assert "data" not in listed.json()
