"""A province's QLVB and DVC as processes of their own, on their own SQLite files, at a `url`.

The bus runs in one process; Kiên Giang's document endpoint and public-service portal each run
as `lgsp serve --system … --instance kiengiang`, placed in the topology by `url`, calling the
bus back over real HTTP with the clients it provisions for them. A document for Tiền Giang, the
status its recipient reports, and a dossier's changes for the national portal each arrive
exactly once, as they do with the systems in-process (test_national_flows.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lgsp.auth.gateway_key import GATEWAY_KEY_HEADER, gateway_key
from lgsp.settings import Settings
from tests.e2e.test_national_flows import recipient_status
from tests.fixtures.bus import bearer
from tests.fixtures.documents import RECIPIENT, SENDER, cross_province_document
from tests.fixtures.dossiers import file_residence_dossier, receive_dossier
from tests.fixtures.processes import demo_token, free_port, start_lgsp, stop, wait_ready
from tests.fixtures.topology import topology_text
from tests.fixtures.waiting import eventually, until_in_inbox

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

SEED = 5
ENVIRONMENT = {
    "LGSP_POPULATION": "20",
    "LGSP_SEED": str(SEED),
    "LGSP_FEDERATION_SECRET": "systems-as-processes-secret",
    "LGSP_OUTBOX_BACKOFF_SECONDS": "0.2",
    "LGSP_OUTBOX_BACKOFF_MAX_SECONDS": "1",
}


@dataclass
class Deployment:
    root: Path
    bus: str
    """Root URL of the bus process."""
    systems: dict[str, str]
    """Each separate system's root URL."""

    def base(self, instance: str) -> str:
        return f"{self.bus}/ndxp" if instance == "ndxp" else f"{self.bus}/lgsp/{instance}"


def topology(dvc_port: int, qlvb_port: int) -> str:
    """The built-in three instances of the tests, Kiên Giang's dvc and qlvb at a url."""
    return topology_text(
        system_urls={
            ("kiengiang", "dvc"): f"http://127.0.0.1:{dvc_port}",
            ("kiengiang", "qlvb"): f"http://127.0.0.1:{qlvb_port}",
        }
    )


async def wait_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    """A system has no /readyz: it is up once its own OpenAPI document answers."""
    async with httpx.AsyncClient() as http:
        await eventually(
            lambda: _get_or_503(http, f"{url}/openapi.json", process),
            lambda response: response.status_code == 200,
        )


async def _get_or_503(
    http: httpx.AsyncClient, url: str, process: subprocess.Popen[bytes]
) -> httpx.Response:
    assert process.poll() is None, "the system exited during start-up"
    try:
        return await http.get(url)
    except httpx.TransportError:
        return httpx.Response(503)


@pytest.fixture(name="deployment")
async def fx_deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    ports = {"bus": free_port(), "dvc": free_port(), "qlvb": free_port()}
    topology_file = tmp_path / "topology.toml"
    topology_file.write_text(topology(ports["dvc"], ports["qlvb"]), encoding="utf-8")
    bus_url = f"http://127.0.0.1:{ports['bus']}"
    env = {**ENVIRONMENT, "LGSP_TOPOLOGY_FILE": str(topology_file)}
    processes = {
        "bus": start_lgsp(
            ["serve", "--port", str(ports["bus"]), "--data-dir", str(tmp_path / "bus")],
            env=env,
            log=tmp_path / "bus.log",
        )
    }
    for system in ("dvc", "qlvb"):
        argv = ["serve", "--system", system, "--instance", "kiengiang", "--bus-url", bus_url]
        argv += ["--port", str(ports[system]), "--data-dir", str(tmp_path / system)]
        processes[system] = start_lgsp(argv, env=env, log=tmp_path / f"{system}.log")
    try:
        await wait_ready(bus_url, processes["bus"])
        systems = {name: f"http://127.0.0.1:{ports[name]}" for name in ("dvc", "qlvb")}
        for name, url in systems.items():
            await wait_answering(url, processes[name])
        yield Deployment(tmp_path, bus_url, systems)
    finally:
        for process in processes.values():
            stop(process)


async def test_each_system_keeps_its_data_in_a_file_of_its_own(deployment: Deployment) -> None:
    for system in ("dvc", "qlvb"):
        assert (deployment.root / system / "lgsp-systems.db").is_file()
    assert (deployment.root / "bus" / "lgsp.db").is_file()


async def test_a_system_answers_its_gateway_only(deployment: Deployment) -> None:
    """Security re-probe 2026-12-07 #4: a system's port took forged documents from anyone;
    the flows of the other tests show the gateway's own calls still pass."""
    settings = Settings(federation_secret=ENVIRONMENT["LGSP_FEDERATION_SECRET"])
    key = gateway_key(settings, instance="kiengiang", system="qlvb")
    inbox = f"{deployment.systems['qlvb']}/getReceivedEdocList"
    query = {"organId": SENDER, "messagetype": "edoc"}
    async with httpx.AsyncClient(timeout=30) as http:
        anyone = await http.post(inbox, json=query)
        forged = await http.post(inbox, json=query, headers={GATEWAY_KEY_HEADER: "guess"})
        gateway = await http.post(inbox, json=query, headers={GATEWAY_KEY_HEADER: key})

    for refused in (anyone, forged):
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "INVALID_TOKEN"
    assert gateway.status_code == 200, gateway.text


