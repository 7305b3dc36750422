"""`DeferredSystems`: the embedded systems open once the bus is ready, and a call waits for its
system to be open (`lgsp.composition`, issue 20 item 8)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from adapters.base import SystemRequest
from lgsp.composition import DeferredSystems
from lgsp.routing.systems import EmbeddedSystem, SystemContext, SystemFactory
from lgsp.routing.transports import InProcessTransport
from lgsp.settings import Settings
from lgsp.topology import load_topology
from tests.fixtures.waiting import settle

pytestmark = pytest.mark.anyio


def recording(opened: list[str], name: str) -> SystemFactory:
    """A system whose lifespan yields a greeting that its one route answers."""

    def factory(context: SystemContext) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, str]]:
            opened.append(name)
            yield {"greeting": f"xin chào from {name}"}
            opened.append(f"{name} closed")

        app = FastAPI(lifespan=lifespan)

        @app.get("/hello")
        async def hello(request: Request) -> dict[str, str]:
            return {"said": request.state.greeting}

        return app

    return factory


def contexts(tmp_path: Path) -> list[SystemContext]:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    instances = load_topology(None, "2026").instances
    return [SystemContext(instance=instance, settings=settings) for instance in instances]


async def stand_ins(
    stack: AsyncExitStack,
    systems: DeferredSystems,
    factories: dict[str, SystemFactory],
    context: SystemContext,
) -> dict[str, FastAPI]:
    """What the gateway does (`open_system`): build each system and run its lifespan."""
    registry = systems.registry({name: EmbeddedSystem(f) for name, f in factories.items()})
    apps = {}
    for name, entry in registry.items():
        app = entry.factory(context)
        await stack.enter_async_context(app.router.lifespan_context(app))
        apps[name] = app
    return apps


async def call(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://system.internal") as c:
        return await c.get("/hello")


async def test_a_system_is_not_opened_with_the_bus_and_a_call_waits_for_it(
    tmp_path: Path,
) -> None:
    opened: list[str] = []
    systems = DeferredSystems()
    async with AsyncExitStack() as stack:
        apps = await stand_ins(
            stack, systems, {"dancu": recording(opened, "dancu")}, contexts(tmp_path)[1]
        )
        await settle()
        assert opened == []  # the bus is up; the system is not even built

        answer = await call(apps["dancu"])

        assert (answer.status_code, answer.json()) == (200, {"said": "xin chào from dancu"})
        assert opened == ["dancu"]
    assert opened == ["dancu", "dancu closed"]  # stopped with the bus


async def test_started_systems_open_one_after_another_in_the_order_asked(
    tmp_path: Path,
) -> None:
    opened: list[str] = []
    systems = DeferredSystems()
    names = ["dancu", "dvc", "qlvb"]
    async with AsyncExitStack() as stack:
        await stand_ins(
            stack, systems, {n: recording(opened, n) for n in names}, contexts(tmp_path)[1]
        )

        systems.start()
        await systems.opened()

        assert opened == names
    assert opened == [*names, "qlvb closed", "dvc closed", "dancu closed"]


async def test_a_call_opens_its_system_before_those_still_waiting(tmp_path: Path) -> None:
    opened: list[str] = []
    systems = DeferredSystems()
    names = ["dancu", "dvc", "qlvb", "vdxp"]
    async with AsyncExitStack() as stack:
        apps = await stand_ins(
            stack, systems, {n: recording(opened, n) for n in names}, contexts(tmp_path)[1]
        )

        await call(apps["qlvb"])  # before the others are begun
        await systems.opened()

    assert opened[:4] == ["qlvb", "dancu", "dvc", "vdxp"]


async def test_a_pause_lets_the_system_opening_finish_and_holds_the_others_until_resumed(
    tmp_path: Path,
) -> None:
    """What the test suite does at the end of each test: its event loop then stops, and a
    system caught mid-opening would hold its database's write lock all that while."""
    opened: list[str] = []
    systems = DeferredSystems()
    names = ["dancu", "dvc", "qlvb"]
    async with AsyncExitStack() as stack:
        apps = await stand_ins(
            stack, systems, {n: recording(opened, n) for n in names}, contexts(tmp_path)[1]
        )
        systems.start()
        await asyncio.sleep(0)  # the opener has begun the first

        await systems.pause()

        assert opened == ["dancu"]  # finished, not cut short; the others not begun
        waiting = asyncio.ensure_future(call(apps["qlvb"]))  # a background task's call
        with pytest.raises(TimeoutError):  # nothing opens while paused, not even for a call
            await asyncio.wait_for(asyncio.shield(waiting), timeout=0.5)
        assert opened == ["dancu"]

        systems.resume()

        assert (await waiting).json() == {"said": "xin chào from qlvb"}
        await systems.opened()
        assert opened == ["dancu", "qlvb", "dvc"]  # the call's system first


async def test_the_systems_are_open_once_all_are_and_not_when_one_failed(
    tmp_path: Path,
) -> None:
    def broken(_context: SystemContext) -> FastAPI:
        raise RuntimeError("no seed today")

    systems = DeferredSystems()
    async with AsyncExitStack() as stack:
        await stand_ins(stack, systems, {"dancu": recording([], "dancu")}, contexts(tmp_path)[1])
        assert not systems.all_open()  # /readyz: 503 until they are
        await systems.opened()
        assert systems.all_open()

        await stand_ins(stack, systems, {"dvc": broken}, contexts(tmp_path)[2])
        await systems.opened()
        assert not systems.all_open()


