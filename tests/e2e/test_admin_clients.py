"""`{base}/admin/clients`: an instance's admin registers, lists, revokes and re-rights clients
over HTTP, as `lgsp clients …` does on the database (issue 19's clients screen uses it)."""

from __future__ import annotations

import httpx
import pytest

from lgsp.state import BusState
from tests.fixtures.bus import KG, bearer, fetch_token, registered_client

pytestmark = pytest.mark.anyio

CLIENTS = f"{KG}/admin/clients"


async def test_a_client_made_over_http_gets_its_secret_once_and_its_rights(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    made = await client.post(
        CLIENTS,
        json={"name": "Sở Tư pháp", "rights": {"dancu": "GET", "dvc": "*"}},
        headers=bearer(demo_token),
    )

    assert made.status_code == 201, made.text
    created = made.json()
    assert created["rights"] == {"dancu": "GET", "dvc": "*"}
    token = await fetch_token(
        client, client_id=created["client_id"], secret=created["client_secret"]
    )
    listed = await client.get(CLIENTS, headers=bearer(demo_token))
    shown = next(c for c in listed.json()["clients"] if c["client_id"] == created["client_id"])
    assert "client_secret" not in shown
    assert created["client_secret"] not in listed.text
    refused = await client.post(f"{KG}/dancu/v1/citizens/verify", headers=bearer(token), json={})
    assert refused.status_code == 403  # GET only


LOOKUP = f"{KG}/dancu/v1/citizens/091199999999"


async def known_reader(client: httpx.AsyncClient, bus: BusState, name: str) -> tuple[str, str]:
    """A plain client that may look citizens up, and its token, already used once (so the bus
    has it cached): the client's id and the token."""
    plain = await registered_client(bus, {"dancu": "GET"}, name=name)
    token = await fetch_token(client, client_id=plain.client_id, secret=plain.client_secret)
    assert (await client.get(LOOKUP, headers=bearer(token))).status_code == 404
    return plain.client_id, token


async def test_a_revoked_client_is_refused_at_once(
    client: httpx.AsyncClient, demo_token: str, bus: BusState
) -> None:
    client_id, token = await known_reader(client, bus, "to-revoke")

    revoked = await client.post(f"{CLIENTS}/{client_id}/revoke", headers=bearer(demo_token))

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get(LOOKUP, headers=bearer(token))).status_code == 401


async def test_rights_are_replaced_and_apply_at_once(
    client: httpx.AsyncClient, demo_token: str, bus: BusState
) -> None:
    client_id, token = await known_reader(client, bus, "re-righted")

    changed = await client.put(
        f"{CLIENTS}/{client_id}/rights",
        json={"rights": {"dancu": "POST", "dvc": "GET,GET"}},
        headers=bearer(demo_token),
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["rights"] == {"dancu": "POST", "dvc": "GET"}
    assert (await client.get(LOOKUP, headers=bearer(token))).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "rights": {"atlantis": "*"}},
        {"name": "x", "rights": {"dancu": "FETCH"}},
        {"name": "", "rights": {}},
        {"name": "x", "organisation": "not-an-organ"},
        {"name": "x", "secret": "chosen"},
    ],
    ids=["unknown service", "unknown method", "no name", "bad organisation", "extra field"],
)
async def test_a_bad_client_is_refused_as_a_problem(
    client: httpx.AsyncClient, demo_token: str, body: dict[str, object]
) -> None:
    answer = await client.post(CLIENTS, json=body, headers=bearer(demo_token))

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] in ("INVALID_REQUEST", "VALIDATION_ERROR")


