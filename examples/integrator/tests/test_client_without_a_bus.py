"""Unit tests of client code with no bus at all: `bus_router` answers like its dancu service."""

from __future__ import annotations

import httpx

from lgsp.testing import bus_router

BASE = "http://127.0.0.1:8000/lgsp/angiang"


def test_my_client_reads_a_citizen() -> None:
    with bus_router("dancu", base_url=BASE, seed=2024) as router:
        with httpx.Client(base_url=BASE) as http:
            token = http.post(
                "/token", data={"grant_type": "client_credentials"}, auth=("demo", "demo-secret")
            ).json()["access_token"]
            answer = http.get(
                "/dancu/v1/citizens/091048993438", headers={"Authorization": f"Bearer {token}"}
            )
        assert router["token"].call_count == 1  # calls are counted until the block ends
    assert answer.json()["full_name"] == "Nguyễn Hữu Quang"
