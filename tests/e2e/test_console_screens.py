"""`/console`'s screens beyond the first sitting's: clients and rights, catalog with try-it,
documents and dossiers, connection test, reset and samples, the verify builder (issue 19)."""

from __future__ import annotations

import html
import json
import re
import shlex
from urllib.parse import unquote_plus

import httpx
import pytest

from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.bus import KG, BusPool, bearer, fetch_token, registered_client
from tests.fixtures.console import (
    CONSOLE,
    assert_refused_form,
    assert_shows_a_problem,
    assert_stays_on_the_bus,
    sign_in,
    sign_in_as_instance_admin,
)
from tests.fixtures.documents import local_document

pytestmark = pytest.mark.anyio

CLIENTS = f"{CONSOLE}/kiengiang/clients"


class TestClients:
    async def test_a_client_is_made_with_its_secret_shown_once(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        made = await client.post(
            CLIENTS,
            data={
                "csrf": csrf,
                "name": "Sở Tư pháp",
                "organisation": "000.00.01.H33",
                "right.dancu": ["GET"],
                "right.dvc": ["*", "GET"],
            },
        )

        assert made.status_code == 200
        client_id = re.search(r'id="new-client-id">([^<]+)<', made.text)
        secret = re.search(r'id="new-client-secret">([^<]+)<', made.text)
        assert client_id is not None
        assert secret is not None
        token = await fetch_token(client, client_id=client_id.group(1), secret=secret.group(1))
        assert token
        listing = await client.get(CLIENTS)
        assert f'data-client="{client_id.group(1)}"' in listing.text
        assert secret.group(1) not in listing.text  # once, on the answer to the form only
        assert "000.00.01.H33" in listing.text
        assert "dancu: GET" in listing.text
        assert "dvc: *" in listing.text
        assert_stays_on_the_bus(listing.text)

    async def test_a_client_is_revoked_and_rerighted(
        self, client: httpx.AsyncClient, csrf: str, bus: BusState
    ) -> None:
        plain = await registered_client(bus, {"dancu": "GET"}, name="console-revoked")

        forged = await client.post(f"{CLIENTS}/{plain.client_id}/revoke", data={"csrf": "forged"})
        rerighted = await client.post(
            f"{CLIENTS}/{plain.client_id}/rights",
            data={"csrf": csrf, "right.dvc": ["GET", "POST"]},
        )
        listing = await client.get(CLIENTS)
        row = listing.text[listing.text.index(f'data-client="{plain.client_id}"') :]
        assert "dvc: GET,POST" in row.split("</tr>")[0]
        assert "error=" in forged.headers["location"]
        assert rerighted.headers["location"] == CLIENTS
        revoked = await client.post(f"{CLIENTS}/{plain.client_id}/revoke", data={"csrf": csrf})

        assert revoked.headers["location"] == CLIENTS
        refused = await client.post(
            f"{KG}/token",
            data={"grant_type": "client_credentials"},
            auth=(plain.client_id, plain.client_secret),
        )
        assert refused.status_code == 401

    @pytest.mark.parametrize(
        ("fields", "shown"),
        [
            ({"name": "", "right.dancu": ["GET"]}, "error="),
            ({"name": "x", "organisation": "H33"}, "error="),
        ],
        ids=["no name", "bad organisation"],
    )
    async def test_a_bad_client_form_is_shown_not_stored(
        self, client: httpx.AsyncClient, csrf: str, fields: dict[str, object], shown: str
    ) -> None:
        before = (await client.get(CLIENTS)).text.count("data-client=")

        answer = await client.post(CLIENTS, data={"csrf": csrf, **fields})

        assert answer.status_code == 303
        assert shown in answer.headers["location"]
        assert (await client.get(CLIENTS)).text.count("data-client=") == before

    async def test_a_protected_client_cannot_be_revoked_from_the_console(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        answer = await client.post(f"{CLIENTS}/system-dvc/revoke", data={"csrf": csrf})

        assert "error=" in answer.headers["location"]

    async def test_an_instance_admin_sees_only_its_own_clients_screen(
        self, client: httpx.AsyncClient, bus: BusState, demo_token: str
    ) -> None:
        await sign_in_as_instance_admin(client, demo_token, "kg-admin")

        own = await client.get(CLIENTS)
        other = await client.get(f"{CONSOLE}/tiengiang/clients")

        assert own.status_code == 200
        assert_refused_form(other)

    async def test_the_clients_screen_needs_a_signed_in_admin(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get(CLIENTS)

        assert answer.headers["location"].startswith(f"{CONSOLE}/login")


CATALOG = f"{CONSOLE}/kiengiang/catalog"
LOOKUP = "dancu.v1:get_citizen"


async def try_as_demo(client: httpx.AsyncClient, csrf: str, **fields: str) -> httpx.Response:
    """The catalog's try-it for the example lookup, as the demo client."""
    data = {
        "csrf": csrf,
        "operation": LOOKUP,
        "client_id": "demo",
        "client_secret": "lgsp-demo-secret",
        **fields,
    }
    return await client.post(f"{CATALOG}/try", data=data)


def steps_of(html: str) -> list[int]:
    """The statuses of the try-it's steps, in order."""
    return [int(s) for s in re.findall(r'class="step \w+" data-status="(\d+)"', html)]


@pytest.mark.usefixtures("csrf")
class TestCatalog:
    """The catalog and its try-it, signed in as the bus's admin."""

    async def test_the_catalog_shows_contracts_and_examples_as_curl(
        self, client: httpx.AsyncClient
    ) -> None:
        page = await client.get(CATALOG)

        assert page.status_code == 200
        assert f'data-operation="{LOOKUP}"' in page.text
        assert f'href="{KG}/services/dancu/v1/openapi.json"' in page.text
        assert "curl -sS -i" in page.text
        assert "-X GET" in page.text
        assert_stays_on_the_bus(page.text)

    async def test_try_it_as_the_demo_client_gets_a_token_then_the_answer(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        page = await try_as_demo(client, csrf)

        statuses = steps_of(page.text)
        assert statuses[0] == 200
        assert len(statuses) == 2
        assert statuses[1] in (200, 404)  # the seeded citizen of the default seed, or nobody
        assert "eyJ" not in page.text  # no JWT: the token is the client's, not the page's

    async def test_try_it_shows_a_wrong_secret_as_the_token_endpoint_401(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        page = await try_as_demo(client, csrf, client_secret="x")

        assert steps_of(page.text) == [401]
        assert "invalid_client" in page.text

    async def test_try_it_shows_a_missing_right_as_403(
        self, client: httpx.AsyncClient, csrf: str, bus: BusState
    ) -> None:
        plain = await registered_client(bus, {"dvc": "GET"}, name="no-dancu")

        page = await client.post(
            f"{CATALOG}/try",
            data={
                "csrf": csrf,
                "operation": LOOKUP,
                "client_id": plain.client_id,
                "client_secret": plain.client_secret,
            },
        )

        assert steps_of(page.text) == [200, 403]
        assert "X-LGSP-Error-Source: gateway" in page.text

    async def test_try_it_without_a_token_shows_the_gateway_401(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        page = await client.post(
            f"{CATALOG}/try", data={"csrf": csrf, "operation": LOOKUP, "client_id": ""}
        )

        assert steps_of(page.text) == [401]
        assert "INVALID_TOKEN" in page.text

    async def test_try_it_across_provinces_links_the_trace_naming_the_failed_hop(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        page = await try_as_demo(client, csrf, target="tiengiang")
        link = re.search(r'id="tried-trace" href="([^"]+)"', page.text)
        assert link is not None
        trace = await client.get(html.unescape(link.group(1)))

        assert steps_of(page.text) == [200, 404]  # the example's citizen lives in Kiên Giang
        assert "Chặng lỗi đầu tiên" in trace.text
        assert 'data-hop="upstream"' in trace.text

    @pytest.mark.parametrize(
        "fields",
        [{"operation": "atlantis.v1:sink"}, {"csrf": "forged"}, {"target": "ndxp"}],
        ids=["unknown operation", "forged form", "target that is no province"],
    )
    async def test_a_bad_try_it_form_calls_nothing(
        self, client: httpx.AsyncClient, csrf: str, fields: dict[str, str]
    ) -> None:
        answer = await client.post(
            f"{CATALOG}/try",
            data={"csrf": csrf, "operation": LOOKUP, "client_id": "", **fields},
        )

        assert_refused_form(answer)


@pytest.mark.usefixtures("csrf")
class TestRecords:
    """The records screens, signed in as the bus's admin."""

    async def test_dossiers_are_listed_and_one_is_drawn_where_it_is(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        api = await client.get(f"{KG}/dvc/v1/dossiers", headers=bearer(demo_token))
        first = api.json()["items"][0]

        listing = await client.get(f"{CONSOLE}/kiengiang/dossiers")
        page = await client.get(f"{CONSOLE}/kiengiang/dossiers/{first['code']}")

        assert f'data-dossier="{first["code"]}"' in listing.text
        assert first["applicant"]["cccd"] not in listing.text + page.text  # masked
        svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
        current = re.findall(r'class="state current[^"]*" data-state="(\d+)"', svg)
        assert current == [str(first["status"]["code"])]
        allowed = re.findall(r'class="step[^"]* allowed[^"]*" data-step="([a-z_]+)"', svg)
        assert sorted(allowed) == sorted(first["allowed_actions"])
        assert_stays_on_the_bus(page.text)

    async def test_an_unknown_dossier_shows_the_portal_problem(
        self, client: httpx.AsyncClient
    ) -> None:
        page = await client.get(f"{CONSOLE}/kiengiang/dossiers/000.00.01.H33-250101-9999")

        assert_shows_a_problem(page)
        assert "<svg" not in page.text

    async def test_a_sent_document_is_listed_and_its_delivery_drawn(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        sent = await client.post(
            f"{KG}/qlvb/v1/documents",
            json=local_document("71", subject="V/v thử bảng điều khiển"),
            headers=bearer(demo_token),
        )
        assert sent.status_code == 202, sent.text
        document = sent.json()
        recipient = document["recipients"][0]["organ_id"]
        arrived = await client.post(
            f"{KG}/qlvb/v1/documents/{document['id']}/status",
            json={"organ_id": recipient, "status_code": "01"},
            headers=bearer(demo_token),
        )
        assert arrived.status_code == 200, arrived.text

        listing = await client.get(f"{CONSOLE}/kiengiang/documents")
        page = await client.get(f"{CONSOLE}/kiengiang/document", params={"id": document["id"]})

        assert f'data-document="{document["id"]}"' in listing.text
        svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
        assert re.findall(r'class="state current[^"]*" data-state="(\w+)"', svg) == ["01"]
        assert 'class="step taken" data-step="01"' in svg
        allowed = re.findall(r'class="step[^"]* allowed[^"]*" data-step="(\w+)"', svg)
        assert sorted(allowed) == ["02", "03", "13"]
        assert_stays_on_the_bus(page.text)

    async def test_the_records_screens_refuse_an_instance_not_administered(
        self, client: httpx.AsyncClient
    ) -> None:
        for path in ("/atlantis/dossiers", "/atlantis/documents", "/atlantis/document?id=1"):
            answer = await client.get(f"{CONSOLE}{path}")

            assert_refused_form(answer, path)


TOOLS = f"{CONSOLE}/kiengiang/tools"


async def try_connection(
    client: httpx.AsyncClient, csrf: str, url: str = "http://127.0.0.1:9/"
) -> httpx.Response:
    """The tools screen's connection test; by default of a port where nothing listens."""
    return await client.post(f"{TOOLS}/connection", data={"csrf": csrf, "url": url})


class TestTools:
    async def test_a_refused_connection_is_named(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        page = await try_connection(client, csrf)

        assert page.status_code == 200
        assert 'data-reached="no"' in page.text
        assert "Không kết nối được" in page.text

    async def test_a_url_that_is_not_http_is_not_called(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        page = await try_connection(client, csrf, "file:///etc/passwd")

        assert 'data-reached="no"' in page.text
        assert "root:" not in page.text

    async def test_an_instance_admin_tries_no_url_outside_the_topology(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        csrf = await sign_in_as_instance_admin(client, demo_token, "kg-admin-probe")

        page = await try_connection(client, csrf)

        assert page.status_code == 200
        assert 'data-reached="no"' in page.text
        assert "chỉ thử được URL của các hệ thống" in page.text
        assert "Không kết nối được" not in page.text  # refused before any connection

    @pytest.mark.usefixtures("csrf")
    async def test_a_forged_connection_form_calls_nothing(self, client: httpx.AsyncClient) -> None:
        answer = await try_connection(client, "forged")

        assert_refused_form(answer)

    async def test_samples_are_shown_and_reset_reports_what_it_did(
        self, client: httpx.AsyncClient, csrf: str, demo_token: str
    ) -> None:
        samples = await client.get(f"{KG}/admin/samples", headers=bearer(demo_token))
        kind, values = next(iter(samples.json()["samples"].items()))

        page = await client.get(TOOLS)
        reset = await client.post(f"{TOOLS}/reset", data={"csrf": csrf, "scope": "instance"})

        assert f"<td>{kind}</td>" in page.text
        assert values[0] in page.text
        assert 'id="reset-report"' in reset.text
        assert "Đã đặt lại kiengiang " in reset.text
        assert_stays_on_the_bus(page.text)

    @pytest.mark.parametrize(
        ("scope", "csrf_ok"), [("world", True), ("instance", False)], ids=["scope", "forged"]
    )
    async def test_a_bad_reset_form_resets_nothing(
        self, client: httpx.AsyncClient, csrf: str, scope: str, csrf_ok: bool
    ) -> None:
        answer = await client.post(
            f"{TOOLS}/reset", data={"csrf": csrf if csrf_ok else "forged", "scope": scope}
        )

        assert_refused_form(answer)

    async def test_an_instance_admin_may_not_reset_the_whole_bus(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        csrf = await sign_in_as_instance_admin(client, demo_token, "kg-admin-reset")

        page = await client.get(TOOLS)
        answer = await client.post(f"{TOOLS}/reset", data={"csrf": csrf, "scope": "bus"})

        assert 'value="bus"' not in page.text  # not offered
        assert_refused_form(answer)


class TestOverview:
    @pytest.mark.usefixtures("csrf")
    async def test_the_overview_shows_the_era_and_each_instance_dialects(
        self, client: httpx.AsyncClient
    ) -> None:
        page = await client.get(CONSOLE)

        assert "Kỷ nguyên (LGSP_ERA): <strong>2024</strong>" in page.text
        ndxp = page.text[page.text.index('data-instance="ndxp"') :].split("</tr>")[0]
        assert 'data-dialect="bus"' in ndxp
        assert 'data-dialect="apim"' in ndxp  # NDXP speaks WSO2's too (DOMAIN.md §2.1)
        assert_stays_on_the_bus(page.text)


async def test_the_overview_of_today_names_what_each_province_absorbed(
    settings: Settings, bus_pool: BusPool
) -> None:
    async with bus_pool.client(settings, era="2026") as client:
        await sign_in(client)

        page = await client.get(CONSOLE)

    assert "<strong>2026</strong>" in page.text
    angiang = page.text[page.text.index('data-instance="angiang"') :].split("</tr>")[0]
    assert "sáp nhập: kiengiang" in angiang


class TestLiveUpdates:
    @pytest.mark.usefixtures("looked_up")
    async def test_the_newest_exchanges_page_loads_the_bus_own_live_script(
        self, client: httpx.AsyncClient
    ) -> None:
        newest = await client.get(f"{CONSOLE}/kiengiang/journal")
        entry = re.search(r'data-entry="(\d+)"', newest.text)
        assert entry is not None
        older = await client.get(f"{CONSOLE}/kiengiang/journal", params={"before": entry.group(1)})
        script = await client.get("/console/assets/live.js")

        assert '<script src="/console/assets/live.js" defer></script>' in newest.text
        assert 'data-live="2000"' in newest.text
        assert "<script" not in older.text  # an older page does not change: nothing to poll
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "http://" not in script.text
        assert "https://" not in script.text
        assert_stays_on_the_bus(newest.text)

    async def test_no_other_file_is_served_as_an_asset(self, client: httpx.AsyncClient) -> None:
        for name in ("live.js.map", "..%2Frouter.py", "_kit.py"):
            answer = await client.get(f"/console/assets/{name}")

            assert answer.status_code in (400, 404), name  # 400: encoded separators


def pre_text(page: str, element_id: str) -> str:
    """The text of the page's `<pre id=…>`, as a reader copies it."""
    found = re.search(rf'id="{element_id}">(.*?)</pre>', page, re.S)
    assert found is not None, element_id
    return html.unescape(found.group(1))


class RecordingBus:
    """Stands for the plugin's `lgsp` fixture when running the emitted test: keeps the wait."""

    def __init__(self) -> None:
        self.waits: list[tuple[str, dict[str, object]]] = []

    def wait_for(self, instance: str, **expectation: object) -> int:
        self.waits.append((instance, expectation))
        return 1


class TestVerifyBuilder:
    @pytest.mark.usefixtures("looked_up")
    async def test_the_emitted_curl_and_test_match_the_exchange_without_its_cccd(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        journal = await client.get(f"{CONSOLE}/kiengiang/journal", params={"service": "dancu"})
        link = re.search(r'href="(/console/kiengiang/journal/\d+/verify)"', journal.text)
        assert link is not None

        page = await client.get(link.group(1))

        assert "091199999999" not in page.text
        curl = pre_text(page.text, "verify-curl")
        emitted = json.loads(shlex.split(curl.replace("\\\n", " "))[-1])
        assert emitted == {
            "service": "dancu",
            "method": "GET",
            "status": 404,
            "path": "/dancu/v1/citizens/*",
        }
        verified = await client.post(
            f"{KG}/admin/journal/verify", json=emitted, headers=bearer(demo_token)
        )
        assert verified.status_code == 200, verified.text
        test = pre_text(page.text, "verify-pytest")
        namespace: dict[str, object] = {}
        exec(compile(test, "emitted", "exec"), namespace)  # noqa: S102 - the page's own output
        recorder = RecordingBus()
        namespace["test_the_call_reaches_the_bus"](recorder)  # type: ignore[operator]
        assert recorder.waits == [("kiengiang", emitted)]

    @pytest.mark.parametrize("entry_id", ["999999999", "0"])
    @pytest.mark.usefixtures("csrf")
    async def test_an_unknown_exchange_is_said_to_be_missing(
        self, client: httpx.AsyncClient, entry_id: str
    ) -> None:
        page = await client.get(f"{CONSOLE}/kiengiang/journal/{entry_id}/verify")

        assert_shows_a_problem(page)
        assert "verify-curl" not in page.text

    async def test_the_builder_needs_an_administered_instance(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get(f"{CONSOLE}/kiengiang/journal/1/verify")
        await sign_in(client)
        other = await client.get(f"{CONSOLE}/atlantis/journal/1/verify")

        assert answer.headers["location"].startswith(f"{CONSOLE}/login")
        assert "error=" in other.headers["location"]


NEW_SCREENS = (
    "/{i}/clients",
    "/{i}/catalog",
    "/{i}/dossiers",
    "/{i}/dossiers/000.00.01.H33-250101-0001",
    "/{i}/documents",
    "/{i}/document?id=1",
    "/{i}/tools",
    "/{i}/journal/1/verify",
    "/{i}/audit/export",
)
NEW_FORMS = (
    "/{i}/clients",
    "/{i}/clients/demo/revoke",
    "/{i}/clients/demo/rights",
    "/{i}/catalog/try",
    "/{i}/tools/connection",
    "/{i}/tools/reset",
)


async def test_every_new_screen_and_form_needs_a_signed_in_admin(
    client: httpx.AsyncClient,
) -> None:
    for path in NEW_SCREENS:
        answer = await client.get(CONSOLE + path.format(i="kiengiang"))

        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith(f"{CONSOLE}/login"), path
    for path in NEW_FORMS:
        answer = await client.post(CONSOLE + path.format(i="kiengiang"), data={"csrf": "x"})

        assert answer.headers["location"].startswith(f"{CONSOLE}/login"), path


async def test_an_instance_admin_is_kept_to_its_own_instance_on_every_new_screen(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    csrf = await sign_in_as_instance_admin(client, demo_token, "kg-admin-screens")

    for path in NEW_SCREENS:
        own = await client.get(CONSOLE + path.format(i="kiengiang"))
        other = await client.get(CONSOLE + path.format(i="tiengiang"))

        assert own.status_code == 200, path
        assert "không quản trị tiengiang" in unquote_plus(other.headers["location"]), path
    for path in NEW_FORMS:
        other = await client.post(CONSOLE + path.format(i="tiengiang"), data={"csrf": csrf})

        assert_refused_form(other, path)
