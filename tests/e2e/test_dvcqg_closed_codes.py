"""Era 2026: DVCQG takes no new dossier under an agency code the 2025 merger closed, at
OpenCPS's door as at the REST one (tests/e2e/test_eras.py), in the protocol's form: `-2`, the
message starting with AGENCY_CODE_CLOSED and naming the body that succeeds it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.dialects import opencps as dvc
from formats.dates import VIETNAM_TIME
from lgsp.settings import Settings
from tests.e2e.test_dialect_opencps import opencps_dossier
from tests.fixtures.bus import bearer, bus_settings, fetch_token
from tests.fixtures.topology import todays_topology_text

pytestmark = pytest.mark.anyio

AG = "/lgsp/angiang"
DST = {"dstcode": "000.00.00.H01"}


@pytest.fixture
def settings(
    bus_database_url: str, bus_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    path = tmp_path_factory.mktemp("dvcqg-closed") / "opencps.toml"
    path.write_text(todays_topology_text({"angiang": ("bus", "opencps")}), encoding="utf-8")
    return bus_settings(bus_database_url, bus_data_dir, era="2026", topology_file=path)


async def sync(http: httpx.AsyncClient, *dossiers: dict[str, Any]) -> dict[str, Any]:
    account = {"username": "demo", "password": "lgsp-demo-secret"}
    login = (await http.post(f"{AG}/opencps/auth", json=account, headers=DST)).json()
    assert login["error_code"] == "0", login
    answer = await http.post(
        f"{AG}/opencps/integration",
        json={
            "session": login["session"],
            "madonvi": "000.00.00.H01",
            "service": "DongBoHoSoMC",
            "isUpdating": "False",
            "data": list(dossiers),
        },
        headers=DST,
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


@pytest.mark.parametrize(("letter", "taken"), [("H33", False), ("H01", True)])
async def test_opencps_syncs_no_new_dossier_under_a_closed_agency_code(
    client: httpx.AsyncClient, letter: str, taken: bool
) -> None:
    token = await fetch_token(client, AG)
    listed = await client.get(f"{AG}/dvc/v1/procedures", headers=bearer(token))
    procedure = listed.json()["items"][0]
    today = datetime.now(VIETNAM_TIME)
    code = f"000.00.06.{letter}-{today:%y%m%d}-0777"
    dossier = {**opencps_dossier(procedure), "MaHoSo": code}
    dossier["NgayTiepNhan"] = today.replace(hour=0, minute=0).strftime("%Y%m%d%H%M%S")

    answer = await sync(client, dossier)
    national = await client.get(f"{AG}/dvcqg/v1/dossiers/{code}", headers=bearer(token))

    if taken:
        assert answer["error_code"] == "0", answer
        assert national.status_code == 200, national.text
        return
    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert answer["message"].startswith("AGENCY_CODE_CLOSED: "), answer
    assert "Tỉnh An Giang succeeds it as H01" in answer["message"]
    assert national.status_code == 404, national.text


@pytest.mark.parametrize("filed_before_the_merger", [False, True])
async def test_a_batch_with_one_entry_under_a_closed_code_syncs_none_of_its_entries(
    client: httpx.AsyncClient, filed_before_the_merger: bool
) -> None:
    """All or nothing for bad input (README): the door refuses the closed entry before it
    sends the one before it, which the national portal would otherwise have kept."""
    token = await fetch_token(client, AG)
    listed = await client.get(f"{AG}/dvc/v1/procedures", headers=bearer(token))
    procedure = listed.json()["items"][0]
    today = datetime.now(VIETNAM_TIME)
    filed = today.replace(hour=0, minute=0).strftime("%Y%m%d%H%M%S")
    if filed_before_the_merger:  # its code numbered today: the portal dates it by the code
        filed = "20250630100000"
    good, closed = (
        {**opencps_dossier(procedure), "MaHoSo": f"000.00.06.{letter}-{today:%y%m%d}-{n}",
         "NgayTiepNhan": filed}
        for letter, n in (("H01", "0778"), ("H33", "0779"))
    )  # fmt: skip

    answer = await sync(client, good, closed)
    national = await client.get(f"{AG}/dvcqg/v1/dossiers/{good['MaHoSo']}", headers=bearer(token))

    assert national.status_code == 404, national.text  # nothing synced
    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert answer["message"].startswith("AGENCY_CODE_CLOSED: data[1].MaHoSo "), answer