async def test_the_bus_own_clients_and_the_caller_are_not_changed(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    for client_id in ("system-dvc", "demo"):
        answer = await client.post(f"{CLIENTS}/{client_id}/revoke", headers=bearer(demo_token))

        assert answer.status_code == 409, client_id
        assert answer.json()["code"] == "CLIENT_PROTECTED"
    unknown = await client.post(f"{CLIENTS}/nobody/revoke", headers=bearer(demo_token))
    assert unknown.status_code == 404


async def test_a_client_that_is_not_admin_may_not_manage_clients(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    plain = await registered_client(bus, {"dancu": "*"}, name="not-admin-clients")
    token = await fetch_token(client, client_id=plain.client_id, secret=plain.client_secret)

    listed = await client.get(CLIENTS, headers=bearer(token))
    made = await client.post(CLIENTS, json={"name": "mine"}, headers=bearer(token))

    assert listed.status_code == made.status_code == 403


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("POST", "revoke", None),
        ("PUT", "rights", {"rights": {"dancu": "GET"}}),
        ("PUT", "handling", {"handling": "strict"}),
    ],
)
@pytest.mark.parametrize("client_id", ["bad id!", "has:colon", "x" * 65])
async def test_an_id_no_client_can_have_is_refused_alike_by_every_client_route(
    client: httpx.AsyncClient,
    demo_token: str,
    method: str,
    action: str,
    body: dict[str, object] | None,
    client_id: str,
) -> None:
    """One rule for a client id (`CLIENT_ID_PATTERN`), whichever route names it."""
    answer = await client.request(
        method, f"{CLIENTS}/{client_id}/{action}", json=body, headers=bearer(demo_token)
    )

    assert (answer.status_code, answer.json()["code"]) == (422, "INVALID_REQUEST"), answer.text


@pytest.mark.parametrize("is_admin", [False, True], ids=["tenant", "admin"])
async def test_a_province_makes_no_client_bound_to_a_central_body(
    client: httpx.AsyncClient, demo_token: str, is_admin: bool
) -> None:
    """VPCP (000.00.00.G22) is of no province: a province's client bound to it would be refused
    on every call it made, so it is refused when made; the national instance makes it."""
    vpcp = {"name": "VPCP desk", "rights": {"vdxp": "*"}, "organisation": "000.00.00.G22"}

    refused = await client.post(
        CLIENTS, json={**vpcp, "is_admin": is_admin}, headers=bearer(demo_token)
    )
    ndxp_token = await fetch_token(client, "/ndxp")
    national = await client.post("/ndxp/admin/clients", json=vpcp, headers=bearer(ndxp_token))

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "CENTRAL_AGENCY_AT_PROVINCE"
    assert "--instance ndxp" in refused.json()["detail"]
    listed = await client.get(CLIENTS, headers=bearer(demo_token))
    assert "VPCP desk" not in listed.text
    assert national.status_code == 201, national.text
    assert national.json()["organisation"] == "000.00.00.G22"


async def test_no_client_is_made_for_an_organisation_the_instance_cannot_act_for(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """A central code the national axis serves no body under, and an agency of another
    province, would be refused on every call the client made: so they are when it is made."""
    ndxp = bearer(await fetch_token(client, "/ndxp"))
    desk = {"name": "misplaced desk", "rights": {"vdxp": "*"}}

    unknown = await client.post(
        "/ndxp/admin/clients", json={**desk, "organisation": "000.00.00.G14"}, headers=ndxp
    )
    elsewhere = await client.post(
        CLIENTS, json={**desk, "organisation": "000.00.01.H58"}, headers=bearer(demo_token)
    )  # Tiền Giang's Sở Tư pháp, at Kiên Giang
    own = await client.post(
        CLIENTS, json={**desk, "organisation": "000.00.01.H33"}, headers=bearer(demo_token)
    )

    for refused, code in (
        (unknown, "UNKNOWN_ORGANISATION"),
        (elsewhere, "AGENCY_OF_OTHER_PROVINCE"),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == code
    assert "--instance tiengiang" in elsewhere.json()["detail"]
    assert own.status_code == 201, own.text
    listed = await client.get("/ndxp/admin/clients", headers=ndxp)
    assert "000.00.00.G14" not in listed.text


async def test_the_national_instance_makes_no_client_for_a_provinces_agency(
    client: httpx.AsyncClient,
) -> None:
    """The national instance serves central bodies and national systems: a province's agency
    belongs to that province's instance, which the refusal names."""
    ndxp = bearer(await fetch_token(client, "/ndxp"))
    desk = {"name": "province desk", "rights": {"vdxp": "*"}, "organisation": "000.00.01.H33"}

    refused = await client.post("/ndxp/admin/clients", json=desk, headers=ndxp)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "AGENCY_OF_OTHER_PROVINCE"
    assert "--instance kiengiang" in refused.json()["detail"]  # Kiên Giang's Sở Tư pháp
    listed = await client.get("/ndxp/admin/clients", headers=ndxp)
    assert "000.00.01.H33" not in listed.text
