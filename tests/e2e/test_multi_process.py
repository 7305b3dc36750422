"""NDXP and two provinces as three processes, each with its own database, over real HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mocks.dancu.seed import generate_citizens
from tests.e2e.test_national_flows import recipient_status
from tests.fixtures.bus import bearer
from tests.fixtures.documents import RECIPIENT, cross_province_document
from tests.fixtures.processes import demo_token, free_port, start_lgsp, stop, wait_ready
from tests.fixtures.topology import topology_text
from tests.fixtures.waiting import eventually, until_in_inbox

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

SEED = 11
FEDERATION_SECRET = "multi-process-test-secret"


def tiengiang_citizen() -> str:
    """The first citizen the deployment's seed makes for Tiền Giang ("82")."""
    return generate_citizens(province_code="82", seed=SEED, count=1)[0].so_dinh_danh


@dataclass
class Deployment:
    root: Path
    ports: dict[str, int]
    topology: Path
    processes: dict[str, subprocess.Popen[bytes]]

    def base(self, instance: str) -> str:
        path = "/ndxp" if instance == "ndxp" else f"/lgsp/{instance}"
        return f"http://127.0.0.1:{self.ports[instance]}{path}"

    def start(self, instance: str, *, data_dir: Path | None = None) -> subprocess.Popen[bytes]:
        argv = ["serve", "--instance", instance, "--port", str(self.ports[instance])]
        if instance != "ndxp":
            argv += ["--ndxp-url", self.base("ndxp")]
        data_dir = data_dir or self.root / instance
        self.processes[instance] = start_lgsp(
            [*argv, "--data-dir", str(data_dir)],
            env={
                "LGSP_TOPOLOGY_FILE": str(self.topology),
                "LGSP_FEDERATION_SECRET": FEDERATION_SECRET,
                "LGSP_POPULATION": "20",
                "LGSP_SEED": str(SEED),
                "LGSP_OUTBOX_BACKOFF_SECONDS": "0.2",
                "LGSP_OUTBOX_BACKOFF_MAX_SECONDS": "1",
                # A retry about every second while NDXP restarts: the default 8 attempts ran
                # out in ~5 s, before a loaded machine had NDXP up again, and the document
                # died; 100 outlast a stop and a start (`READY_TIMEOUT`).
                "LGSP_OUTBOX_MAX_ATTEMPTS": "100",
            },
            log=self.root / f"{instance}.log",
        )
        return self.processes[instance]

    async def wait(self, instance: str) -> None:
        await wait_ready(f"http://127.0.0.1:{self.ports[instance]}", self.processes[instance])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deployment")
    ports = {name: free_port() for name in ("ndxp", "kiengiang", "tiengiang")}
    topology = root / "topology.toml"
    # NDXP without a URL on purpose: the provinces must learn it from `--ndxp-url`.
    provinces = {
        name: f"http://127.0.0.1:{ports[name]}/lgsp/{name}" for name in ("kiengiang", "tiengiang")
    }
    topology.write_text(topology_text(provinces), encoding="utf-8")
    running = Deployment(root=root, ports=ports, topology=topology, processes={})
    for instance in ports:
        running.start(instance)
    try:
        yield running
    finally:
        for process in running.processes.values():
            stop(process)


async def get_with_demo_token(base: str, path: str) -> httpx.Response:
    """GET `path` at an instance as its demo client."""
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(f"{base}{path}", headers=bearer(await demo_token(http, base)))


@pytest.fixture
async def ready(deployment: Deployment) -> Deployment:
    for instance in deployment.ports:
        await deployment.wait(instance)
    return deployment


