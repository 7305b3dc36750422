"""No secret of the operator's in what a server writes (SECURITY-PROBE-2026-12 F14: the
production banner printed the demo client's secret, admin on every instance, to the log)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.processes import free_port, start_lgsp, stop, wait_ready

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

ADMIN_SECRET = "operator-chosen-admin-secret-4f1c"
FEDERATION_SECRET = "operator-chosen-federation-secret-9a2e"


async def test_a_production_server_writes_neither_secret_to_its_output(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_lgsp(
        ["serve", "--port", str(port), "--data-dir", str(tmp_path)],
        env={
            "LGSP_PROFILE": "production",
            "LGSP_POPULATION": "20",
            "LGSP_DEMO_CLIENT_SECRET": ADMIN_SECRET,
            "LGSP_FEDERATION_SECRET": FEDERATION_SECRET,
        },
        log=tmp_path / "bus.log",
    )
    try:
        await wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base) as http:
            token = await http.post(
                "/lgsp/kiengiang/token",
                data={"grant_type": "client_credentials"},
                auth=("demo", ADMIN_SECRET),
            )
            cross = await http.get(
                "/lgsp/kiengiang/csdlqgdc/v1/citizens/082153253002",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
    finally:
        stop(process)
    output = (tmp_path / "bus.log").read_text()

    assert token.status_code == 200
    assert cross.status_code in (200, 404)  # a federation hop was made with the secret
    assert "LGSP mock bus is ready" in output
    assert ADMIN_SECRET not in output
    assert FEDERATION_SECRET not in output
    assert "client_secret=$LGSP_DEMO_CLIENT_SECRET" in output
