"""A restart on the same data dir reuses what the first start made (issue 20 item 8): the
signing keys, and the mocks' seeded records, which are neither written again nor added to."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from mocks.dancu.seed import generate_citizens
from tests.fixtures import processes
from tests.fixtures.bus import bearer

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

SEEDED_TABLES = (
    "dvc_dossier",
    "dvc_dossier_counter",
    "dvc_progress_entry",
    "dvcqg_dossier",
    "dvcqg_progress_entry",
    "qlvb_document",
    "qlvb_delivery",
    "qlvb_status_entry",
)


def rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def seeded_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the mocks' seeded tables, in insertion order."""
    systems = data_dir / "lgsp-systems.db"
    return {
        table: rows(systems, f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608 - ours
        for table in SEEDED_TABLES
    }


async def started(data_dir: Path, port: int, token: str | None = None) -> tuple[str, object, int]:
    """Serve on `data_dir` until ready, then stop: a demo token (`token` if given), the JWKS of
    Kiên Giang, and the status of a citizen lookup made with that token."""
    _, root, kiengiang, _ = processes.loopback_urls(port)
    cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    process = processes.serve(port, data_dir, f"sqlite+aiosqlite:///{data_dir / 'lgsp.db'}")
    try:
        await processes.wait_ready(root, process)
        async with httpx.AsyncClient(timeout=30) as http:
            token = token or await processes.demo_token(http, kiengiang)
            jwks = (await http.get(f"{kiengiang}/.well-known/jwks.json")).json()
            lookup = await http.get(f"{kiengiang}/dancu/v1/citizens/{cccd}", headers=bearer(token))
    finally:
        processes.stop(process)
    return token, jwks, lookup.status_code


def signing_keys(data_dir: Path) -> list[tuple[object, ...]]:
    return rows(data_dir / "lgsp.db", "SELECT kid, private_pem FROM signing_keys ORDER BY kid")


async def test_a_restart_reuses_the_keys_and_the_seed_of_the_first_start(tmp_path: Path) -> None:
    port = processes.free_port()
    token, jwks, _ = await started(tmp_path, port)
    keys, seeded = signing_keys(tmp_path), seeded_rows(tmp_path)

    _, jwks_again, lookup = await started(tmp_path, port, token)

    assert all(seeded.values()), "every seeded table has rows"
    assert seeded_rows(tmp_path) == seeded  # nothing seeded again, nothing added
    assert (signing_keys(tmp_path), jwks_again) == (keys, jwks)
    assert lookup == 200  # the first start's token: the same key signs and verifies
