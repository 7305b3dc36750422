"""Forwarding transports compared under concurrency: which one `HttpTransport` should use.

    .venv/bin/python benchmarks/transports.py [--seconds 10] [--connections 32]

Starts the dancu mock on its own (uvicorn), then, one after the other, a tiny forwarding app
(one route: call the mock, return its answer) built on each candidate, and loads each with wrk
(or the Python load generator of `benchmarks/bus.py`). Every candidate forwards the same citizen
lookup through the same code path the gateway uses (`HttpTransport.send`), except `aiohttp raw`,
which calls aiohttp's `ClientSession` directly: the ceiling for a transport under httpx.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bus import (  # noqa: E402 - runnable as a script from the checkout
    Peer,
    Result,
    citizen_number,
    free_port,
    load,
    print_table,
    running,
    uvicorn_argv,
)

CANDIDATES = {
    "httpx default pool (100/20)": "httpx",
    "httpx pool, 100 keep-alive": "httpx-keepalive",
    "httpx on AiohttpTransport": "httpx-aiohttp",
    "aiohttp raw (no httpx)": "aiohttp",
}


def forwarder() -> Any:
    """Factory for `uvicorn --factory`: GET /{path} sent on to BENCH_UPSTREAM by BENCH_CANDIDATE."""
    from contextlib import asynccontextmanager

    import aiohttp
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from adapters.base import SystemRequest
    from lgsp.routing.aiohttp_transport import AiohttpTransport
    from lgsp.routing.transports import HttpTransport

    upstream = os.environ["BENCH_UPSTREAM"]
    candidate = os.environ["BENCH_CANDIDATE"]
    opened: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        if candidate == "aiohttp":
            session = aiohttp.ClientSession(upstream, connector=aiohttp.TCPConnector(limit=100))
            opened["session"] = session
        else:
            transport: httpx.AsyncBaseTransport | None = None
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            if candidate == "httpx-keepalive":
                limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
            elif candidate == "httpx-aiohttp":
                transport = AiohttpTransport(max_connections=100)
            client = httpx.AsyncClient(
                base_url=upstream, timeout=httpx.Timeout(10.0), limits=limits, transport=transport
            )
            opened["transport"] = HttpTransport(client, system="dancu")
            opened["client"] = client
        yield
        if "session" in opened:
            await opened["session"].close()
        else:
            await opened["client"].aclose()

    async def forward(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        if "session" in opened:
            async with opened["session"].get(path) as answer:
                body = await answer.read()
                return Response(body, answer.status, media_type=answer.content_type)
        response = await opened["transport"].send(SystemRequest(method="GET", path=path))
        return Response(response.body, response.status, media_type=response.content_type)

    return Starlette(routes=[Route("/{path:path}", forward)], lifespan=lifespan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--python-load", action="store_true", help="ignore wrk")
    args = parser.parse_args()
    args.requests = 0

    path = f"/api/congdan/{citizen_number()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env["PYTHONPATH"] = str(ROOT)
    upstream_port = free_port()
    results: list[Result] = []
    with running(
        Peer("dancu", uvicorn_argv("benchmarks.bus:dancu_app", upstream_port), upstream_port, path),
        env,
    ):
        results.append(load("dancu mock, direct", upstream_port, path, {}, args))
        for name, candidate in CANDIDATES.items():
            port = free_port()
            forward_env = {
                **env,
                "BENCH_UPSTREAM": f"http://127.0.0.1:{upstream_port}",
                "BENCH_CANDIDATE": candidate,
            }
            with running(
                Peer(name, uvicorn_argv("benchmarks.transports:forwarder", port), port, path),
                forward_env,
            ):
                results.append(load(f"forward: {name}", port, path, {}, args))
    print_table(results, reference=results[0].name, show_rss=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
