"""Instructions per gateway hop, counted by callgrind: a figure the machine's load does not move.

    .venv/bin/python benchmarks/instructions.py                 # 300 calls, one at a time
    .venv/bin/python benchmarks/instructions.py --concurrency 8 --top 25
    .venv/bin/python benchmarks/instructions.py --row cross-province   # each of three gateways
    .venv/bin/python benchmarks/instructions.py --threads               # loop and writer apart
    .venv/bin/python benchmarks/instructions.py --set LGSP_JOURNAL_ENABLED=false  # its share

The clock on a shared machine moves 30% from one run to the next; callgrind counts the
instructions the server's process executes (every thread: the event loop, the audit writer,
the key threads), which the same code, inputs and environment repeat to within a fraction of
a percent. `lgsp serve` (one process, SQLite, journal and access log on: the defaults) runs
under `valgrind --tool=callgrind` with instrumentation off while it starts and is warmed up;
it is switched on for `--calls` citizen lookups (benchmarks/bus.py's in-process row), sent
`--concurrency` at a time by this process (not counted), then off. Prints instructions per
call and, with `--top N`, the functions that executed most (inclusive and self), from
`callgrind_annotate`. Needs `valgrind` (on every machine here) and about a minute.

The bus's timers (outbox poll, audit checkpoint, rights and fault caches) are set to their
longest settings (a minute; the checkpoint an hour): at their defaults they fire by the clock,
which valgrind slows some 50 times, and would count 50 times their share. One call at a time,
runs agree within a few percent (0.3% on a quiet machine; under heavy load the slower run
still counts more of the timers' work); with calls under way together the count moves with
how many share one audit commit (20% between runs at 8): compare runs of the same flags only.

`--row cross-province` counts benchmarks/bus.py's cross-province row instead: NDXP, Kiên Giang
and Tiền Giang as three `lgsp serve` processes, each under callgrind, the client asking Kiên
Giang for a Tiền Giang citizen (`X-LGSP-Target`: LGSP → NDXP → LGSP → its in-process dancu).
Prints each process's instructions per call, so that each hop's cost is set beside the
in-process hop's (the default row); `--top` then annotates the process `--annotate` names.
What the timers still do while calls are counted is counted too, and grows with the wall time
the calls take (a checkpoint's RS256 signature is some 6M instructions: hence an hour apart). Three
processes under callgrind take longer per call than one, so compare rows counted side by side,
and a row with itself only across runs of similar duration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bus import (
    FEDERATION_SECRET,
    ROOT,
    _lgsp,
    _token,
    _topology,
    citizen_number,
    free_port,
)

CROSS_PROVINCE = ("kiengiang", "ndxp", "tiengiang")
"""The cross-province row's gateways, the entry first, in the order a call crosses them."""
TIMERS = {
    "LGSP_OUTBOX_POLL_SECONDS": "60",
    "LGSP_AUDIT_CHECKPOINT_SECONDS": "3600",
    "LGSP_CLIENT_CACHE_SECONDS": "300",
    "LGSP_FAULT_CACHE_SECONDS": "60",
}
"""Each timer at its longest setting while instructions are counted (see the docstring)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="counted calls")
    parser.add_argument("--warmup", type=int, default=100, help="calls before counting")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions")
    parser.add_argument(
        "--keep",
        type=Path,
        help="copy the callgrind output file here (with --threads, each thread's too, as "
        "KEEP-THREAD)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="LGSP_NAME=VALUE",
        help="a setting of the counted servers (repeatable): `--set LGSP_JOURNAL_ENABLED=false` "
        "counts the hop without what the journal costs",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="count the servers this long idle after the calls, and take the timers' work "
        "for as long as the calls took off the count (it grows with the wall time: a loaded "
        "machine's slower run counts more of it)",
    )
    parser.add_argument(
        "--threads",
        action="store_true",
        help="count each thread apart and print its share per call (thread 01 is the event "
        "loop's; the audit writer's comes later); --top then annotates thread 01's",
    )
    parser.add_argument(
        "--row",
        choices=("in-process", "cross-province"),
        default="in-process",
        help="benchmarks/bus.py's row to count (default: the in-process hop)",
    )
    parser.add_argument(
        "--annotate",
        choices=CROSS_PROVINCE,
        default="tiengiang",
        help="with --row cross-province: the process --top shows (--keep keeps each, as "
        "KEEP.<name>)",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (with callgrind_control) is not on PATH")

    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env |= {"PYTHONPATH": str(ROOT), "LGSP_FEDERATION_SECRET": FEDERATION_SECRET}
    env["LGSP_ERA"] = "2024"
    # The bus's timers fire by the clock, and valgrind runs it some 50 times slower: at their
    # defaults they would count 50 times their share of a call. Long periods leave the calls'
    # own work (the defaults' share is small: a poll a second, a checkpoint a second).
    env |= TIMERS
    for setting in args.set:
        name, equals, value = setting.partition("=")
        if not equals or not name.startswith("LGSP_"):
            parser.error(f"--set takes LGSP_NAME=VALUE, not {setting!r}")
        env[name] = value
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        if args.row == "in-process":
            port = free_port()
            servers = {"kiengiang": (port, _lgsp(port, tmp / "data", "--instance", "kiengiang"))}
            headers: dict[str, str] = {}
            path = f"/lgsp/kiengiang/dancu/v1/citizens/{citizen_number('91')}"
        else:
            ports = {name: free_port() for name in CROSS_PROVINCE}
            env["LGSP_TOPOLOGY_FILE"] = str(_topology(tmp / "three.toml", ports=ports))
            # A hop waits for the next under callgrind too: at the default 10 s, calls sent
            # together answered 504.
            env["LGSP_UPSTREAM_TIMEOUT_SECONDS"] = "600"
            ndxp = f"http://127.0.0.1:{ports['ndxp']}/ndxp"
            servers = {
                name: (
                    port,
                    _lgsp(
                        port,
                        tmp / name,
                        "--instance",
                        name,
                        *(() if name == "ndxp" else ("--ndxp-url", ndxp)),
                    ),
                )
                for name, port in ports.items()
            }
            headers = {"X-LGSP-Target": "tiengiang"}
            path = f"/lgsp/kiengiang/dancu/v1/citizens/{citizen_number('82')}"
        counted = _count(servers, tmp, env, path, headers, args)
        if len(counted) == 1:
            dump, total = next(iter(counted.values()))
            print(
                f"{total / args.calls / 1000:,.0f}k instructions per call "
                f"({args.calls} calls, {args.concurrency} at a time, {total:,} in all)"
            )
        else:
            every = sum(total for _, total in counted.values())
            print(
                f"{every / args.calls / 1000:,.0f}k instructions per call in the three "
                f"gateways ({args.calls} calls, {args.concurrency} at a time):"
            )
            for name, (_, total) in counted.items():
                print(f"  {name:<10} {total / args.calls / 1000:>8,.0f}k")
            dump = counted[args.annotate][0]
            if args.keep:
                for name, (kept, _) in counted.items():
                    shutil.copy(kept, f"{args.keep}.{name}")
        if args.keep and len(counted) == 1:
            shutil.copy(dump, args.keep)
        if args.top:
            annotate = ["callgrind_annotate", "--inclusive=yes", str(dump)]
            printed = subprocess.run(annotate, capture_output=True, text=True).stdout
            print("\n".join(printed.splitlines()[: args.top + 25]))


def _count(
    servers: dict[str, tuple[int, list[str]]],
    tmp: Path,
    env: dict[str, str],
    path: str,
    headers: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, tuple[Path, int]]:
    """Run each of `servers` (name: port, `lgsp serve` argv) under callgrind, the first being
    the one called; count `args.calls` calls of `path` after `args.warmup` uncounted ones.
    Returns, per server, its counted dump and its instructions."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs = []
    busy = idle = 0.0
    try:
        for name, (_, serve) in servers.items():
            argv = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                *(["--separate-threads=yes"] if args.threads else []),
                f"--callgrind-out-file={tmp / f'callgrind.{name}.out'}",
                *serve,
            ]
            log = (tmp / f"serve.{name}.log").open("wb")
            logs.append(log)
            processes[name] = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        for name, (port, _) in servers.items():
            _wait_ready(f"http://127.0.0.1:{port}", processes[name], tmp / f"serve.{name}.log")
        entry = next(iter(servers))
        base = f"http://127.0.0.1:{servers[entry][0]}"
        headers = {"Authorization": f"Bearer {_token(f'{base}/lgsp/{entry}')}", **headers}
        asyncio.run(_calls(base + path, headers, args.warmup, args.concurrency))
        if args.idle:  # the timers' work alone, the warm-up's connections closed: dump 1
            time.sleep(2)
            for process in processes.values():
                _control(process.pid, "--instr=on")
            began = time.monotonic()
            time.sleep(args.idle)
            for process in processes.values():
                _control(process.pid, "--instr=off")
            idle = time.monotonic() - began
            for process in processes.values():
                _control(process.pid, "--dump")
        for process in processes.values():
            _control(process.pid, "--instr=on")
        began = time.monotonic()
        asyncio.run(_calls(base + path, headers, args.calls, args.concurrency))
        busy = time.monotonic() - began
        for process in processes.values():
            _control(process.pid, "--instr=off")
            _control(process.pid, "--dump")
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=120)
        for log in logs:
            log.close()
    counted = {}
    for name in servers:
        # `callgrind.NAME.out.PART` (`-THREAD` after it with --threads): with --idle, part 1
        # is the idle spell and part 2 the calls; else part 1 the calls.
        parts: dict[int, list[tuple[Path, int]]] = {}
        for dump in sorted(tmp.glob(f"callgrind.{name}.out.*")):
            part = int(dump.name.rpartition(".out.")[2].partition("-")[0])
            if (events := _events(dump)) > 0:
                parts.setdefault(part, []).append((dump, events))
        found = parts.get(2 if args.idle else 1)
        if not found:
            raise SystemExit(f"callgrind wrote no counted dump for {name}")
        total = sum(events for _, events in found)
        if args.idle:
            spent = sum(events for _, events in parts.get(1, []))
            timers = round(spent * busy / idle)
            print(
                f"  {name}: {total / args.calls / 1000:,.0f}k per call counted, of which the "
                f"timers' {timers / args.calls / 1000:,.1f}k ({spent / idle / 1000:,.0f}k a "
                f"second idle, calls took {busy:.1f} s)"
            )
            total -= timers
        counted[name] = (found[0][0], total)
        if args.threads:
            for dump, events in found:  # `callgrind.NAME.out.PART-THREAD`
                thread = dump.name.rpartition("-")[2]
                print(f"  {name} thread {thread}: {events / args.calls / 1000:,.0f}k per call")
                if args.keep:  # each thread's dump beside the first's: KEEP-THREAD
                    suffix = "" if len(servers) == 1 else f".{name}"
                    shutil.copy(dump, f"{args.keep}{suffix}-{thread}")
    return counted


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600  # python under valgrind starts ten times slower
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"lgsp serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=10).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise SystemExit("lgsp serve under valgrind did not get ready in 600 s")


async def _calls(url: str, headers: dict[str, str], count: int, concurrency: int) -> None:
    """`count` calls, `concurrency` at a time; every one must succeed."""
    remaining = iter(range(count))
    async with httpx.AsyncClient(headers=headers, timeout=120) as client:

        async def lane() -> None:
            for _ in remaining:
                answer = await client.get(url)
                if answer.status_code != 200:
                    raise SystemExit(f"a call answered {answer.status_code}: {answer.text}")

        await asyncio.gather(*(lane() for _ in range(concurrency)))


def _control(pid: int, flag: str) -> None:
    subprocess.run(["callgrind_control", flag, str(pid)], check=True, capture_output=True)


def _events(dump: Path) -> int:
    """The dump's instruction total (its `totals:` line; `summary:` can be 0 in a dump)."""
    text = dump.read_text(errors="replace")
    found = re.search(r"^totals:\s+(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


if __name__ == "__main__":
    main()
