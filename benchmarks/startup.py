"""How long `lgsp serve` takes to answer `/healthz`: on a fresh data dir, and restarted on it.

    .venv/bin/python benchmarks/startup.py                 # 5 rounds of each
    .venv/bin/python benchmarks/startup.py --rounds 9 --era 2024
    .venv/bin/python benchmarks/startup.py --imports 25    # also: the slowest imports of a start
    .venv/bin/python benchmarks/startup.py --vs /tmp/base  # paired with another checkout

Each round starts `python -m lgsp serve` in a new temporary data dir ("first start"), waits for
`/healthz` to answer 200, stops it with SIGTERM, then starts it again on the same dir
("restart"). The clock runs from the spawn to the first 200; `/healthz` is asked every 10 ms
over a raw socket, so the prober costs the machine little. `/healthz` is liveness: `lgsp serve`
answers it as soon as it listens, while the bus is built in another thread. CPU is what the
server process had used then (user + system, every thread), and its main thread alone (the
work `/healthz` waited for, whatever the build did meanwhile). Then at once, as an integrator's
first call, it takes a token and looks up a sample citizen (`first call`, in a thread: a call
that comes before the bus is open is held until it is, and waits for the mock system it needs),
while `/readyz` is asked every 10 ms until it answers 200 (`/readyz`: the bus open and every
mock system with it). Those two columns are the whole start. The machine's load average is
printed with the figures: on a shared 2-core machine the wall times mean little without it.
With `--vs DIR` (another checkout of the project, e.g. `git worktree add /tmp/base main`) each
round starts that checkout's bus too, in turn with this one, so both see the same machine.

The bus is started as `make run` starts it, writing bytecode caches (`.pyc`) even where the
environment sets PYTHONDONTWRITEBYTECODE (`--no-bytecode-cache`: compile every module at every
start instead, as such an environment does outside `make`).

Issue 20 item 8's targets: first start under 1.0 s, restart under 0.7 s.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROBE_EVERY = 0.01
PROBE = "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
DEMO_CLIENT = base64.b64encode(b"demo:lgsp-demo-secret").decode()


@dataclass
class Start:
    """One start: seconds from spawn to the first 200 of `/healthz` and the server's CPU
    seconds then; the same at the first 200 of `/readyz` and at the answer to the first call
    (a token and a citizen lookup)."""

    wall: float
    cpu: float
    main_cpu: float
    """The main thread's CPU then: the work done before `/healthz` could answer, whatever the
    bus was doing in other threads meanwhile."""
    ready_wall: float
    ready_cpu: float
    call_wall: float
    call_cpu: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers_200(port: int, path: str = "/healthz") -> bool:
    """`path` answered 200, by a raw socket (no client library to wake up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(PROBE.format(path=path).encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def first_call(port: int) -> None:
    """What an integrator does first: a token from the first province, a citizen looked up."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:

        def answer(method: str, path: str, body: str | None, headers: dict[str, str]) -> Any:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
            return json.loads(data)

        index = answer("GET", "/", None, {})
        base = next(i["base_url"] for i in index["instances"] if i["kind"] == "province")
        path = base.partition(f":{port}")[2]
        form = {"content-type": "application/x-www-form-urlencoded"}
        token = answer(
            "POST",
            f"{path}/token",
            "grant_type=client_credentials",
            {**form, "authorization": f"Basic {DEMO_CLIENT}"},
        )["access_token"]
        bearer = {"authorization": f"Bearer {token}"}
        cccd = answer("GET", f"{path}/admin/samples", None, bearer)["samples"]["cccd"][0]
        answer("GET", f"{path}/dancu/v1/citizens/{cccd}", None, bearer)
    finally:
        connection.close()


def until_200(
    port: int, path: str, process: subprocess.Popen[bytes], deadline: float, begun: float
) -> tuple[float, float]:
    """Seconds from `begun` to the first 200 of `path`, and the server's CPU seconds then."""
    while not answers_200(port, path):
        if process.poll() is not None:
            raise SystemExit(f"lgsp serve exited {process.returncode} during start-up")
        if time.perf_counter() > deadline:
            raise SystemExit(f"lgsp serve did not answer {path} 200 in time")
        time.sleep(PROBE_EVERY)
    return time.perf_counter() - begun, cpu_seconds(process.pid)


def cpu_seconds(pid: int, *, main_thread: bool = False) -> float:
    """User + system CPU of `pid` so far: every thread, or its main thread only."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat")
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(
    data_dir: Path,
    args: argparse.Namespace,
    *,
    checkout: Path = ROOT,
    importtime: Path | None = None,
) -> Start:
    """Start the bus of `checkout` on `data_dir`, time it to its first `/healthz` 200, stop it.

    `python -m` puts the working directory first on the path: the checkout's `lgsp` is run.
    """
    port = free_port()
    argv = [sys.executable]
    if importtime is not None:
        argv += ["-X", "importtime"]
    argv += ["-m", "lgsp", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    env = {**os.environ, "LGSP_ERA": args.era, "LGSP_LOG_LEVEL": "WARNING"}
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    begun = time.perf_counter()
    err = importtime.open("wb") if importtime is not None else subprocess.DEVNULL
    process = subprocess.Popen(argv, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = begun + args.timeout
        wall, cpu = until_200(port, "/healthz", process, deadline, begun)
        main_cpu = cpu_seconds(process.pid, main_thread=True)
        called: list[tuple[float, float]] = []
        failed: list[BaseException] = []

        def call() -> None:
            try:
                first_call(port)
            except BaseException as error:  # said by the main thread
                failed.append(error)
            else:
                called.append((time.perf_counter() - begun, cpu_seconds(process.pid)))

        caller = threading.Thread(target=call)
        caller.start()
        ready_wall, ready_cpu = until_200(port, "/readyz", process, deadline, begun)
        caller.join(timeout=max(0.0, deadline - time.perf_counter()))
        if failed:
            raise SystemExit(f"{checkout}: the first call failed: {failed[0]!r}")
        if not called:
            raise SystemExit(f"{checkout}: the first call was not answered in {args.timeout} s")
        (call_wall, call_cpu) = called[0]
        return Start(wall, cpu, main_cpu, ready_wall, ready_cpu, call_wall, call_cpu)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if importtime is not None and not isinstance(err, int):
            err.close()


def slowest_imports(log: Path, top: int) -> list[tuple[float, str]]:
    """The `top` packages by cumulative import time (ms), top-level packages only."""
    found: list[tuple[float, str]] = []
    pattern = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)")
    for line in log.read_text(errors="replace").splitlines():
        matched = pattern.match(line)
        if matched and len(matched.group(2)) <= 1:  # a package imported at the top level
            found.append((int(matched.group(1)) / 1000, matched.group(3)))
    return sorted(found, reverse=True)[:top]


def describe(label: str, starts: list[Start]) -> str:
    walls = sorted(s.wall for s in starts)

    def medians(name: str, wall: list[float], cpu: list[float]) -> str:
        return f"{name} wall median {median(wall):.2f} s  CPU median {median(cpu):.2f} s"

    return " | ".join(
        [
            f"{label:<14} /healthz wall min {walls[0]:.2f} s  median {median(walls):.2f} s  "
            f"max {walls[-1]:.2f} s  CPU median {median(s.cpu for s in starts):.2f} s "
            f"(main thread {median(s.main_cpu for s in starts):.2f} s)",
            medians("first call", [s.call_wall for s in starts], [s.call_cpu for s in starts]),
            medians("/readyz", [s.ready_wall for s in starts], [s.ready_cpu for s in starts]),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="first starts and restarts each")
    parser.add_argument("--era", default="2026", choices=("2026", "2024"))
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--imports", type=int, default=0, help="print the N slowest imports")
    parser.add_argument("--vs", type=Path, help="another checkout, measured in turn with this one")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE if set: every start compiles the modules it imports",
    )
    args = parser.parse_args()
    checkouts = {"this": ROOT} if args.vs is None else {"this": ROOT, "vs": args.vs.resolve()}
    first: dict[str, list[Start]] = {name: [] for name in checkouts}
    again: dict[str, list[Start]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory(prefix="lgsp-startup-") as scratch:
        for name, checkout in checkouts.items():  # page cache and .pyc files, not counted
            start(Path(scratch) / f"warm-up-{name}", args, checkout=checkout)
        for round_ in range(args.rounds):
            for name, checkout in checkouts.items():
                data_dir = Path(scratch) / f"{name}-{round_}"
                first[name].append(start(data_dir, args, checkout=checkout))
                again[name].append(start(data_dir, args, checkout=checkout))
        if args.imports:
            log = Path(scratch) / "importtime.log"
            start(Path(scratch) / "imports", args, importtime=log)
            print(f"slowest imports of a start (cumulative ms, era {args.era}):")
            for ms, name in slowest_imports(log, args.imports):
                print(f"  {ms:8.1f}  {name}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    cache = "off" if args.no_bytecode_cache else "on"
    print(
        f"lgsp serve to /healthz 200, era {args.era}, {args.rounds} rounds, bytecode cache "
        f"{cache}, load {load}"
    )
    for name, checkout in checkouts.items():
        if len(checkouts) > 1:
            print(f"{name}: {checkout}")
        print(describe("first start", first[name]))
        print(describe("restart", again[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
