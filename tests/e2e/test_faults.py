"""Faults on demand through the real app: rules, the header, and what the audit log shows."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from pydantic import SecretStr

from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.answers import assert_problem
from tests.fixtures.apps import serving
from tests.fixtures.bus import (
    KG,
    TEST_INSTANCES,
    TEST_POPULATION,
    TEST_PUBLIC_URL,
    TEST_SEED,
    bearer,
    fetch_token,
)
from tests.fixtures.clocks import WallClock
from tests.fixtures.documents import local_document

pytestmark = pytest.mark.anyio

FAULTS = f"{KG}/admin/faults"
DOCUMENT = local_document("42", subject="V/v phối hợp thẩm định")
DOCUMENT_ID = "MDAwLjAwLjAxLkgzMywyMDI1LzA2LzAyLDQyL1NUUC1WUA"


def with_short_timeout(settings: Settings, **overrides: Any) -> Settings:
    """A timeout fault is seen in a second, not the default upstream timeout."""
    return settings.model_copy(update={"upstream_timeout_seconds": 1.0, **overrides})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_short_timeout(settings)


@pytest.fixture
def cccd() -> str:
    citizen = generate_citizens(province_code="91", seed=TEST_SEED, count=TEST_POPULATION)
    return citizen[0].so_dinh_danh


async def add_rule(http: httpx.AsyncClient, token: str, **rule: Any) -> dict[str, Any]:
    response = await http.post(FAULTS, json=rule, headers=bearer(token))
    assert response.status_code == 201, response.text
    added: dict[str, Any] = response.json()
    return added


async def lookup(http: httpx.AsyncClient, token: str, cccd: str, **headers: str) -> httpx.Response:
    return await http.get(f"{KG}/dancu/v1/citizens/{cccd}", headers={**bearer(token), **headers})


async def hops(http: httpx.AsyncClient, token: str, request_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"{KG}/admin/audit?request_id={request_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


class TestEachKind:
    async def test_status_answers_a_problem_with_the_injected_fault_code(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        rule = await add_rule(client, demo_token, service="dancu", status=503)

        response = await lookup(client, demo_token, cccd, **{"X-Request-ID": "f-status"})

        body = assert_problem(response, 503, "INJECTED_FAULT")
        assert body["status"] == 503
        assert body["fault"] == f"rule {rule['id']}"
        assert body["request_id"] == "f-status"
        assert {"type", "title", "detail", "instance"} <= set(body)

    async def test_fixed_latency_delays_a_normal_answer(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        await add_rule(client, demo_token, latency_ms=300)

        started = time.monotonic()
        response = await lookup(client, demo_token, cccd)

        assert response.status_code == 200
        assert response.json()["cccd"] == cccd
        assert time.monotonic() - started >= 0.3

    async def test_latency_range_draws_from_the_seeded_generator(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str, settings: Settings
    ) -> None:
        rule = await add_rule(client, demo_token, latency={"min_ms": 1, "max_ms": 60})
        expected_generator = random.Random(f"{settings.seed}:kiengiang:rule-{rule['id']}")  # noqa: S311
        expected = [expected_generator.randint(1, 60) for _ in range(3)]

        for n in range(3):
            await lookup(client, demo_token, cccd, **{"X-Request-ID": f"f-lat-{n}"})
        drawn = [
            next(
                h["target"]
                for h in await hops(client, demo_token, f"f-lat-{n}")
                if h["hop"] == "fault"
            )
            for n in range(3)
        ]

        assert drawn == [f"latency={ms}ms before rule {rule['id']}" for ms in expected]

    async def test_timeout_answers_504_after_the_given_delay(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        await add_rule(client, demo_token, timeout={"after_ms": 200})

        started = time.monotonic()
        response = await lookup(client, demo_token, cccd)

        assert_problem(response, 504, "UPSTREAM_TIMEOUT")
        assert time.monotonic() - started >= 0.2

    async def test_timeout_without_a_delay_waits_the_instances_upstream_timeout(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str, settings: Settings
    ) -> None:
        await add_rule(client, demo_token, timeout=True)

        started = time.monotonic()
        response = await lookup(client, demo_token, cccd)

        assert_problem(response, 504, "UPSTREAM_TIMEOUT")
        assert time.monotonic() - started >= settings.upstream_timeout_seconds

    async def test_drop_closes_the_connection_without_an_answer(
        self, app: Any, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        await add_rule(client, demo_token, drop=True)
        strict = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_PUBLIC_URL)

        async with strict:
            with pytest.raises(httpx.RemoteProtocolError):
                await lookup(strict, demo_token, cccd, **{"X-Request-ID": "f-drop"})

        assert any(h["hop"] == "fault" for h in await hops(client, demo_token, "f-drop"))

    @pytest.mark.parametrize("when", ["before", "after"])
    async def test_malformed_answers_200_with_a_body_that_is_not_json(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str, when: str
    ) -> None:
        await add_rule(client, demo_token, malformed=True, when=when)

        response = await lookup(client, demo_token, cccd)

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        with pytest.raises(ValueError, match=r"."):
            json.loads(response.content)

    async def test_duplicate_makes_the_upstream_call_twice(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        await add_rule(client, demo_token, duplicate=True)

        response = await lookup(client, demo_token, cccd, **{"X-Request-ID": "f-dup"})

        assert response.status_code == 200
        records = await hops(client, demo_token, "f-dup")
        assert [r["hop"] for r in records] == ["inbound", "fault", "upstream", "upstream"]

    async def test_rate_limit_answers_429_with_retry_after(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        await add_rule(client, demo_token, rate_limit={"retry_after": 30})

        response = await lookup(client, demo_token, cccd)

        assert_problem(response, 429, "RATE_LIMITED")
        assert response.headers["retry-after"] == "30"


class TestBeforeAndAfter:
    @pytest.mark.parametrize(
        ("when", "stored_status"),
        [
            # After the upstream call its effect stands, but the client gets the 503.
            pytest.param({"when": "after"}, 200, id="after-the-effect-stands"),
            # Before it (the default), nothing reaches the system.
            pytest.param({}, 404, id="before-nothing-reaches-the-system"),
        ],
    )
    async def test_a_fault_on_a_write_decides_whether_the_system_sees_it(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        when: dict[str, str],
        stored_status: int,
    ) -> None:
        await add_rule(client, demo_token, service="qlvb", method="POST", status=503, **when)

        sent = await client.post(
            f"{KG}/qlvb/v1/documents", json=DOCUMENT, headers=bearer(demo_token)
        )
        stored = await client.get(
            f"{KG}/qlvb/v1/documents/{DOCUMENT_ID}", headers=bearer(demo_token)
        )

        assert_problem(sent, 503, "INJECTED_FAULT")
        assert stored.status_code == stored_status, stored.text


class TestMatching:
    @pytest.mark.parametrize(
        ("rule", "faulted"),
        [
            ({"service": "dancu"}, True),
            ({"service": "qlvb"}, False),
            ({"service": "dancu", "version": "v1"}, True),
            ({"method": "GET"}, True),
            ({"method": "post"}, False),
            ({"path": "/citizens/*"}, True),
            ({"path": "citizens/*"}, True),
            ({"path": "/citizens/*/household"}, False),
            ({"path": r"^/citizens/\d{12}$"}, True),
            ({"path": r"^/households"}, False),
            ({"client_id": "demo"}, True),
            ({"client_id": "someone-else"}, False),
        ],
    )
    async def test_a_rule_applies_only_to_calls_it_matches(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        cccd: str,
        rule: dict[str, Any],
        faulted: bool,
    ) -> None:
        await add_rule(client, demo_token, status=418, **rule)

        response = await lookup(client, demo_token, cccd)

        assert response.status_code == (418 if faulted else 200)

    @pytest.mark.parametrize(("probability", "expected"), [(0, 200), (1, 503)])
    async def test_probability_zero_never_applies_and_one_always_does(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        cccd: str,
        probability: float,
        expected: int,
    ) -> None:
        await add_rule(client, demo_token, status=503, probability=probability)

        statuses = {(await lookup(client, demo_token, cccd)).status_code for _ in range(5)}

        assert statuses == {expected}

    async def test_times_is_exact_under_concurrent_calls(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        rule = await add_rule(client, demo_token, status=503, times=3)

        answers = await asyncio.gather(*(lookup(client, demo_token, cccd) for _ in range(12)))
        listed = (await client.get(FAULTS, headers=bearer(demo_token))).json()["rules"]

        assert sorted(a.status_code for a in answers) == [200] * 9 + [503] * 3
        assert [(r["id"], r["remaining"]) for r in listed] == [(rule["id"], 0)]

    async def test_an_expired_rule_no_longer_applies_nor_is_listed(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        cccd: str,
        bus: BusState,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # The rules' clock, moved by hand: on the wall clock, a loaded machine could let the
        # 0.5 s pass before the first lookup is matched, which then answers 200.
        clock = WallClock(datetime.now(UTC))
        monkeypatch.setattr(bus.faults, "now", clock)
        await add_rule(client, demo_token, status=503, expires_in=0.5)

        before = await lookup(client, demo_token, cccd)
        clock.advance(seconds=0.5)
        after = await lookup(client, demo_token, cccd)
        listed = (await client.get(FAULTS, headers=bearer(demo_token))).json()["rules"]

        assert (before.status_code, after.status_code) == (503, 200)
        assert listed == []

    async def test_the_oldest_matching_rule_wins(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        await add_rule(client, demo_token, status=502, times=1)
        await add_rule(client, demo_token, status=503)

        first, second = [(await lookup(client, demo_token, cccd)).status_code for _ in range(2)]

        assert (first, second) == (502, 503)


class TestHeader:
    async def test_the_header_injects_a_fault_in_the_dev_profile(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        response = await lookup(
            client, demo_token, cccd, **{"X-LGSP-Fault": "status=503", "X-Request-ID": "f-h"}
        )

        assert assert_problem(response, 503, "INJECTED_FAULT")["fault"] == "header"
        fault = [h for h in await hops(client, demo_token, "f-h") if h["hop"] == "fault"]
        assert [h["target"] for h in fault] == ["status=503 before header"]

    async def test_a_header_that_says_no_valid_fault_is_422(
        self, client: httpx.AsyncClient, demo_token: str, cccd: str
    ) -> None:
        response = await lookup(client, demo_token, cccd, **{"X-LGSP-Fault": "explode"})

        assert_problem(response, 422, "INVALID_REQUEST")

    async def test_the_header_is_ignored_when_the_setting_is_off(
        self, fresh_settings: Settings, cccd: str
    ) -> None:
        settings = with_short_timeout(fresh_settings, fault_header_enabled=False)
        async with running(settings) as http:
            token = await fetch_token(http)

            response = await lookup(http, token, cccd, **{"X-LGSP-Fault": "status=503"})

        assert response.status_code == 200

    async def test_the_header_is_ignored_in_the_production_profile(
        self, fresh_settings: Settings, cccd: str
    ) -> None:
        settings = with_short_timeout(
            fresh_settings,
            profile="production",
            demo_client_secret=SecretStr("not-the-published-one"),
            federation_secret=SecretStr("not-the-published-either"),
        )
        async with running(settings) as http:
            token = await fetch_token(http, secret="not-the-published-one")

            response = await lookup(http, token, cccd, **{"X-LGSP-Fault": "status=503"})

        assert response.status_code == 200


class TestAdminApi:
    async def test_rules_are_listed_removed_and_cleared(
        self, client: httpx.AsyncClient, demo_token: str
    ) -> None:
        first = await add_rule(client, demo_token, status=503, times=2, expires_in=60)
        second = await add_rule(client, demo_token, latency_ms=5)

        listed = (await client.get(FAULTS, headers=bearer(demo_token))).json()["rules"]
        removed = await client.delete(f"{FAULTS}/{first['id']}", headers=bearer(demo_token))
        missing = await client.delete(f"{FAULTS}/{first['id']}", headers=bearer(demo_token))
        cleared = await client.delete(FAULTS, headers=bearer(demo_token))

        assert [(r["id"], r.get("remaining")) for r in listed] == [
            (first["id"], 2),
            (second["id"], None),
        ]
        assert listed[0]["expires_at"]
        assert removed.status_code == 204
        assert_problem(missing, 404, "NOT_FOUND")
        assert cleared.json() == {"removed": 1}

    async def test_rules_belong_to_one_instance(
        self, client: httpx.AsyncClient, demo_token: str, settings: Settings
    ) -> None:
        await add_rule(client, demo_token, status=503)
        tien_giang = await fetch_token(client, "/lgsp/tiengiang")
        citizen = generate_citizens(province_code="82", seed=settings.seed, count=1)[0]

        response = await client.get(
            f"/lgsp/tiengiang/dancu/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(tien_giang)
        )
        listed = await client.get("/lgsp/tiengiang/admin/faults", headers=bearer(tien_giang))

        assert response.status_code == 200
        assert listed.json() == {"rules": []}

    async def test_only_admins_may_manage_faults(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from lgsp.admin_tasks import create_client

        vendor = await create_client(
            settings, instance="kiengiang", name="vendor", services=["dancu"], is_admin=False
        )
        token = await fetch_token(client, client_id=vendor.client_id, secret=vendor.client_secret)

        denied = await client.post(FAULTS, json={"status": 503}, headers=bearer(token))
        anonymous = await client.get(FAULTS)

        assert_problem(denied, 403, "ACCESS_DENIED")
        assert_problem(anonymous, 401, "INVALID_TOKEN")

    @pytest.mark.parametrize(
        "rule",
        [
            {},
            {"service": "dancu"},
            {"status": 503, "drop": True},
            {"status": 200},
            {"status": 503, "probability": 1.5},
            {"status": 503, "times": 0},
            {"status": 503, "expires_in": 0},
            {"status": 503, "path": "^(unclosed"},
            {"status": 503, "when": "during"},
            {"status": 503, "method": "TRACE"},
            {"latency": {"min_ms": 50, "max_ms": 10}},
            {"drop": False},
            {"status": 503, "colour": "red"},
            {"status": 503, "service": "nosuch"},
        ],
    )
    async def test_a_bad_rule_is_a_422_problem(
        self, client: httpx.AsyncClient, demo_token: str, rule: dict[str, Any]
    ) -> None:
        response = await client.post(FAULTS, json=rule, headers=bearer(demo_token))

        assert_problem(response, 422, "INVALID_REQUEST")

    async def test_a_rule_added_by_the_cli_applies_to_the_running_bus(
        self, fresh_settings: Settings, cccd: str
    ) -> None:
        from lgsp.faults.schemas import FaultRuleIn
        from lgsp.faults.tasks import add_fault

        settings = with_short_timeout(fresh_settings, fault_cache_seconds=0)
        async with running(settings) as http:
            token = await fetch_token(http)
            await add_fault(settings, instance="kiengiang", rule=FaultRuleIn(status=503))

            response = await lookup(http, token, cccd)

        assert_problem(response, 503, "INJECTED_FAULT")


class TestAudit:
    @pytest.mark.parametrize(
        ("rule", "target", "status", "order"),
        [
            ({"status": 503, "when": "after"}, "status=503 after", 503, ["upstream", "fault"]),
            ({"latency_ms": 1}, "latency=1ms before", 0, ["fault", "upstream"]),
            ({"rate_limit": True}, "rate_limit=1s before", 429, ["fault"]),
            ({"malformed": True}, "malformed before", 200, ["fault"]),
        ],
    )
    async def test_each_applied_fault_is_a_hop_of_its_own_under_the_request_id(
        self,
        client: httpx.AsyncClient,
        demo_token: str,
        cccd: str,
        rule: dict[str, Any],
        target: str,
        status: int,
        order: list[str],
    ) -> None:
        added = await add_rule(client, demo_token, **rule)
        request_id = f"f-audit-{uuid4()}"  # the audit outlives resets: each case a trail of its own

        await lookup(client, demo_token, cccd, **{"X-Request-ID": request_id})
        records = await hops(client, demo_token, request_id)

        fault = [r for r in records if r["hop"] == "fault"]
        assert [(r["target"], r["status"]) for r in fault] == [
            (f"{target} rule {added['id']}", status)
        ]
        assert fault[0]["service"] == "dancu"
        assert [r["hop"] for r in records] == ["inbound", *order]


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A bus of its own, for tests that need other settings than the `app` fixture's."""
    from lgsp.composition import create_bus

    application = create_bus(settings, instances=TEST_INSTANCES)
    async with serving(application, TEST_PUBLIC_URL, raise_app_exceptions=False) as http:
        yield http
