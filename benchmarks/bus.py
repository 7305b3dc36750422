"""The bus under load beside what an integrator would otherwise use, measured in the same run.

    .venv/bin/python benchmarks/bus.py            # 100,000 requests per row (a few minutes)
    .venv/bin/python benchmarks/bus.py --quick    # a few seconds per row
    .venv/bin/python benchmarks/bus.py --profile /tmp/profiles   # py-spy on the gateway rows
    .venv/bin/python benchmarks/bus.py --quick --only in-process \
        --database-url postgresql://postgres@127.0.0.1:5432/db --workers 2   # scaling

One citizen lookup, 32 keep-alive connections, one row after another, each against real
processes on loopback (started for the row, stopped after it):

- dancu mock, direct: the Kiên Giang citizen database mock alone under uvicorn;
- gateway hop, in-process system: `lgsp serve` — token check, access right, adapter, the mock
  mounted in the process, audit records committed (SQLite in a fresh data dir);
- gateway hop, system over HTTP: the same, with a topology whose dancu is the separate mock;
- cross-province hop: NDXP, Kiên Giang and Tiền Giang as three processes; the client asks Kiên
  Giang for a Tiền Giang citizen (`X-LGSP-Target`), which goes LGSP → NDXP → LGSP → system;
- WireMock and Prism serving the mock's own answer, when found (`--peers DIR`: a folder where
  `npm install wiremock @stoplight/prism-cli` ran; WireMock runs on Java 17), WireMock with
  `WIREMOCK_FLAGS` and `--wiremock-warmup` seconds of load first, both printed with the row;
- with `--workers N`: the in-process gateway hop again as `lgsp serve --workers N`, every
  worker on one database (the SQLite file, or `--database-url`'s PostgreSQL), beside the
  one-process row on the same kind of database.

The load generator is wrk when it is on PATH, else the keep-alive HTTP/1.1 one below (slower: it
competes with the server for the two cores; the ratios in one run stay comparable). Columns:
requests per second, ratio to the direct mock and to WireMock, p50, p99, the CPU time the row's
servers spent per request (the gateways, and the system when it is reached over HTTP: steadier
than req/s on a shared machine), and the resident memory of the loaded process (the entry
gateway for the cross-province row; with its workers) after its requests, with its growth since
the process became ready: without `--quick`, the growth over 100,000 requests (`--requests`;
wrk runs as long as they take at the warm-up's rate), after `--warmup` seconds of load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import quantiles
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEED = 2024
DEMO = ("demo", "lgsp-demo-secret")
FEDERATION_SECRET = "benchmark-federation-secret"


def dancu_app() -> Any:
    """Factory for `uvicorn --factory`: the Kiên Giang citizen database mock on its own."""
    from mocks.config import SystemConfig
    from mocks.dancu.app import create_app

    return create_app(SystemConfig(instance="kiengiang", province_code="91", seed=SEED))


def citizen_number(province_code: str = "91") -> str:
    from mocks.dancu.seed import generate_citizens

    return generate_citizens(province_code=province_code, seed=SEED, count=1)[0].so_dinh_danh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_argv(factory: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _with_children(pid: int) -> list[int]:
    """`pid` and its children (the workers of `lgsp serve --workers`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(c) for c in children.read_text().split())] if children.exists() else [pid]


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children."""
    total = 0.0
    for each in _with_children(pid):
        status = Path(f"/proc/{each}/status")
        for line in status.read_text().splitlines() if status.exists() else []:
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total or float("nan")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, every thread) used so far by `pids` and their children."""
    ticks = 0
    for each in (child for pid in pids for child in _with_children(pid)):
        stat = Path(f"/proc/{each}/stat")
        if stat.exists():
            fields = stat.read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def database(args: argparse.Namespace, name: str) -> Iterator[dict[str, str]]:
    """The environment of one gateway row: a fresh schema of `--database-url`, else SQLite.

    Without `--database-url` the row's `--data-dir` holds its SQLite file.
    """
    if not args.database_url:
        yield {}
        return
    import psycopg
    from sqlalchemy import make_url

    url = make_url(args.database_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"lgsp_bench_{os.getpid()}_{name}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield {"LGSP_DATABASE_URL": scoped.render_as_string(hide_password=False)}
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class Peer:
    """A process to start, and the path on its port that answers once it is ready."""

    name: str
    argv: list[str]
    port: int
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    rss_ready: float = 0.0


@contextmanager
def running(peer: Peer, env: dict[str, str], log_dir: Path | None = None) -> Iterator[Peer]:
    """Start `peer`, wait until it answers below 500, stop it (and wait) on leaving."""
    log = (log_dir / f"{peer.name.split()[0]}-{peer.port}.log").open("ab") if log_dir else None
    peer.process = subprocess.Popen(
        peer.argv,
        cwd=ROOT,
        env={**env, **peer.env},
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if peer.process.poll() is not None:
                raise SystemExit(f"{peer.name} exited during start-up ({peer.argv})")
            if time.monotonic() > deadline:
                raise SystemExit(f"{peer.name} did not start in 120 s")
            try:
                url = f"http://127.0.0.1:{peer.port}{peer.ready_path}"
                if httpx.get(url, timeout=5).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        peer.rss_ready = rss_mb(peer.process.pid)
        yield peer
    finally:
        peer.process.terminate()
        try:
            peer.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            peer.process.kill()
            peer.process.wait()
        if log is not None:
            log.close()


@dataclass
class Result:
    name: str
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int
    rss: float | None = None
    rss_growth: float | None = None
    cpu_us: float | None = None
    """CPU time the row's servers spent per request: steadier than req/s on a busy machine."""
    cpu_split: dict[str, float] = field(default_factory=dict)
    """The same, per process of the row (the entry gateway first)."""


# ---------------------------------------------------------------------------------------------
# Load generators


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _wrk(port: int, path: str, headers: dict[str, str], args: argparse.Namespace) -> Result:
    """wrk for `args.seconds` (`load` turns a number of requests into a duration)."""
    argv = [
        "wrk",
        "-t2",
        f"-c{args.connections}",
        "--latency",
        "-d",
        f"{max(1, round(args.seconds))}s",
    ]
    argv += [x for k, v in headers.items() for x in ("-H", f"{k}: {v}")]
    argv.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    if len(percentiles) != 2:
        raise RuntimeError(f"wrk printed no 50% and 99% latency:\n{out}")
    done = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        name="",
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50=_wrk_ms(percentiles["50"]),
        p99=_wrk_ms(percentiles["99"]),
        requests=int(done.group(1)) if done else 0,
        errors=(int(bad.group(1)) if bad else 0)
        + (sum(int(n) for n in failed.groups()) if failed else 0),
    )


async def _python_load(
    port: int, request: bytes, args: argparse.Namespace
) -> tuple[float, int, list[float]]:
    """Keep-alive connections, each sending the request as soon as the previous answer ends."""
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + (args.seconds if not args.requests else 1e9)

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline and (
            not args.requests or len(latencies) < args.requests
        ):
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            await _read_body(reader, head)
            latencies.append(time.perf_counter() - sent)
            errors += status != 200
        writer.close()

    await asyncio.gather(*(worker() for _ in range(args.connections)))
    return time.perf_counter() - started, errors, latencies


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    """Consume one body: by its length, or chunk by chunk (WireMock answers chunked)."""
    fields = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)
    )
    if b"content-length" in fields:
        await reader.readexactly(int(fields[b"content-length"]))
        return
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        await reader.readexactly(size + 2)
    await reader.readuntil(b"\r\n")  # the empty trailer section