async def test_a_system_that_fails_to_open_fails_its_calls_and_the_next_opens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    opened: list[str] = []

    def broken(_context: SystemContext) -> FastAPI:
        raise RuntimeError("no seed today")

    systems = DeferredSystems()
    async with AsyncExitStack() as stack:
        apps = await stand_ins(
            stack,
            systems,
            {"dancu": broken, "dvc": recording(opened, "dvc")},
            contexts(tmp_path)[1],
        )
        with caplog.at_level(logging.ERROR, logger="lgsp.composition"):
            systems.start()
            await systems.opened()

        with pytest.raises(RuntimeError, match="no seed today"):
            await call(apps["dancu"])
        assert (await call(apps["dvc"])).json() == {"said": "xin chào from dvc"}
    assert "the embedded system angiang/dancu failed" in caplog.text


async def test_a_bus_stopped_while_a_system_opens_stops_quietly_once_its_thread_is_done(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A thread cannot be cancelled: a stop that left it running let it write a document
    system's keys into a data dir that the next bus (a test's) had wiped, under its old root."""
    building, release = threading.Event(), threading.Event()
    opened: list[str] = []
    made: list[str] = []

    def slow(_context: SystemContext) -> None:
        """What is made ahead in a thread (a document system's keys), taking its time."""
        building.set()
        release.wait(timeout=60)
        made.append("keys")

    systems = DeferredSystems(ahead={"slow": slow})
    try:
        with caplog.at_level(logging.ERROR, logger="lgsp.composition"):
            async with AsyncExitStack() as stack:
                await stand_ins(
                    stack,
                    systems,
                    {"slow": recording(opened, "slow"), "next": recording(opened, "next")},
                    contexts(tmp_path)[1],
                )
                systems.start()
                await asyncio.to_thread(building.wait, 60)
                stopping = asyncio.create_task(stack.aclose())
                await settle()
                stopped_before_the_thread_ended = stopping.done()
                release.set()
                await stopping
    finally:
        release.set()

    assert (opened, made, caplog.text) == ([], ["keys"], "")
    assert not stopped_before_the_thread_ended


async def test_a_bus_started_again_opens_its_systems_again(tmp_path: Path) -> None:
    opened: list[str] = []
    systems = DeferredSystems()
    factories: dict[str, Callable[[SystemContext], FastAPI]] = {"dancu": recording(opened, "dancu")}
    for _ in range(2):
        async with AsyncExitStack() as stack:
            apps = await stand_ins(stack, systems, factories, contexts(tmp_path)[1])
            assert (await call(apps["dancu"])).status_code == 200

    assert opened == ["dancu", "dancu closed", "dancu", "dancu closed"]


async def test_a_system_is_built_on_the_event_loop_and_its_keys_made_ahead_in_a_thread(
    tmp_path: Path,
) -> None:
    """FastAPI's `warnings.catch_warnings()` while it builds routes is not thread-safe: a
    system built in a thread saw a pydantic warning the filters then made an error."""
    threads: list[tuple[str, bool]] = []

    def keys(_context: SystemContext) -> None:
        threads.append(("keys", threading.current_thread() is threading.main_thread()))

    def built(context: SystemContext) -> FastAPI:
        threads.append(("app", threading.current_thread() is threading.main_thread()))
        return recording([], "qlvb")(context)

    systems = DeferredSystems(ahead={"qlvb": keys})
    async with AsyncExitStack() as stack:
        await stand_ins(stack, systems, {"qlvb": built}, contexts(tmp_path)[1])
        await systems.opened()

    assert threads == [("keys", False), ("app", True)]


async def test_the_upstream_timeout_starts_once_the_system_is_open(tmp_path: Path) -> None:
    """Opening is the bus's own start-up: under load it outlasted a 1 s upstream timeout, and
    the first calls (a test's reset) were answered 504 although the system never was slow."""
    may_open = asyncio.Event()
    opened: list[str] = []
    slow = recording(opened, "dancu")

    def slow_to_open(context: SystemContext) -> FastAPI:
        app = slow(context)
        lifespan = app.router.lifespan_context

        @asynccontextmanager
        async def gated(app_: FastAPI) -> AsyncIterator[Any]:
            await may_open.wait()
            async with lifespan(app_) as state:
                yield state

        app.router.lifespan_context = gated
        return app

    systems = DeferredSystems()
    async with AsyncExitStack() as stack:
        apps = await stand_ins(stack, systems, {"dancu": slow_to_open}, contexts(tmp_path)[1])
        transport = InProcessTransport(apps["dancu"], system="dancu", host="dancu", timeout=0.01)
        sent = asyncio.create_task(transport.send(SystemRequest(method="GET", path="/hello")))
        await asyncio.sleep(0.05)  # five timeouts' worth, spent opening
        may_open.set()

        answer = await sent

    assert (answer.status, json.loads(answer.body)) == (200, {"said": "xin chào from dancu"})
