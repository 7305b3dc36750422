"""A client set to strict handling: every call read as under `Prefer: handling=strict` (issue 17).

The operator chooses it per client, with `lgsp clients create/update --strict` or the admin API
(`PUT {base}/admin/clients/{client_id}/handling`); the client's own `Prefer` cannot loosen it.
"""

from __future__ import annotations

import json

import httpx
import pytest

from lgsp.state import BusState
from tests.e2e.test_sdk_documents import STP, as_sent, send
from tests.fixtures.bus import KG, bearer, fetch_token, registered_client
from tests.fixtures.cli import CreateClient, run_cli
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

QLVB = {"qlvb": "*"}


def handling(client_id: str) -> str:
    return f"{KG}/admin/clients/{client_id}/handling"


async def test_a_client_set_strict_by_the_admin_api_is_refused_what_others_may_send(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    vendor = await registered_client(bus, QLVB, name="strict vendor", organisation=STP)
    token = await fetch_token(client, client_id=vendor.client_id, secret=vendor.client_secret)
    data = as_sent("edoc_update.edxml", "17201")

    made_strict = await client.put(
        handling(vendor.client_id), json={"handling": "strict"}, headers=bearer(demo_token)
    )
    refused = await send(client, token, data, Prefer="handling=lenient")
    made_lenient = await client.put(
        handling(vendor.client_id), json={"handling": "lenient"}, headers=bearer(demo_token)
    )
    taken = await send(client, token, data)

    assert made_strict.json() == {"client_id": vendor.client_id, "handling": "strict"}
    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["rule"]) == (
        "INVALID_EDXML",
        "document_id_mismatch",
    )
    assert refused.headers["Preference-Applied"] == "handling=strict"
    assert made_lenient.status_code == 200, made_lenient.text
    assert taken.status_code == 202, taken.text
    assert [w["rule"] for w in taken.json()["warnings"]] == ["document_id_mismatch"]


@pytest.mark.parametrize(
    ("client_id", "body", "status", "code"),
    [
        ("no-such-client", {"handling": "strict"}, 404, "NOT_FOUND"),
        ("demo", {"handling": "very"}, 422, "INVALID_REQUEST"),
        ("bad id!", {"handling": "strict"}, 422, "INVALID_REQUEST"),  # as every /admin/clients
    ],
)
async def test_setting_handling_refuses_unknown_clients_and_values(
    client: httpx.AsyncClient,
    demo_token: str,
    client_id: str,
    body: dict[str, str],
    status: int,
    code: str,
) -> None:
    answer = await client.put(handling(client_id), json=body, headers=bearer(demo_token))

    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text


async def test_only_an_admin_sets_a_clients_handling(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    vendor = await registered_client(bus, QLVB, name="would-be lenient")
    token = await fetch_token(client, client_id=vendor.client_id, secret=vendor.client_secret)

    answer = await client.put(
        handling(vendor.client_id), json={"handling": "lenient"}, headers=bearer(token)
    )

    assert answer.status_code == 403, answer.text


async def test_clients_create_and_update_strict_from_the_cli(
    client: httpx.AsyncClient,
    create_client: CreateClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    created = await create_client(
        "cli strict", "--service", "qlvb", "--strict", "--organisation", STP
    )  # a document system sends as its own agency (the sample's sender) only
    client_id = created["client_id"]
    token = await fetch_token(client, client_id=client_id, secret=created["client_secret"])
    data = as_sent("edoc_update.edxml", "17202")

    refused = await send(client, token, data)
    listed = await run_cli(["clients", "list", "--instance", "kiengiang", "--json"])
    output = capsys.readouterr().out
    row = next(r for r in json.loads(output[output.index("[") :]) if r["client_id"] == client_id)
    updated = await run_cli(
        ["clients", "update", "--instance", "kiengiang", client_id, "--lenient"]
    )
    shown = json.loads(capsys.readouterr().out)
    taken = await eventually(  # other processes' caches follow within LGSP_CLIENT_CACHE_SECONDS
        lambda: send(client, token, data), lambda r: r.status_code == 202
    )

    assert (refused.status_code, refused.json()["rule"]) == (422, "document_id_mismatch")
    assert (listed, row["handling"]) == (0, "strict")
    assert (updated, shown) == (0, {"client_id": client_id, "handling": "lenient"})
    assert taken.json()["warnings"][0]["rule"] == "document_id_mismatch"


@pytest.mark.usefixtures("cli_database")
async def test_clients_update_names_an_unknown_client(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await run_cli(["clients", "update", "--instance", "kiengiang", "nobody", "--strict"])

    assert code != 0
    assert "nobody" in capsys.readouterr().err
