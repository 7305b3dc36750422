"""Every curl command in the README works, in order, on a bus with the default seed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import pytest

from lgsp.settings import Settings
from tests.fixtures.bus import fetch_token, plain_settings
from tests.fixtures.curl import ROOT, run_curl

pytestmark = pytest.mark.anyio

AG = "/lgsp/angiang"  # the README's $BASE: today's An Giang, the default era's
README = (ROOT / "README.md").read_text(encoding="utf-8")


def curl_commands() -> list[list[str]]:
    """Each `curl …` of the README's shell blocks, continuation lines joined, as argv."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            start = line.find("curl ")
            if start == -1 or line.lstrip().startswith("#"):
                continue
            command = line[start:].split(" | ")[0].rstrip(")")
            commands.append(shlex.split(command))
    return commands


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The defaults `make run` starts with: the README's identifiers come from this seed."""
    return plain_settings(database_url, tmp_path)


async def test_readme_curl_commands_all_succeed(client: httpx.AsyncClient) -> None:
    commands = curl_commands()
    token = await fetch_token(client, AG)
    assert len(commands) >= 15

    for argv in commands:
        response = await run_curl(
            client, [arg.replace("$TOKEN", token).replace("$BASE", AG) for arg in argv]
        )

        assert response.status_code < 300, (" ".join(argv)[:120], response.text[:300])
