"""The real platforms' dialects at Kiên Giang's door: the same core underneath (README
"Dialects"). A call in a dialect leaves the same audit records and journal entry as the same
call in the bus's own dialect, and its refusals come in the dialect's shape with a request id."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from adapters.dialects import lgspaccesstoken as lat
from lgsp.auth.rate_limit import RateLimit
from lgsp.dialects.door import Door
from lgsp.dialects.models import OpaqueToken
from lgsp.routing.dispatch import MATCHED_SCOPE_KEY
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.audit import comparable_trail
from tests.fixtures.bus import (
    KG,
    TEST_PUBLIC_URL,
    DialectSettings,
    bearer,
    fetch_token,
    registered_client,
)
from tests.fixtures.cli import CreateClient

pytestmark = pytest.mark.anyio

APIM = f"{KG}/apim"
LAT = f"{KG}/lgspaccesstoken"
DEMO = ("demo", "lgsp-demo-secret")


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "apim", "lgspaccesstoken")})


def first_cccd(settings: Settings) -> str:
    return generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh


async def opaque_token(http: httpx.AsyncClient, auth: tuple[str, str] = DEMO) -> str:
    response = await http.post(
        f"{APIM}/token", data={"grant_type": "client_credentials"}, auth=auth
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def access_header(client_id: str, secret: str, *, app: str = "QLVB") -> str:
    return lat.encode(lat.AccessToken(app, client_id, secret, "000.00.01.H33", ""))


async def trail(http: httpx.AsyncClient, admin: str, request_id: str) -> list[dict[str, Any]]:
    return await comparable_trail(http, KG, admin, request_id)


async def journal(http: httpx.AsyncClient, admin: str, request_id: str) -> list[dict[str, Any]]:
    response = await http.get(
        f"{KG}/admin/journal", params={"request_id": request_id}, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text
    varying = {"id", "request_id", "latency_us", "occurred_at"}
    return [
        {k: v for k, v in entry.items() if k not in varying} for entry in response.json()["entries"]
    ]


class TestApiManager:
    async def test_token_is_an_opaque_uuid_stored_only_as_its_hash(
        self, client: httpx.AsyncClient, bus: BusState
    ) -> None:
        response = await client.post(
            f"{APIM}/token",
            data={"grant_type": "client_credentials", "client_id": "demo"}
            | {"client_secret": "lgsp-demo-secret"},
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body == {
            "access_token": body["access_token"],
            "scope": "default",
            "token_type": "Bearer",
            "expires_in": 3600,
        }
        token = body["access_token"]
        assert str(uuid.UUID(token)) == token
        assert response.headers["cache-control"] == "no-store"
        async with bus.session_factory() as session:
            rows = (await session.scalars(select(OpaqueToken))).all()
        assert [row.token_sha256 for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert all(token not in repr(vars(row)) for row in rows)

    async def test_wrong_secret_is_refused_in_rfc_6749_form(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            f"{APIM}/token", data={"grant_type": "client_credentials"}, auth=("demo", "nope")
        )

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["x-request-id"]

    async def test_a_token_is_recorded_at_the_doors_path_as_a_refused_one_is_without_it(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        """An integrator looks up its token request by request id: a refused one was at the
        door's path, an answered one only as the core's `/token` hop behind it. The journal
        holds no credential: the opaque token is starred out at its length."""
        answered = await client.post(
            f"{APIM}/token",
            data={"grant_type": "client_credentials"},
            auth=DEMO,
            headers={"X-Request-ID": "apim-token-ok"},
        )
        refused = await client.post(
            f"{APIM}/token",
            data={"grant_type": "client_credentials"},
            auth=("demo", "nope"),
            headers={"X-Request-ID": "apim-token-refused"},
        )
        records = {}
        for request_id in ("apim-token-ok", "apim-token-refused"):
            audit = await client.get(
                f"{KG}/admin/audit", params={"request_id": request_id}, headers=bearer(demo_token)
            )
            records[request_id] = sorted(
                (r["path"], r["status"]) for r in audit.json()["records"] if r["hop"] == "inbound"
            )
        (entry,) = await journal(client, demo_token, "apim-token-ok")
        (refusal,) = await journal(client, demo_token, "apim-token-refused")

        opaque = answered.json()["access_token"]
        assert (answered.status_code, refused.status_code) == (200, 401)
        assert int(answered.headers["content-length"]) == len(answered.content)
        assert records == {
            "apim-token-ok": [(f"{APIM}/token", 200), (f"{KG}/token", 200)],
            "apim-token-refused": [(f"{APIM}/token", 401), (f"{KG}/token", 401)],
        }
        assert (entry["path"], entry["status"]) == ("/apim/token", 200)
        starred = {**answered.json(), "access_token": "*" * len(opaque)}
        assert json.loads(entry["response"]["body"]) == starred
        assert opaque not in json.dumps(entry)
        assert DEMO[1] not in json.dumps(entry)
        assert (refusal["path"], refusal["status"]) == ("/apim/token", 401)
        assert json.loads(refusal["response"]["body"]) == refused.json()
        assert "nope" not in json.dumps(refusal)

    async def test_a_call_leaves_the_same_audit_and_journal_as_in_the_bus_dialect(
        self, client: httpx.AsyncClient, settings: Settings, demo_token: str
    ) -> None:
        cccd = first_cccd(settings)
        opaque = await opaque_token(client)

        own = await client.get(
            f"{KG}/dancu/v1/citizens/{cccd}",
            headers={**bearer(demo_token), "X-Request-ID": "own-1"},
        )
        spoken = await client.get(
            f"{APIM}/dancu/1.0/citizens/{cccd}",
            headers={**bearer(opaque), "X-Request-ID": "apim-1"},
        )

        assert own.status_code == spoken.status_code == 200
        assert spoken.json() == own.json()
        assert spoken.headers["x-request-id"] == "apim-1"
        own_trail = await trail(client, demo_token, "own-1")
        assert [record["hop"] for record in own_trail] == ["inbound", "upstream"]
        assert await trail(client, demo_token, "apim-1") == own_trail
        own_journal = await journal(client, demo_token, "own-1")
        assert len(own_journal) == 1
        assert await journal(client, demo_token, "apim-1") == own_journal

    @pytest.mark.parametrize(
        ("headers", "code"),
        [
            ({}, 900902),
            ({"Authorization": "Bearer 49d61ed6-a9e8-3755-81cd-8395ee511c87"}, 900901),
            ({"Authorization": "Bearer not-a-token"}, 900901),
            ({"Authorization": "Basic ZGVtbzpkZW1v"}, 900901),
        ],
    )
    async def test_credentials_refused_401_in_api_manager_form(
        self, client: httpx.AsyncClient, settings: Settings, headers: dict[str, str], code: int
    ) -> None:
        response = await client.get(
            f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}",
            headers={**headers, "X-Request-ID": f"refused-{code}"},
        )

        assert response.status_code == 401
        assert response.json()["fault"]["code"] == code
        assert response.headers["x-request-id"] == f"refused-{code}"

    async def test_refused_call_is_recorded_as_in_the_bus_dialect(
        self, client: httpx.AsyncClient, settings: Settings, demo_token: str
    ) -> None:
        path = f"/dancu/v1/citizens/{first_cccd(settings)}"
        await client.get(f"{KG}{path}", headers={"X-Request-ID": "own-401"})
        await client.get(
            f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}",
            headers={"X-Request-ID": "apim-401"},
        )

        own = await trail(client, demo_token, "own-401")
        assert [(r["status"], r["path"].startswith(f"{KG}/dancu/v1/")) for r in own] == [
            (401, True)
        ]
        # The problem document names its request id: the bodies (and their hashes) differ.
        assert [
            {**r, "response_sha256": None} for r in await trail(client, demo_token, "apim-401")
        ] == [{**r, "response_sha256": None} for r in own]

    async def test_a_client_without_the_right_gets_900908(
        self, client: httpx.AsyncClient, bus: BusState, settings: Settings
    ) -> None:
        plain = await registered_client(bus, {"dvc": "GET"}, name="portal")
        opaque = await opaque_token(client, (plain.client_id, plain.client_secret))

        response = await client.get(
            f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}", headers=bearer(opaque)
        )

        assert response.status_code == 403
        assert response.json()["fault"]["code"] == 900908
        assert response.headers["x-request-id"]

    async def test_a_context_the_catalog_lacks_is_900906(self, client: httpx.AsyncClient) -> None:
        opaque = await opaque_token(client)

        response = await client.get(f"{APIM}/dldc/1.0.0/gioitinh", headers=bearer(opaque))

        assert response.status_code == 404
        assert response.json()["fault"]["code"] == 900906

    async def test_the_vdxp_context_is_no_window_onto_the_bus_s_own_inbox(
        self, client: httpx.AsyncClient
    ) -> None:
        """`vdxp-product/1.0` is the VDXP axis (tests/e2e/test_dialect_apim_vdxp.py): a GET of
        its list is no resource of it, as the bus's own inbox was once answered there."""
        opaque = await opaque_token(client)

        spoken = await client.get(
            f"{APIM}/vdxp-product/1.0/getReceivedEdocList",
            params={"organ_id": "000.00.01.H33"},
            headers=bearer(opaque),
        )

        assert (spoken.status_code, spoken.json()["fault"]["code"]) == (404, 900906)

    async def test_a_revoked_token_is_refused_with_900901(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        opaque = await opaque_token(client)
        lookup = f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}"
        assert (await client.get(lookup, headers=bearer(opaque))).status_code == 200

        revoked = await client.post(f"{APIM}/revoke", data={"token": opaque}, auth=DEMO)
        after = await client.get(lookup, headers=bearer(opaque))

        assert (revoked.status_code, revoked.content) == (200, b"")
        assert revoked.headers["cache-control"] == "no-store"
        assert (after.status_code, after.json()["fault"]["code"]) == (401, 900901)

    @pytest.mark.parametrize("token", ["49d61ed6-a9e8-3755-81cd-8395ee511c87", "not-a-token", ""])
    async def test_revoking_an_unknown_token_answers_200(
        self, client: httpx.AsyncClient, token: str
    ) -> None:
        response = await client.post(f"{APIM}/revoke", data={"token": token}, auth=DEMO)

        if token:  # RFC 7009 §2.2: nothing left to revoke is no error
            assert response.status_code == 200, response.text
        else:
            assert response.json()["error"] == "invalid_request"

    @pytest.mark.parametrize(
        ("auth", "status", "error"),
        [
            (None, 401, "invalid_client"),
            (("demo", "wrong-secret"), 401, "invalid_client"),
            ("other", 400, "unauthorized_client"),
        ],
    )
    async def test_revocation_needs_the_tokens_own_client(
        self,
        client: httpx.AsyncClient,
        bus: BusState,
        settings: Settings,
        auth: tuple[str, str] | str | None,
        status: int,
        error: str,
    ) -> None:
        if auth == "other":
            other = await registered_client(bus, {"dancu": "*"}, name="other")
            auth = (other.client_id, other.client_secret)
        opaque = await opaque_token(client)

        refused = await client.post(
            f"{APIM}/revoke",
            data={"token": opaque},
            headers={"X-Request-ID": "apim-revoke"},
            **({"auth": auth} if auth is not None else {}),  # type: ignore[arg-type]
        )
        still = await client.get(
            f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}", headers=bearer(opaque)
        )

        assert (refused.status_code, refused.json()["error"]) == (status, error)
        assert refused.headers["x-request-id"] == "apim-revoke"
        assert still.status_code == 200

    async def test_a_form_too_large_to_revoke_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{APIM}/revoke", data={"token": "x" * 9000}, auth=DEMO)

        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")

    async def test_the_bus_dialect_is_untouched_beside_it(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        opaque = await opaque_token(client)

        response = await client.get(
            f"{KG}/dancu/v1/citizens/{first_cccd(settings)}", headers=bearer(opaque)
        )

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


class TestLgspAccessToken:
    async def test_header_alone_answers_the_envelope(
        self, client: httpx.AsyncClient, settings: Settings, demo_token: str
    ) -> None:
        path = f"/dancu/v1/citizens/{first_cccd(settings)}"
        own = await client.get(f"{KG}{path}", headers=bearer(demo_token))

        response = await client.get(f"{LAT}{path}", headers={lat.HEADER: access_header(*DEMO)})

        assert response.status_code == 200
        assert response.json() == {"error_code": "0", "message": "Thành công", "data": own.json()}

    async def test_a_call_leaves_the_same_records_as_in_the_bus_dialect(
        self, client: httpx.AsyncClient, settings: Settings, demo_token: str
    ) -> None:
        path = f"/dancu/v1/citizens/{first_cccd(settings)}"
        header = {lat.HEADER: access_header(*DEMO)}
        await client.get(f"{LAT}{path}", headers=header)  # the door learns the client's token

        await client.get(f"{KG}{path}", headers={**bearer(demo_token), "X-Request-ID": "own-2"})
        await client.get(f"{LAT}{path}", headers={**header, "X-Request-ID": "lat-2"})

        assert await trail(client, demo_token, "lat-2") == await trail(client, demo_token, "own-2")
        assert await journal(client, demo_token, "lat-2") == await journal(
            client, demo_token, "own-2"
        )

    async def test_token_obtained_with_the_header_is_accepted_beside_it(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        header = {lat.HEADER: access_header(*DEMO)}
        issued = await client.post(
            f"{LAT}/token", data={"grant_type": "client_credentials"}, headers=header
        )
        assert issued.status_code == 200, issued.text

        response = await client.get(
            f"{LAT}/dancu/v1/citizens/{first_cccd(settings)}",
            headers={**header, **bearer(issued.json()["access_token"])},
        )

        assert response.json()["error_code"] == "0"

    async def test_a_token_of_another_client_beside_the_header_is_refused(
        self, client: httpx.AsyncClient, bus: BusState, settings: Settings
    ) -> None:
        other = await registered_client(bus, {"dancu": "*"}, name="other")
        token = await fetch_token(client, client_id=other.client_id, secret=other.client_secret)

        response = await client.get(
            f"{LAT}/dancu/v1/citizens/{first_cccd(settings)}",
            headers={lat.HEADER: access_header(*DEMO), **bearer(token)},
        )

        assert response.status_code == 401
        assert response.json()["error_code"] == "100"

    @pytest.mark.parametrize(
        "value",
        [
            None,
            "not base64!",
            base64.b64encode(b"[1, 2]").decode(),
            base64.b64encode(json.dumps({"AccessKey": "demo"}).encode()).decode(),
            base64.b64encode(b"\xff\xfe").decode(),
            "A" * (lat.MAX_HEADER_LENGTH + 4),
            access_header("demo", "wrong-secret"),
            access_header("nobody", "lgsp-demo-secret"),
        ],
    )
    async def test_bad_credentials_are_refused_in_the_envelope(
        self, client: httpx.AsyncClient, settings: Settings, value: str | None
    ) -> None:
        headers = {"X-Request-ID": "lat-refused"} | ({} if value is None else {lat.HEADER: value})

        response = await client.get(
            f"{LAT}/dancu/v1/citizens/{first_cccd(settings)}", headers=headers
        )

        assert response.status_code == 401
        body = response.json()
        assert body["error_code"] == "100"
        assert body["data"] is None
        assert "lgsp-demo-secret" not in response.text
        assert response.headers["x-request-id"] == "lat-refused"


async def test_the_index_lists_what_each_instance_speaks(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    spoken = {i["name"]: i["dialects"] for i in response.json()["instances"]}
    assert spoken["kiengiang"] == {
        "bus": f"http://lgsp.test{KG}",
        "apim": f"http://lgsp.test{APIM}",
        "lgspaccesstoken": f"http://lgsp.test{LAT}",
    }
    assert spoken["tiengiang"] == {"bus": "http://lgsp.test/lgsp/tiengiang"}


async def test_clients_create_prints_the_lgspaccesstoken_a_caller_sends(
    client: httpx.AsyncClient, settings: Settings, create_client: CreateClient
) -> None:
    created = await create_client(
        "Sở Tư pháp", "--service", "dancu", "--dialect", "lgspaccesstoken"
    )

    header = json.loads(base64.b64decode(created["lgspaccesstoken"]))
    assert header == {
        "AppName": "Sở Tư pháp",
        "AccessKey": created["client_id"],
        "SecretKey": created["client_secret"],
        "PartnerCode": "",
        "PartnerCodeCus": "",
    }
    response = await client.get(
        f"{LAT}/dancu/v1/citizens/{first_cccd(settings)}",
        headers={lat.HEADER: created["lgspaccesstoken"]},
    )
    assert response.json()["error_code"] == "0"


async def test_a_throttled_client_gets_900800(
    client: httpx.AsyncClient, bus: BusState, settings: Settings
) -> None:
    slow = await registered_client(
        bus, {"dancu": "*"}, name="slow", rate_limits={"dancu": RateLimit(per_second=0.01, burst=1)}
    )
    opaque = await opaque_token(client, (slow.client_id, slow.client_secret))
    url = f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}"

    first = await client.get(url, headers=bearer(opaque))
    second = await client.get(url, headers=bearer(opaque))

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["fault"]["code"] == 900800
    assert int(second.headers["retry-after"]) > 0


@pytest.mark.parametrize("door", [APIM, LAT])
async def test_an_injected_fault_meets_a_dialect_call_as_any_call(
    client: httpx.AsyncClient, settings: Settings, demo_token: str, door: str
) -> None:
    version = "1.0" if door == APIM else "v1"
    credentials = (
        bearer(await opaque_token(client)) if door == APIM else {lat.HEADER: access_header(*DEMO)}
    )

    response = await client.get(
        f"{door}/dancu/{version}/citizens/{first_cccd(settings)}",
        headers={**credentials, "X-LGSP-Fault": "status=503", "X-Request-ID": f"fault{door[-4:]}"},
    )

    assert response.status_code == 503
    assert response.headers["x-request-id"] == f"fault{door[-4:]}"
    if door == APIM:  # API Manager has no fault for it: the bus's own problem stands
        assert response.json()["code"] == "INJECTED_FAULT"
    else:
        assert response.json()["error_code"] == "500"
    # (The lgspaccesstoken door's first call also asks the core for its client's token.)
    records = await trail(client, demo_token, f"fault{door[-4:]}")
    calls = [r for r in records if r["hop"] == "inbound" and not r["path"].endswith("/token")]
    assert [record["status"] for record in calls] == [503]


async def test_a_call_in_the_bus_dialect_never_passes_a_door(
    client: httpx.AsyncClient,
    settings: Settings,
    demo_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The doors are mounts the router tries only after the dispatch has taken every call to a
    service: the bus's own calls pay nothing for the dialects beside them."""

    async def no_entry(*_args: object) -> None:
        raise AssertionError("a call in the bus's own dialect reached a door")

    monkeypatch.setattr(Door, "__call__", no_entry)

    response = await client.get(
        f"{KG}/dancu/v1/citizens/{first_cccd(settings)}", headers=bearer(demo_token)
    )

    assert response.status_code == 200
    assert (await client.get(f"{KG}/services", headers=bearer(demo_token))).status_code == 200


async def test_a_door_call_is_matched_on_its_own_path_whatever_the_scope_it_copied_holds(
    app: FastAPI, settings: Settings
) -> None:
    """The dispatch hands its match to the lean app with the path it is of; a door rewrites the
    path, so a match in the scope it copied is of another path and must not be taken."""
    stale = (f"{KG}/dancu/v1/citizens/1", {"service_id": "nosuch", "version": "v9", "path": "x"})

    async def stamped(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, MATCHED_SCOPE_KEY: stale}, receive, send)

    transport = httpx.ASGITransport(app=stamped, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
        opaque = await opaque_token(http)
        answer = await http.get(
            f"{APIM}/dancu/1.0/citizens/{first_cccd(settings)}", headers=bearer(opaque)
        )

    assert answer.status_code == 200, answer.text
    assert answer.json()["cccd"] == first_cccd(settings)