def _python(port: int, path: str, headers: dict[str, str], args: argparse.Namespace) -> Result:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    elapsed, errors, latencies = asyncio.run(_python_load(port, request, args))
    cuts = quantiles(latencies, n=100)
    return Result(
        "", len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, len(latencies), errors
    )


def load(
    name: str,
    port: int,
    path: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    process: Peer | None = None,
    serving: tuple[Peer, ...] = (),
) -> Result:
    """Warm up (`--warmup` seconds), then load `path` on `port`.

    After the load: the RSS of `process`, and the CPU that `process` and the other `serving`
    processes (the HTTP system, the other gateways) spent per request.
    """
    warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup, "requests": 0})
    generator = _python if args.python_load or shutil.which("wrk") is None else _wrk
    warmed = generator(port, path, headers, warm)
    if args.requests and generator is _wrk:
        # wrk stops after a time, not a count: long enough, at the warm-up's rate, for them all.
        seconds = args.requests / max(warmed.rps, 1.0) * 1.05 + 1
        args = argparse.Namespace(**{**vars(args), "seconds": seconds, "requests": 0})
    peers = [p for p in (process, *serving) if p is not None and p.process is not None]
    before = [cpu_seconds([p.process.pid]) for p in peers if p.process is not None]
    result = generator(port, path, headers, args)
    result.name = name
    if peers and result.requests:
        after = [cpu_seconds([p.process.pid]) for p in peers if p.process is not None]
        spent = [(b - a) / result.requests * 1e6 for a, b in zip(before, after, strict=True)]
        result.cpu_us = sum(spent)
        result.cpu_split = {p.name: us for p, us in zip(peers, spent, strict=True)}
    if process is not None and process.process is not None:
        result.rss = rss_mb(process.process.pid)
        result.rss_growth = result.rss - process.rss_ready
    cpu = f"  CPU {result.cpu_us:6.0f} us/req" if result.cpu_us is not None else ""
    if len(result.cpu_split) > 1:  # what each process of the row spent: each hop's cost
        cpu += " (" + " + ".join(f"{n} {us:.0f}" for n, us in result.cpu_split.items()) + ")"
    print(
        f"  {name:<40} {result.rps:>8.0f} req/s  p50 {result.p50:7.1f} ms"
        f"  p99 {result.p99:7.1f} ms  errors {result.errors}{cpu}  ({result.requests} requests)",
        flush=True,
    )
    return result