async def test_a_province_reads_another_provinces_citizen_across_three_processes(
    ready: Deployment,
) -> None:
    cccd = tiengiang_citizen()
    async with httpx.AsyncClient(timeout=30) as http:
        kiengiang = ready.base("kiengiang")
        response = await http.get(
            f"{kiengiang}/dancu/v1/citizens/{cccd}",
            headers={
                **bearer(await demo_token(http, kiengiang)),
                "X-LGSP-Target": "tiengiang",
                "X-Request-ID": "multi-1",
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["cccd"] == cccd

        trails = {
            instance: await http.get(
                f"{ready.base(instance)}/admin/audit",
                params={"request_id": "multi-1"},
                headers=bearer(await demo_token(http, ready.base(instance))),
            )
            for instance in ready.ports
        }
    hops = {
        instance: [(r["hop"], r["caller"], r["target"]) for r in trail.json()["records"]]
        for instance, trail in trails.items()
    }
    assert hops == {
        "kiengiang": [("inbound", "demo", "kiengiang"), ("forward", "kiengiang", "ndxp")],
        "ndxp": [("inbound", "lgsp-kiengiang", "ndxp"), ("forward", "ndxp", "tiengiang")],
        "tiengiang": [("inbound", "ndxp", "tiengiang"), ("upstream", "tiengiang", "dancu")],
    }


async def test_a_province_looks_up_a_citizen_in_the_national_database_of_another_process(
    ready: Deployment,
) -> None:
    cccd = tiengiang_citizen()
    national = await get_with_demo_token(ready.base("kiengiang"), f"/csdlqgdc/v1/citizens/{cccd}")

    assert national.status_code == 200, national.text
    assert national.json()["cccd"] == cccd


async def test_a_document_and_its_status_traces_cross_three_processes(ready: Deployment) -> None:
    kiengiang, tiengiang = ready.base("kiengiang"), ready.base("tiengiang")
    async with httpx.AsyncClient(timeout=30) as http:
        kg_auth = bearer(await demo_token(http, kiengiang))
        tg_auth = bearer(await demo_token(http, tiengiang))
        sent = await http.post(
            f"{kiengiang}/qlvb/v1/documents", json=cross_province_document("901"), headers=kg_auth
        )
        assert sent.status_code == 202, sent.text
        document_id = sent.json()["id"]

        await until_in_inbox(http, tiengiang, document_id, tg_auth)
        reported = await http.post(
            f"{tiengiang}/qlvb/v1/documents/{document_id}/status",
            json={"organ_id": RECIPIENT, "status_code": "01"},
            headers=tg_auth,
        )
        assert reported.status_code == 200, reported.text
        at_sender = await eventually(
            lambda: http.get(f"{kiengiang}/qlvb/v1/documents/{document_id}", headers=kg_auth),
            lambda r: recipient_status(r.json()) == "01",
        )

    assert recipient_status(at_sender.json()) == "01"


async def test_with_ndxp_down_calls_fail_clearly_and_documents_wait_then_arrive(
    ready: Deployment,
) -> None:
    """Runs last in this module: it stops NDXP and starts it again."""
    kiengiang, tiengiang = ready.base("kiengiang"), ready.base("tiengiang")
    stop(ready.processes["ndxp"])
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            kg_auth = bearer(await demo_token(http, kiengiang))
            cccd = tiengiang_citizen()
            lookup = await http.get(f"{kiengiang}/csdlqgdc/v1/citizens/{cccd}", headers=kg_auth)
            sent = await http.post(
                f"{kiengiang}/qlvb/v1/documents",
                json=cross_province_document("902"),
                headers=kg_auth,
            )
            waiting = await eventually(
                lambda: http.get(f"{kiengiang}/admin/outbox?state=pending", headers=kg_auth),
                lambda r: any(m["last_error"] for m in r.json()["messages"]),
            )
    finally:
        ready.start("ndxp")
    await ready.wait("ndxp")

    assert lookup.status_code == 502
    assert lookup.json()["code"] == "UPSTREAM_UNAVAILABLE"
    assert sent.status_code == 202, sent.text
    failed = [m for m in waiting.json()["messages"] if m["last_error"]]
    assert [(m["service"], m["last_status"]) for m in failed] == [("vdxp", 502)]
    document_id = sent.json()["id"]
    async with httpx.AsyncClient(timeout=30) as http:
        tg_auth = bearer(await demo_token(http, tiengiang))
        await until_in_inbox(http, tiengiang, document_id, tg_auth)


async def test_after_ndxp_is_redeployed_with_new_keys_provinces_renew_their_tokens_unseen(
    ready: Deployment,
) -> None:
    """Runs last: NDXP comes back on a fresh database, so the tokens provinces hold are void."""
    cccd = tiengiang_citizen()
    kiengiang = ready.base("kiengiang")
    async with httpx.AsyncClient(timeout=30) as http:
        kg_auth = bearer(await demo_token(http, kiengiang))
        before = await http.get(f"{kiengiang}/csdlqgdc/v1/citizens/{cccd}", headers=kg_auth)
        stop(ready.processes["ndxp"])
        ready.start("ndxp", data_dir=ready.root / "ndxp-redeployed")
        await ready.wait("ndxp")

        after = await http.get(f"{kiengiang}/csdlqgdc/v1/citizens/{cccd}", headers=kg_auth)

    assert before.status_code == after.status_code == 200, after.text
    assert after.json() == before.json()
