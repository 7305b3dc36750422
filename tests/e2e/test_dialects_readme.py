"""The README's "Dialects" examples run, in order, on An Giang with the dialects turned on, in
the default era and with the default seed (the README's identifiers come from it)."""

from __future__ import annotations

import base64
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI

from formats.agency_codes import CLOSED
from lgsp.composition import create_bus
from lgsp.settings import Settings
from lgsp.topology import Topology
from tests.fixtures.apps import running
from tests.fixtures.bus import asgi_client, fetch_token, plain_settings
from tests.fixtures.curl import run_curl

pytestmark = pytest.mark.anyio
AG = "/lgsp/angiang"

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Dialects", 1)[1].split("\n## ", 1)[0]
_ASSIGNED = re.compile(r"^(\w+)=\$\((.*)\)$")
_URL = re.compile(r"^(\w+)=(https?://\S+)$")


README_HOST = "http://127.0.0.1:8000"
"""Where the README's bus listens (`make run`); the in-process client's base stands for it."""


def example_lines(*, on_default_bus: bool) -> list[str]:
    """The commands of the section's shell blocks: those that name no `$BASE` run on the
    default bus as the README starts it; the others need dialects turned on at `$BASE`."""
    lines = []
    for block in re.findall(r"```shell\n(.*?)```", SECTION, re.S):
        if ("$BASE" not in block) != on_default_bus:
            continue
        joined = block.replace("\\\n", " ")
        lines += [line.strip() for line in joined.splitlines() if line.strip()[:1] not in "#"]
    return lines


@dataclass
class Ran:
    """What running the examples did."""

    calls: int = 0
    revoked: int = 0
    wrapped: int = 0


async def run_examples(
    client: httpx.AsyncClient, lines: list[str], variables: dict[str, str]
) -> Ran:
    """Run `lines` in order, as a shell would, each answer checked for what it shows."""
    ran = Ran()
    for line in lines:
        for name, value in sorted(variables.items(), key=lambda item: -len(item[0])):
            line = line.replace(f"${name}", value)
        if (url := _URL.match(line)) is not None:
            variables[url.group(1)] = url.group(2).removeprefix(README_HOST)
            continue
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
            ran.wrapped += 1
        if "/soap/XacThuc" in command and "?wsdl" not in command:
            assert "<dan:TonTai>true</dan:TonTai>" in soap_answer, response.text[:300]
        if "/soap/XacMinh" in command:
            assert 'SoCongDan="1"' in soap_answer, response.text[:300]
        if command.endswith("/apim/revoke"):
            assert (response.status_code, response.content) == (200, b"")
            ran.revoked += 1
        if "/opencps/" in command:
            assert response.json()["error_code"] == "0", response.text[:300]
        if assigned is not None:
            issued = response.json()
            variables[assigned.group(1)] = issued.get("access_token") or issued["session"]
        ran.calls += 1
    return ran


def setup_block() -> str:
    """The section's block that turns the dialects on at `$BASE` before its examples run."""
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", SECTION, re.S) if "topology.toml" in b]
    return str(block)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The bus the README's setup block starts: the topology its Python writes."""
    (script,) = re.findall(r"<<'TOML'\n(.*?)\nTOML\n", setup_block(), re.S)
    written = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, check=True, timeout=60
    )
    topology = tmp_path / "topology.toml"
    topology.write_text(written.stdout, encoding="utf-8")
    return plain_settings(database_url, tmp_path, era="2026", topology_file=topology)


async def test_the_dialects_examples_succeed(client: httpx.AsyncClient) -> None:
    lines = example_lines(on_default_bus=False)
    assert len(lines) >= 6
    assert f"BASE={README_HOST}{AG}\n" in setup_block()
    variables = {"BASE": AG, "TOKEN": await fetch_token(client, AG)}

    ran = await run_examples(client, lines, variables)

    assert ran.calls >= 6
    assert ran.wrapped == 1


async def test_the_examples_without_base_succeed_on_the_default_bus(
    db_url: str, tmp_path: Path
) -> None:
    """As written, against the bus `lgsp serve` starts: today's map, no topology file, a
    database of its own (on PostgreSQL the run's schema held the module's bus's keys, sealed
    with another data dir's secret)."""
    lines = example_lines(on_default_bus=True)
    assert any("$APIM/" in line for line in lines)
    assert any("$LAT/" in line for line in lines)
    bus = create_bus(plain_settings(db_url, tmp_path))

    async with running(bus) as manager, asgi_client(cast(FastAPI, manager.app)) as client:
        ran = await run_examples(client, lines, {})

    assert ran.calls >= 6
    assert ran.revoked == 1


def test_the_dialects_topology_examples_load_as_they_read() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", SECTION, re.S)
    assert len(blocks) >= 2

    topologies = [Topology.model_validate(tomllib.loads(block)) for block in blocks]

    speaking = [t.instances[0] for t in topologies if "opencps" in t.instances[0].spoken]
    portals = [spec.system("dvc") for spec in speaking]
    assert any(portal is not None and portal.dialect == "opencps" for portal in portals)


def test_the_dialects_examples_name_no_agency_the_merger_closed() -> None:
    """The examples run on the default bus (era 2026, An Giang): no organ id, `PartnerCode`,
    `dstcode`, `madonvi` or `MaDonVi` under a level-1 code closed on 1 July 2025."""
    closed = rf"\.(?:{'|'.join(CLOSED)})\b"
    blocks = re.findall(r"```(?:shell|json|toml)\n(.*?)```", SECTION, re.S)
    assert len(blocks) >= 6

    assert [
        line for block in blocks for line in block.splitlines() if re.search(closed, line)
    ] == []
