"""`/console`: server-rendered pages over the admin API, signed in as an admin client."""

from __future__ import annotations

import json
import re
from typing import Any, cast
from urllib.parse import unquote_plus

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from lgsp.audit.chain import GENESIS_HASH
from lgsp.console import audit_export
from lgsp.console import router as console_router
from lgsp.console.sessions import SessionStore
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.apps import running
from tests.fixtures.bus import KG, BusPool, asgi_client, bearer, fetch_token, registered_client
from tests.fixtures.console import (
    CONSOLE,
    UNKNOWN_CITIZEN,
    assert_refused_form,
    assert_stays_on_the_bus,
    look_up,
    sign_in,
)
from tests.fixtures.outbox import hand_over_lookup

pytestmark = pytest.mark.anyio


async def test_pages_need_a_signed_in_admin(client: httpx.AsyncClient) -> None:
    for path in ("", "/kiengiang/journal", "/trace", "/kiengiang/faults", "/kiengiang/outbox"):
        answer = await client.get(f"{CONSOLE}{path}")
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith(f"{CONSOLE}/login")


async def test_a_client_that_is_not_admin_cannot_sign_in(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    plain = await registered_client(bus, {"dancu": "GET"}, name="not-admin")

    answer = await client.post(
        f"{CONSOLE}/login",
        data={
            "instance": "kiengiang",
            "client_id": plain.client_id,
            "client_secret": plain.client_secret,
        },
    )

    assert answer.status_code == 303
    assert "/login?error=" in answer.headers["location"]
    assert "cần một client quản trị" in unquote_plus(answer.headers["location"])
    assert "lgsp_console" not in answer.cookies


async def test_a_wrong_secret_is_said_to_be_wrong(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"{CONSOLE}/login",
        data={"instance": "kiengiang", "client_id": "demo", "client_secret": "not-it"},
    )

    assert answer.status_code == 303
    assert "sai client_id hoặc client_secret" in unquote_plus(answer.headers["location"])
    assert "lgsp_console" not in answer.cookies


async def test_a_browser_s_wrong_secrets_lock_out_that_browser_not_every_local_caller(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    """The console asks the token endpoint from the browser's address (SECURITY-PROBE
    2026-12-07 #6): as 127.0.0.1, one browser's guesses locked the bus-wide admin out."""
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as browser:
        for attempt in range(settings.login_max_failures + 1):
            form = {"instance": "kiengiang", "client_id": "demo", "client_secret": f"no{attempt}"}
            await browser.post(f"{CONSOLE}/login", data=form)
        form["client_secret"] = settings.demo_client_secret.get_secret_value()
        locked = await browser.post(f"{CONSOLE}/login", data=form)

    assert await fetch_token(client)  # from 127.0.0.1: not this browser's failures
    assert locked.status_code == 303
    assert "lgsp_console" not in locked.cookies
    assert "Quá nhiều lần đăng nhập sai" in unquote_plus(locked.headers["location"])


def session_cookie(client: httpx.AsyncClient) -> str:
    (value,) = {cookie.value for cookie in client.cookies.jar if cookie.name == "lgsp_console"}
    assert value is not None
    return value


async def test_a_sign_in_holds_in_every_process_of_the_bus_and_so_does_a_sign_out(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    """`lgsp serve --workers N`: the next request of a browser may reach another process."""
    csrf = await sign_in(client)
    cookie = session_cookie(client)
    from lgsp.composition import create_bus

    another = create_bus(bus.settings, instances=list(bus.instances))
    async with running(another) as manager:
        async with asgi_client(cast(FastAPI, manager.app)) as elsewhere:
            elsewhere.cookies.set("lgsp_console", cookie, path=CONSOLE)
            page = await elsewhere.get(CONSOLE)
            signed_out = await elsewhere.post(f"{CONSOLE}/logout", data={"csrf": csrf})

    assert page.status_code == 200, page.headers.get("location")
    assert f'value="{csrf}"' in page.text  # the same session, its forms' token too
    assert signed_out.status_code == 303
    assert (await client.get(CONSOLE)).status_code == 303  # signed out here as well
    async with bus.session_factory() as session:
        stored = " ".join(
            str(row) for row in await session.execute(text("SELECT * FROM console_sign_ins"))
        )
    assert cookie not in stored


async def test_signing_in_again_ends_the_browser_s_previous_sign_in(
    client: httpx.AsyncClient,
) -> None:
    """A new sign-in gets a new cookie (no fixation), and the one it replaces stops working in
    every process: a copy of it (another tab's, a stolen one) is not signed in for an hour."""
    await sign_in(client)
    before = session_cookie(client)

    await sign_in(client)
    after = session_cookie(client)
    client.cookies.clear()
    client.cookies.set("lgsp_console", before, path=CONSOLE)
    replaced = await client.get(CONSOLE)

    assert after != before
    assert replaced.status_code == 303
    assert replaced.headers["location"].startswith(f"{CONSOLE}/login")


async def test_live_sign_ins_are_bounded_per_client_the_oldest_ending_first(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    """Every sign-in is a row per instance until it expires: an admin client (a script, a
    leaked secret) signing in in a loop keeps at most `limit` of them, not the table growing."""
    store = SessionStore(limit=2)
    scopes = {"kiengiang": "admin"}
    cookies = [await store.open(bus, "looping-admin", scopes, expires_in=3600) for _ in range(3)]

    kept = [await store.get(bus, cookie) is not None for cookie in cookies]
    async with bus.session_factory() as session:
        rows = (
            await session.execute(
                text("SELECT COUNT(*) FROM console_sign_ins WHERE client_id = 'looping-admin'")
            )
        ).scalar()

    assert kept == [False, True, True]
    assert rows == 2


async def test_the_database_keeps_neither_the_cookie_nor_a_token_of_a_sign_in(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    await sign_in(client)
    cookie = session_cookie(client)

    async with bus.session_factory() as session:
        rows = [tuple(row) for row in await session.execute(text("SELECT * FROM console_sign_ins"))]
    assert {row[1] for row in rows} == set(bus.instances)  # the demo admin: every instance
    stored = " ".join(str(value) for row in rows for value in row)
    assert cookie not in stored
    assert "eyJ" not in stored  # no JWT


@pytest.mark.usefixtures("csrf")
async def test_overview_shows_every_instance_of_the_topology(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    page = await client.get(CONSOLE)

    assert page.status_code == 200
    for name in bus.instances:
        assert f'data-instance="{name}"' in page.text
    assert "Sẵn sàng" in page.text
    assert_stays_on_the_bus(page.text)


@pytest.mark.usefixtures("csrf")
async def test_journal_pages_are_masked_and_keyset_paged(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    for _ in range(3):
        await look_up(client, demo_token)

    page = await client.get(f"{CONSOLE}/kiengiang/journal", params={"service": "dancu"})

    assert page.status_code == 200
    assert UNKNOWN_CITIZEN not in page.text  # the CCCD is masked in paths and bodies
    assert page.text.count('class="trace-link"') == 3
    ids = [int(i) for i in re.findall(r'data-entry="(\d+)"', page.text)]
    older = await client.get(
        f"{CONSOLE}/kiengiang/journal", params={"service": "dancu", "before": ids[0]}
    )
    assert older.text.count('class="trace-link"') == 2
    assert_stays_on_the_bus(page.text)


@pytest.mark.usefixtures("csrf")
async def test_trace_draws_the_hops_of_a_cross_province_call(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    await look_up(client, demo_token, "082199999999", request_id="trace-1", target="tiengiang")

    page = await client.get(f"{CONSOLE}/trace", params={"request_id": "trace-1"})

    assert page.status_code == 200
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    for lane in ("client demo", "kiengiang", "ndxp", "tiengiang", "tiengiang/dancu"):
        assert f">{lane}</text>" in svg, lane
    assert 'class="hop failed" data-hop="upstream"' in svg  # the citizen is nobody: dancu's 404
    assert "Chặng lỗi đầu tiên" in page.text


async def test_a_fault_is_added_and_removed(
    client: httpx.AsyncClient, csrf: str, demo_token: str
) -> None:
    faults = f"{CONSOLE}/kiengiang/faults"

    added = await client.post(
        faults, data={"csrf": csrf, "service": "dancu", "status": "503", "times": "1"}
    )
    assert added.status_code == 303
    page = await client.get(faults)
    rule_id = re.search(r'data-rule="(\d+)"', page.text)
    assert rule_id is not None
    refused = await look_up(client, demo_token)
    assert refused.json()["code"] == "INJECTED_FAULT"

    forged = await client.post(f"{faults}/{rule_id.group(1)}/delete", data={"csrf": "forged"})
    assert "data-rule=" in (await client.get(faults)).text  # no CSRF token: nothing removed
    removed = await client.post(f"{faults}/{rule_id.group(1)}/delete", data={"csrf": csrf})
    assert removed.status_code == forged.status_code == 303
    assert "data-rule=" not in (await client.get(faults)).text


async def test_a_bad_fault_rule_is_shown_not_stored(client: httpx.AsyncClient, csrf: str) -> None:
    answer = await client.post(
        f"{CONSOLE}/kiengiang/faults", data={"csrf": csrf, "service": "dancu", "status": "200"}
    )

    assert "error=" in answer.headers["location"]
    assert "data-rule=" not in (await client.get(f"{CONSOLE}/kiengiang/faults")).text


@pytest.mark.usefixtures("csrf")
async def test_outbox_page_lists_dead_letters_masked(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    unknown = "082199999999"  # Tiền Giang holds nobody by this number: 404, dead at once
    taken = await hand_over_lookup(client, demo_token, unknown, key="console-dead-1")
    wait = await client.post(
        "/lgsp/tiengiang/admin/journal/wait",
        json={"path": "/dancu/v1/citizens/*", "status": 404, "timeout_seconds": 20},
        headers=bearer(await fetch_token(client, "/lgsp/tiengiang")),
    )
    assert wait.status_code == 200, wait.text

    page = await client.get(f"{CONSOLE}/kiengiang/outbox")

    assert page.status_code == 200
    assert f'data-message="{taken["message_id"]}"' in page.text
    assert "Thư chết" in page.text
    assert unknown not in page.text
    assert_stays_on_the_bus(page.text)


@pytest.mark.usefixtures("csrf")
async def test_an_unknown_instance_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"{CONSOLE}/atlantis/journal")

    assert_refused_form(answer)


async def test_audit_page_lists_the_chain_and_verifies_it(
    client: httpx.AsyncClient, csrf: str, demo_token: str
) -> None:
    await look_up(client, demo_token, request_id="audit-console-1")

    listing = await client.get(
        f"{CONSOLE}/kiengiang/audit", params={"request_id": "audit-console-1"}
    )
    first_page = await client.get(f"{CONSOLE}/kiengiang/audit")
    verified = await client.post(f"{CONSOLE}/kiengiang/audit/verify", data={"csrf": csrf})

    assert "audit-console-1" in listing.text
    assert first_page.status_code == 200
    assert verified.status_code == 200
    assert "Chuỗi nguyên vẹn" in verified.text


def exported(answer: httpx.Response) -> list[dict[str, Any]]:
    """The records of an audit export, after checking it is a JSON Lines download."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    return [json.loads(line) for line in answer.text.splitlines()]


async def test_audit_export_streams_the_whole_chain_page_by_page_linked_and_masked(
    client: httpx.AsyncClient, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_export, "MAX_PAGE_SIZE", 3)  # several pages from a few records
    await sign_in(client)
    for n in range(4):
        await look_up(client, demo_token, request_id=f"audit-export-{n}")

    answer = await client.get(f"{CONSOLE}/kiengiang/audit/export")

    records = exported(answer)
    seqs = [record["seq"] for record in records]
    assert seqs == list(range(1, len(records) + 1))  # every record, in chain order
    assert records[0]["prev_hash"] == GENESIS_HASH
    for earlier, later in zip(records, records[1:], strict=False):
        assert later["prev_hash"] == earlier["hash"]
    assert {f"audit-export-{n}" for n in range(4)} <= {r["request_id"] for r in records}
    assert {r["instance"] for r in records} == {"kiengiang"}
    assert UNKNOWN_CITIZEN not in answer.text  # the CCCD in the paths is masked


@pytest.mark.usefixtures("csrf")
async def test_audit_export_applies_the_pages_filters(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    for n in range(2):
        await look_up(client, demo_token, request_id=f"audit-filter-{n}")
    await client.get(  # no token: refused before any service answers
        f"{KG}/dancu/v1/citizens/{UNKNOWN_CITIZEN}", headers={"X-Request-ID": "audit-filter-x"}
    )
    page = await client.get(
        f"{CONSOLE}/kiengiang/audit", params={"service": "dancu", "status": "404", "hop": "inbound"}
    )
    link = re.search(r'id="export" href="([^"]+)"', page.text)
    assert link is not None

    records = exported(await client.get(link.group(1).replace("&amp;", "&")))
    everything = exported(await client.get(f"{CONSOLE}/kiengiang/audit/export"))

    assert {(r["service"], r["status"], r["hop"]) for r in records} == {("dancu", 404, "inbound")}
    ours = [r["request_id"] for r in records if r["request_id"].startswith("audit-filter-")]
    assert ours == ["audit-filter-0", "audit-filter-1"]
    assert "audit-filter-x" in {r["request_id"] for r in everything}


@pytest.mark.usefixtures("looked_up")
async def test_audit_pages_keep_their_filters_on_the_next_page(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_router, "PAGE_SIZE", 1)

    page = await client.get(f"{CONSOLE}/kiengiang/audit", params={"hop": "upstream"})

    following = re.search(r'id="next" href="([^"]+)"', page.text)
    assert following is not None
    assert "hop=upstream" in following.group(1)
    assert 'id="export" href="/console/kiengiang/audit/export?hop=upstream"' in page.text


@pytest.mark.usefixtures("csrf")
async def test_audit_export_of_one_request_gives_its_hops(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    await look_up(client, demo_token, request_id="audit-export-one")

    answer = await client.get(
        f"{CONSOLE}/kiengiang/audit/export", params={"request_id": "audit-export-one"}
    )

    records = exported(answer)
    assert records
    assert {r["request_id"] for r in records} == {"audit-export-one"}


@pytest.mark.usefixtures("csrf")
async def test_audit_export_with_a_bad_filter_goes_back_saying_why(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(f"{CONSOLE}/kiengiang/audit/export", params={"status": "abc"})

    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{CONSOLE}/kiengiang/audit?error=")


async def test_audit_export_needs_a_signed_in_admin(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"{CONSOLE}/kiengiang/audit/export")

    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{CONSOLE}/login")


@pytest.mark.usefixtures("spoiled_bus")
async def test_audit_verify_shows_an_edited_record(
    client: httpx.AsyncClient, csrf: str, demo_token: str, bus: BusState
) -> None:
    await look_up(client, demo_token, request_id="audit-edit-1")
    async with bus.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE audit_records SET status = 200"
                " WHERE request_id = 'audit-edit-1' AND hop = 'inbound'"
            )
        )

    verified = await client.post(f"{CONSOLE}/kiengiang/audit/verify", data={"csrf": csrf})

    assert "Chuỗi bị sửa đổi" in verified.text


async def test_the_console_masks_even_an_unmasked_journal(
    settings: Settings, bus_pool: BusPool
) -> None:
    async with bus_pool.client(settings, journal_unmasked=True) as client:
        token = await fetch_token(client)
        await look_up(client, token)
        api = await client.get(f"{KG}/admin/journal", headers=bearer(token))
        assert UNKNOWN_CITIZEN in api.text  # the instance keeps it as sent (dev profile)
        await sign_in(client)

        page = await client.get(f"{CONSOLE}/kiengiang/journal")

    assert page.status_code == 200
    assert 'class="trace-link"' in page.text
    assert UNKNOWN_CITIZEN not in page.text
