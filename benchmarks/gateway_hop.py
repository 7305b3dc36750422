"""Gateway hop versus calling the mock directly, measured in the same run.

    .venv/bin/python benchmarks/gateway_hop.py [--seconds 10] [--connections 32]

Starts two processes on loopback ports: the dancu mock alone (uvicorn), and `lgsp serve` on a
fresh SQLite data dir. Then loads each with the same citizen lookup — wrk when it is installed,
else the small keep-alive HTTP/1.1 load generator below — and prints requests per second, p50,
p99 and the gateway's ratio to the direct call. The gateway figure includes the token check, the
access-right lookup, the adapter, the in-process call and the committed audit records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import quantiles

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEED = 2024


def dancu_app() -> object:
    """Factory for `uvicorn --factory`: the Kiên Giang citizen database mock on its own."""
    from mocks.config import SystemConfig
    from mocks.dancu.app import create_app

    return create_app(SystemConfig(instance="kiengiang", province_code="91", seed=SEED))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(argv: list[str], health_url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(health_url).status_code < 500:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{argv[2:]} did not start")


async def load(
    host: str, port: int, request: bytes, seconds: float, connections: int
) -> tuple[int, list[float]]:
    """Keep-alive connections, each sending the request as soon as the previous answer ends."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += status != 200
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return errors, latencies


def measure(
    name: str, port: int, path: str, headers: dict[str, str], args: argparse.Namespace
) -> dict[str, float]:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    errors, latencies = asyncio.run(
        load("127.0.0.1", port, request, args.seconds, args.connections)
    )
    cuts = quantiles(latencies, n=100)
    result = {"rps": len(latencies) / args.seconds, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000}
    print(
        f"  {name:<38} {result['rps']:>8.0f} req/s  p50 {result['p50']:6.1f} ms"
        f"  p99 {result['p99']:6.1f} ms  non-200: {errors}"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    from mocks.dancu.seed import generate_citizens

    cccd = generate_citizens(province_code="91", seed=SEED, count=1)[0].so_dinh_danh
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env["PYTHONPATH"] = str(ROOT)
    direct_port, bus_port = free_port(), free_port()
    processes = []
    with tempfile.TemporaryDirectory() as data_dir:
        try:
            processes.append(
                start(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "--factory",
                        "benchmarks.gateway_hop:dancu_app",
                        "--port",
                        str(direct_port),
                        "--log-level",
                        "warning",
                        "--no-access-log",
                    ],
                    f"http://127.0.0.1:{direct_port}/api/congdan/{cccd}",
                    env,
                )
            )
            processes.append(
                start(
                    [
                        sys.executable,
                        "-m",
                        "lgsp",
                        "serve",
                        "--port",
                        str(bus_port),
                        "--data-dir",
                        data_dir,
                    ],
                    f"http://127.0.0.1:{bus_port}/healthz",
                    env,
                )
            )
            base = f"http://127.0.0.1:{bus_port}/lgsp/kiengiang"
            token = httpx.post(
                f"{base}/token",
                data={"grant_type": "client_credentials"},
                auth=("demo", "lgsp-demo-secret"),
            ).json()["access_token"]
            print(
                f"{args.connections} connections, {args.seconds:.0f} s each, one citizen lookup\n"
            )
            direct = measure("dancu mock, direct", direct_port, f"/api/congdan/{cccd}", {}, args)
            hop = measure(
                "gateway hop, in-process, audited",
                bus_port,
                f"/lgsp/kiengiang/dancu/v1/citizens/{cccd}",
                {"Authorization": f"Bearer {token}"},
                args,
            )
            print(
                f"\n  gateway / direct throughput: {hop['rps'] / direct['rps']:.2f}x"
                f"   p99 ratio: {hop['p99'] / direct['p99']:.1f}x"
            )
            print(json.dumps({"direct": direct, "gateway_in_process": hop}))
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
