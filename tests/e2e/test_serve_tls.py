"""`lgsp serve --tls`: HTTPS that a client reaches by trusting the bus's test CA, and only so."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import pytest

from lgsp.cli import main
from tests.fixtures.processes import free_port, start_lgsp, stop, wait_ready

pytestmark = pytest.mark.anyio


@pytest.mark.processes
async def test_serve_tls_answers_https_to_a_client_that_trusts_the_test_ca(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = start_lgsp(
        ["serve", "--tls", "--port", str(port), "--data-dir", str(tmp_path)],
        env={"LGSP_POPULATION": "20"},
        log=tmp_path / "bus.log",
    )
    ca_file = tmp_path / "tls" / "ca.pem"
    try:
        deadline = time.monotonic() + 60
        while not ca_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        trusting = ssl.create_default_context(cafile=str(ca_file))
        root = f"https://127.0.0.1:{port}"
        await wait_ready(root, process, verify=trusting)
        async with httpx.AsyncClient(verify=trusting) as http:
            index = (await http.get(f"{root}/")).json()
            token = await http.post(
                f"https://localhost:{port}/lgsp/kiengiang/token",
                data={"grant_type": "client_credentials"},
                auth=("demo", "lgsp-demo-secret"),
            )
        async with httpx.AsyncClient() as untrusting:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await untrusting.get(f"{root}/healthz")
    finally:
        stop(process)

    assert token.status_code == 200, token.text
    bases = [instance["base_url"] for instance in index["instances"]]
    assert bases
    assert all(base.startswith(f"https://127.0.0.1:{port}/") for base in bases)
    log = (tmp_path / "bus.log").read_text(encoding="utf-8")
    assert f"--cacert {ca_file}" in log


def test_a_tls_certificate_without_its_key_is_a_bad_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--tls-cert", str(tmp_path / "cert.pem"), "--data-dir", str(tmp_path)])

    assert code == 2
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