def print_table(results: list[Result], *, reference: str, show_rss: bool = True) -> None:
    by_name = {r.name: r for r in results}
    wiremock = next((r for r in results if r.name.startswith("WireMock")), None)
    base = by_name[reference]
    head = f"\n{'':<40} {'req/s':>8} {'× direct':>9}"
    head += f" {'× WireMock':>11}" if wiremock else ""
    head += f" {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU us/req':>11}"
    head += f" {'RSS MB':>8} {'growth':>7}" if show_rss else ""
    print(head)
    for r in results:
        line = f"{r.name:<40} {r.rps:>8.0f} {r.rps / base.rps:>8.2f}x"
        line += f" {r.rps / wiremock.rps:>10.2f}x" if wiremock else ""
        line += f" {r.p50:>8.1f} {r.p99:>8.1f} {r.errors:>7}"
        line += f" {r.cpu_us:>11.0f}" if r.cpu_us is not None else f" {'-':>11}"
        if show_rss:
            rss = f"{r.rss:>8.0f} {r.rss_growth:>+7.0f}" if r.rss is not None else f"{'-':>8}"
            line += " " + rss
        print(line)


# ---------------------------------------------------------------------------------------------
# The rows


def _lgsp(port: int, data_dir: Path, *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "lgsp", "serve", "--port", str(port)]
    return [*argv, "--data-dir", str(data_dir), "--seed", str(SEED), *extra]


def _token(base: str) -> str:
    answer = httpx.post(f"{base}/token", data={"grant_type": "client_credentials"}, auth=DEMO)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _topology(path: Path, *, dancu_url: str | None = None, ports: dict[str, int]) -> Path:
    """The seeds' NDXP, Kiên Giang and Tiền Giang (era 2024), each at its port on loopback;
    Kiên Giang's dancu at `dancu_url` when given, else in-process."""
    from lgsp.topology import TOPOLOGY_2024, Topology, topology_toml

    instances = []
    for name, port in ports.items():
        spec = TOPOLOGY_2024.get(name)
        assert spec is not None, name
        systems = [
            {"name": "dancu", "url": dancu_url}
            if dancu_url and (name, system.name) == ("kiengiang", "dancu")
            else system.model_dump(mode="json", exclude_none=True)
            for system in spec.systems
        ]
        instances.append(
            {
                **spec.model_dump(mode="json", exclude_none=True),
                "url": f"http://127.0.0.1:{port}{spec.mount_path}",
                "systems": systems,
            }
        )
    path.write_text(topology_toml(Topology.model_validate({"instances": instances})), "utf-8")
    return path


