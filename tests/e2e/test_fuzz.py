"""A fixed-budget fuzz of the gateway: whatever comes in, no 5xx and every error a problem.

Deterministic (seeded), so a failure reproduces; the budget keeps it to a few seconds.
"""

from __future__ import annotations

import random

import httpx
import pytest

from lgsp.state import BusState
from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

CASES = 300
SEGMENTS = [
    "citizens", "verify", "household", "dossiers", "transitions", "procedures", "documents",
    "inbox", "status", "..", ".", "%2e%2e", "%00", "091048993438", "999999999999", "0" * 300,
    "Nguyễn", "<script>", "' OR 1=1 --", "%ff%fe", "a" * 2000, "",
]  # fmt: skip
BODIES = [
    b"", b"{}", b"[]", b"null", b"{\"cccd\": 12}", b"[" * 5000, b"\xff\xfe\x00", b"<a/>",
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    b'{"procedure_code": "1.001193", "applicant": {"cccd": "091048993438"}}',
    b'{"from": {"organ_id": "x"}, "to": []}', "Đăng ký".encode(),
]  # fmt: skip
CONTENT_TYPES = ["application/json", "application/xml", "text/plain", "multipart/form-data", ""]


async def test_no_input_makes_the_gateway_fail(
    client: httpx.AsyncClient, demo_token: str, bus: BusState
) -> None:
    rng = random.Random(20261123)  # noqa: S311 - reproducible fuzz, not security
    services = [(service.id, service.version) for service in bus.catalog] + [("nosuch", "v1")]
    for case in range(CASES):
        service, version = rng.choice(services)
        path = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(0, 4)))
        method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE"])
        headers = {**bearer(demo_token), "Content-Type": rng.choice(CONTENT_TYPES)}
        url = f"{KG}/{service}/{version}/{path}"
        if rng.random() < 0.3:
            url += "?" + "&".join(
                f"{rng.choice(SEGMENTS)}={rng.choice(SEGMENTS)}" for _ in range(3)
            )

        response = await client.request(method, url, content=rng.choice(BODIES), headers=headers)

        assert response.status_code < 500, (case, method, url, response.text[:300])
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (case, url)
