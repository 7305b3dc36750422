"""The README's "Dialects" examples run, in order, on An Giang with the dialects turned on, in
the default era and with the default seed (the README's identifiers come from it)."""

from __future__ import annotations

import base64
import re
import shlex
import tomllib
from pathlib import Path

import httpx
import pytest

from lgsp.settings import Settings
from lgsp.topology import TOPOLOGY_2026, Topology, topology_toml
from tests.fixtures.bus import fetch_token, plain_settings
from tests.fixtures.curl import run_curl

pytestmark = pytest.mark.anyio
AG = "/lgsp/angiang"

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Dialects", 1)[1].split("\n## ", 1)[0]
_ASSIGNED = re.compile(r"^(\w+)=\$\((.*)\)$")


def example_lines() -> list[str]:
    lines = []
    for block in re.findall(r"```shell\n(.*?)```", SECTION, re.S):
        joined = block.replace("\\\n", " ")
        lines += [line.strip() for line in joined.splitlines() if line.strip()[:1] not in "#"]
    return lines


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    topology = tmp_path / "topology.toml"
    spoken = ("bus", "apim", "lgspaccesstoken", "soap", "opencps")
    instances = tuple(
        i.model_copy(update={"dialects": spoken}) if i.name == "angiang" else i
        for i in TOPOLOGY_2026.instances
    )
    topology.write_text(topology_toml(Topology(instances=instances)), encoding="utf-8")
    return plain_settings(database_url, tmp_path, era="2026", topology_file=topology)


async def test_the_dialects_examples_succeed(client: httpx.AsyncClient) -> None:
    lines = example_lines()
    assert len(lines) >= 9
    variables = {"BASE": AG, "TOKEN": await fetch_token(client, AG)}
    ran = revoked = wrapped = 0

    for line in lines:
        for name, value in sorted(variables.items(), key=lambda item: -len(item[0])):
            line = line.replace(f"${name}", value)
        assigned = _ASSIGNED.match(line)
        if assigned is not None and assigned.group(2).startswith("printf "):
            document = shlex.split(assigned.group(2).split(" | ")[0])[1]
            variables[assigned.group(1)] = base64.b64encode(document.encode()).decode()
            continue
        command = assigned.group(2) if assigned is not None else line
        assert command.startswith("curl "), line

        response = await run_curl(client, shlex.split(command.split(" | ")[0]))

        assert response.status_code < 300, (line[:120], response.text[:300])
        if "/lgspaccesstoken/" in command and not command.split(" | ")[0].endswith("/token"):
            assert response.json()["error_code"] == "0", response.text[:300]
        soap_answer = response.text
        if "/soap/" in command and "Accept: application/json" in command:
            assert response.json()["error_code"] == "0", response.text[:300]
            soap_answer = response.json()["message"]
            wrapped += 1
        if "/soap/XacThuc" in command and "?wsdl" not in command:
            assert "<dan:TonTai>true</dan:TonTai>" in soap_answer, response.text[:300]
        if "/soap/XacMinh" in command:
            assert 'SoCongDan="1"' in soap_answer, response.text[:300]
        if command.endswith("/apim/revoke"):
            assert (response.status_code, response.content) == (200, b"")
            revoked += 1
        if "/opencps/" in command:
            assert response.json()["error_code"] == "0", response.text[:300]
        if assigned is not None:
            issued = response.json()
            variables[assigned.group(1)] = issued.get("access_token") or issued["session"]
        ran += 1
    assert ran >= 8
    assert revoked == 1
    assert wrapped == 1


def test_the_dialects_topology_examples_load_as_they_read() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", SECTION, re.S)
    assert len(blocks) >= 2

    topologies = [Topology.model_validate(tomllib.loads(block)) for block in blocks]

    speaking = [t.instances[0] for t in topologies if "opencps" in t.instances[0].spoken]
    portals = [spec.system("dvc") for spec in speaking]
    assert any(portal is not None and portal.dialect == "opencps" for portal in portals)