@contextmanager
def profiled(peers: dict[str, Peer], args: argparse.Namespace, label: str) -> Iterator[None]:
    """py-spy on every process of a row while the block runs, when --profile is given; then
    where the time went in each.

    Writes folded stacks (`<label>-<name>.folded`: speedscope.app or flamegraph.pl read them)
    and prints, per process, the functions of the project and the libraries that hold the most
    samples.
    """
    if not args.profile:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    args.profile.mkdir(parents=True, exist_ok=True)
    recorders = {}
    for name, peer in peers.items():
        if peer.process is None:
            continue
        out = args.profile / f"{label}-{name}.folded"
        argv = [spy, "record", "--pid", str(peer.process.pid), "--rate", "200", "-f", "raw"]
        recorders[out] = subprocess.Popen(
            [*argv, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    try:
        yield
    finally:
        for recorder in recorders.values():
            recorder.send_signal(signal.SIGINT)  # py-spy writes what it sampled, and exits
        for recorder in recorders.values():
            recorder.wait(timeout=60)
    for out in recorders:
        if out.exists():
            print(f"    profile: {out}")
            summarise_profile(out)


def summarise_profile(folded: Path, top: int = 14) -> None:
    """Inclusive share of the samples, per function, for functions at most 100% of a request."""
    total, inclusive, own = 0, Counter[str](), Counter[str]()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        return
    handler = [f for f, n in inclusive.most_common() if "run_asgi" in f]
    per_request = inclusive[handler[0]] if handler else total
    print(f"    {total} samples, {per_request / total:.0%} in request handling; inclusive:")
    shown = 0
    for frame, count in inclusive.most_common():
        if count <= per_request and (
            "lgsp/" in frame
            or "adapters/" in frame
            or "mocks/" in frame
            or "sqlalchemy" in frame
            or "aiohttp" in frame
            or "httpx" in frame
            or "jose" in frame
        ):
            print(f"      {count / total:6.1%}  {frame}")
            shown += 1
            if shown == top:
                break
    print("    most samples of their own:")
    for frame, count in own.most_common(8):
        print(f"      {count / total:6.1%}  {frame}")


def run(args: argparse.Namespace) -> list[Result]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env |= {"PYTHONPATH": str(ROOT), "LGSP_FEDERATION_SECRET": FEDERATION_SECRET}
    # The seeds' world (kiengiang, tiengiang): the rows measure the hop, not the era, and stay
    # comparable with the figures measured before today's provinces became the default.
    env["LGSP_ERA"] = "2024"
    cccd, other = citizen_number("91"), citizen_number("82")
    direct_path = f"/api/congdan/{cccd}"
    gateway_path = f"/lgsp/kiengiang/dancu/v1/citizens/{cccd}"
    results: list[Result] = []
    rows = set(args.only or ROWS)

    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        tmp = Path(scratch)
        logs = args.logs or tmp / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        mock_port = free_port()
        mock = stack.enter_context(
            running(
                Peer(
                    "dancu mock",
                    uvicorn_argv("benchmarks.bus:dancu_app", mock_port),
                    mock_port,
                    direct_path,
                ),
                env,
                logs,
            )
        )
        body = httpx.get(f"http://127.0.0.1:{mock_port}{direct_path}").content
        results.append(load("dancu mock, direct", mock_port, direct_path, {}, args, mock))

        for workers in ([1] if "in-process" in rows else []) + (args.workers or []):
            port = free_port()
            argv = _lgsp(port, tmp / f"inproc-{workers}", "--instance", "kiengiang")
            name = "gateway hop, in-process system"
            if workers > 1:
                argv += ["--workers", str(workers)]
                name = f"gateway hop, in-process, {workers} workers"
            with database(args, f"inproc{workers}") as db:
                peer = Peer("gateway", argv, port, "/readyz", env=db)
                with running(peer, env, logs):
                    base = f"http://127.0.0.1:{port}/lgsp/kiengiang"
                    auth = {"Authorization": f"Bearer {_token(base)}"}
                    with profiled({"gateway": peer}, args, f"in-process-{workers}"):
                        results.append(load(name, port, gateway_path, auth, args, peer))

        if "http-system" in rows:
            port = free_port()
            topology = _topology(
                tmp / "http-system.toml",
                dancu_url=f"http://127.0.0.1:{mock_port}",
                ports={"ndxp": free_port(), "kiengiang": port, "tiengiang": free_port()},
            )
            peer = Peer(
                "gateway",
                _lgsp(port, tmp / "http", "--instance", "kiengiang"),
                port,
                "/readyz",
                env={"LGSP_TOPOLOGY_FILE": str(topology)},
            )
            with running(peer, env, logs):
                auth = {
                    "Authorization": f"Bearer {_token(f'http://127.0.0.1:{port}/lgsp/kiengiang')}"
                }
                with profiled({"gateway": peer, "dancu": mock}, args, "http-system"):
                    results.append(
                        load(
                            "gateway hop, system over HTTP",
                            port,
                            gateway_path,
                            auth,
                            args,
                            peer,
                            serving=(mock,),
                        )
                    )

        if "cross-province" in rows:
            ports = {name: free_port() for name in ("ndxp", "kiengiang", "tiengiang")}
            topology = _topology(tmp / "three.toml", ports=ports)
            with ExitStack() as three:
                started = {}
                for name, port in ports.items():
                    extra = ["--instance", name]
                    if name != "ndxp":
                        extra += ["--ndxp-url", f"http://127.0.0.1:{ports['ndxp']}/ndxp"]
                    peer = Peer(
                        f"{name} gateway",
                        _lgsp(port, tmp / name, *extra),
                        port,
                        "/readyz",
                        env={"LGSP_TOPOLOGY_FILE": str(topology)},
                    )
                    started[name] = three.enter_context(running(peer, env, logs))
                entry = f"http://127.0.0.1:{ports['kiengiang']}/lgsp/kiengiang"
                auth = {"Authorization": f"Bearer {_token(entry)}", "X-LGSP-Target": "tiengiang"}
                path = f"/lgsp/kiengiang/dancu/v1/citizens/{other}"
                check = httpx.get(f"http://127.0.0.1:{ports['kiengiang']}{path}", headers=auth)
                if check.status_code != 200:
                    raise SystemExit(f"cross-province lookup failed: {check.text}")
                with profiled(started, args, "cross-province"):
                    results.append(
                        load(
                            "cross-province hop via NDXP",
                            ports["kiengiang"],
                            path,
                            auth,
                            args,
                            started["kiengiang"],
                            serving=(started["ndxp"], started["tiengiang"]),
                        )
                    )

        tools = {row: _installed(args.peers, *TOOLS[row]) for row in TOOLS if row in rows}
        jar = tools.get("wiremock")
        if jar is not None:
            root = tmp / "wiremock"
            (root / "mappings").mkdir(parents=True)
            (root / "mappings" / "citizen.json").write_text(
                json.dumps(
                    {
                        "request": {"method": "GET", "url": direct_path},
                        "response": {
                            "status": 200,
                            "body": body.decode(),
                            "headers": {"Content-Type": "application/json"},
                        },
                    }
                )
            )
            port = free_port()
            argv = ["java", "-jar", str(jar), "--port", str(port), "--root-dir", str(root)]
            print(
                f"  WireMock: {jar.name} {' '.join(WIREMOCK_FLAGS)}, warmed up by "
                f"{args.wiremock_warmup:.0f} s of load (JIT) before it is measured"
            )
            warm = argparse.Namespace(**{**vars(args), "warmup": args.wiremock_warmup})
            peer = Peer("WireMock", [*argv, *WIREMOCK_FLAGS], port, "/__admin/health")
            with running(peer, env, logs):
                results.append(load("WireMock 3 stub", port, direct_path, {}, warm, peer))

        prism = tools.get("prism")
        if prism is not None:
            spec = tmp / "citizen.json"
            spec.write_text(json.dumps(_openapi(direct_path, json.loads(body))))
            port = free_port()
            argv = [
                "node",
                str(prism),
                "mock",
                str(spec),
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--errors",
            ]
            with running(Peer("Prism", argv, port, direct_path), env, logs) as peer:
                results.append(load("Prism 5 mock", port, direct_path, {}, args, peer))
    return results


WIREMOCK_FLAGS = ("--disable-banner", "--no-request-journal", "--disable-request-logging")
"""WireMock as fast as it goes: no journal of requests, nothing sent to its notifier. With
them, and before its JIT has warmed up, it serves 2-3 times less (issue 21)."""

ROWS = ("in-process", "http-system", "cross-province", "wiremock", "prism")
TOOLS = {
    "wiremock": (
        "node_modules/wiremock/build/wiremock-standalone-*.jar",
        "java",
        "WireMock: skipped (no wiremock-standalone jar under --peers, or no java)",
    ),
    "prism": (
        "node_modules/@stoplight/prism-cli/dist/index.js",
        "node",
        "Prism: skipped (no @stoplight/prism-cli under --peers, or no node)",
    ),
}
"""The rows of tools an integrator may have installed: the file under --peers, the runtime it
needs, and what is printed when the row is skipped."""


def _installed(folders: list[Path], pattern: str, runtime: str, skipped: str) -> Path | None:
    """The newest file matching `pattern` in the first of `folders` that has one, when `runtime`
    is on PATH; else None, after printing `skipped` (the row is left out, not failed)."""
    for folder in folders if shutil.which(runtime) else []:
        found = sorted(folder.glob(pattern))
        if found:
            return found[-1]
    print(f"  {skipped}")
    return None


def _openapi(path: str, example: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "dancu citizen lookup", "version": "1"},
        "paths": {
            path: {
                "get": {
                    "responses": {
                        "200": {
                            "description": "the citizen",
                            "content": {"application/json": {"example": example}},
                        }
                    }
                }
            }
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per row")
    parser.add_argument("--seconds", type=float, default=5.0, help="per row with --quick")
    parser.add_argument("--requests", type=int, default=100_000, help="per row, unless --quick")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before each row (JIT, caches)"
    )
    parser.add_argument(
        "--wiremock-warmup",
        type=float,
        default=15.0,
        help="seconds of load before WireMock's row (its JIT warms up slowly)",
    )
    parser.add_argument("--only", action="append", choices=ROWS, help="rows to run (repeatable)")
    parser.add_argument("--python-load", action="store_true", help="ignore wrk")
    parser.add_argument("--profile", type=Path, help="write py-spy folded stacks here")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs here")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL for the in-process gateway rows (a fresh schema each); default SQLite",
    )
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="also load `lgsp serve --workers N` (repeatable), on SQLite or --database-url",
    )
    parser.add_argument(
        "--peers",
        type=Path,
        action="append",
        help="folder with node_modules of wiremock and @stoplight/prism-cli (default: the "
        "checkout and benchmarks/)",
    )
    args = parser.parse_args()
    if args.quick:
        args.requests = 0
    args.peers = args.peers or [ROOT, ROOT / "benchmarks"]
    generator = "python" if args.python_load or shutil.which("wrk") is None else "wrk"
    amount = f"{args.seconds:.0f} s" if args.quick else f"{args.requests} requests"
    print(f"{args.connections} connections, {amount} per row, load by {generator}")
    print("load average before: {:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg()))
    results = run(args)
    print_table(results, reference="dancu mock, direct")
    print("\nload average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