async def test_a_system_answers_head_as_get_as_the_bus_does(deployment: Deployment) -> None:
    """RFC 9110 §9.3.2, as `lgsp.head` serves it on the bus: a health check's `curl -I` on a
    system's port had 405 from every GET route."""
    settings = Settings(federation_secret=ENVIRONMENT["LGSP_FEDERATION_SECRET"])
    key = {GATEWAY_KEY_HEADER: gateway_key(settings, instance="kiengiang", system="dvc")}
    dvc = deployment.systems["dvc"]
    async with httpx.AsyncClient(timeout=30) as http:
        contract = await http.head(f"{dvc}/openapi.json")  # open without the key
        got = await http.get(f"{dvc}/api/thutuc", headers=key)
        head = await http.head(f"{dvc}/api/thutuc", headers=key)
        refused = await http.delete(f"{dvc}/api/thutuc", headers=key)

    assert (contract.status_code, contract.content) == (200, b"")
    assert (head.status_code, head.content) == (got.status_code, b"") == (200, b"")
    assert head.headers["content-length"] == str(len(got.content))
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")


async def test_a_document_crosses_provinces_once_and_its_status_comes_back_once(
    deployment: Deployment,
) -> None:
    kg, tg = deployment.base("kiengiang"), deployment.base("tiengiang")
    async with httpx.AsyncClient(timeout=30) as http:
        kg_auth, tg_auth = bearer(await demo_token(http, kg)), bearer(await demo_token(http, tg))
        ndxp_auth = bearer(await demo_token(http, deployment.base("ndxp")))
        body = cross_province_document("501")

        sent = await http.post(f"{kg}/qlvb/v1/documents", json=body, headers=kg_auth)
        again = await http.post(f"{kg}/qlvb/v1/documents", json=body, headers=kg_auth)
        assert sent.status_code == 202, sent.text
        assert again.json()["duplicate"] is True
        document_id = sent.json()["id"]

        inbox = await until_in_inbox(http, tg, document_id, tg_auth)
        reported = await http.post(
            f"{tg}/qlvb/v1/documents/{document_id}/status",
            json={"organ_id": RECIPIENT, "status_code": "01"},
            headers=tg_auth,
        )
        at_sender = await eventually(
            lambda: http.get(f"{kg}/qlvb/v1/documents/{document_id}", headers=kg_auth),
            lambda r: recipient_status(r.json()) == "01",
        )
        outbox = {
            instance: await settled_outbox(http, deployment.base(instance), auth)
            for instance, auth in (
                ("kiengiang", kg_auth),
                ("ndxp", ndxp_auth),
                ("tiengiang", tg_auth),
            )
        }

    assert [d["id"] for d in inbox.json()["items"]].count(document_id) == 1
    assert reported.status_code == 200, reported.text
    [delivery] = at_sender.json()["recipients"]
    assert [entry["status_code"] for entry in delivery["history"]] == ["01"]
    # One hand-over per hop, each delivered once: KG's qlvb → NDXP's vdxp → TG, and back.
    assert {m["client_id"] for m in outbox["kiengiang"]["messages"]} == {"system-qlvb"}
    for page in outbox.values():
        assert page["counts"]["delivered"] == len(page["messages"]) > 0


async def settled_outbox(
    http: httpx.AsyncClient, base: str, auth: dict[str, str]
) -> dict[str, Any]:
    """An instance's outbox once no message is pending or under way: a sender records a
    delivery's outcome after the next hop has answered it, so what the next hop shows may come
    first."""
    settled = await eventually(
        lambda: http.get(f"{base}/admin/outbox", headers=auth),
        lambda r: all(m["state"] not in ("pending", "delivering") for m in r.json()["messages"]),
    )
    page: dict[str, Any] = settled.json()
    return page


async def test_a_dossiers_changes_reach_the_national_portal_once_each(
    deployment: Deployment,
) -> None:
    kg = deployment.base("kiengiang")
    async with httpx.AsyncClient(timeout=30) as http:
        auth = bearer(await demo_token(http, kg))
        code = await file_residence_dossier(http, kg, auth, seed=SEED, population=20)
        await receive_dossier(http, kg, code, auth)

        national = await eventually(
            lambda: http.get(f"{kg}/dvcqg/v1/dossiers/{code}", headers=auth),
            lambda r: r.status_code == 200 and len(r.json()["history"]) == 2,
        )
        outbox = await settled_outbox(http, kg, auth)

    assert [entry["status"]["code"] for entry in national.json()["history"]] == [1, 2]
    syncs = [m for m in outbox["messages"] if m["service"] == "dvcqg"]
    assert [(m["client_id"], m["state"]) for m in syncs] == [("system-dvc", "delivered")] * 2
    assert len({m["idempotency_key"] for m in syncs}) == 2
