"""Instructions per gateway hop, counted by callgrind: a figure the machine's load does not move.

    .venv/bin/python benchmarks/instructions.py                 # 300 calls, one at a time
    .venv/bin/python benchmarks/instructions.py --concurrency 8 --top 25

The clock on a shared machine moves 30% from one run to the next; callgrind counts the
instructions the server's process executes (every thread: the event loop, the audit writer,
the key threads), which the same code, inputs and environment repeat to within a fraction of
a percent. `lgsp serve` (one process, SQLite, journal and access log on: the defaults) runs
under `valgrind --tool=callgrind` with instrumentation off while it starts and is warmed up;
it is switched on for `--calls` citizen lookups (benchmarks/bus.py's in-process row), sent
`--concurrency` at a time by this process (not counted), then off. Prints instructions per
call and, with `--top N`, the functions that executed most (inclusive and self), from
`callgrind_annotate`. Needs `valgrind` (on every machine here) and about a minute.

The bus's timers (outbox poll, audit checkpoint, rights and fault caches) are set to a minute:
at their defaults they fire by the clock, which valgrind slows some 50 times, and would count
50 times their share. One call at a time, three runs agreed to within 0.3%; with calls under
way together the count moves with how many share one audit commit (20% between runs at 8):
compare runs of the same flags only.
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

from benchmarks.bus import FEDERATION_SECRET, ROOT, _lgsp, _token, citizen_number, free_port

TIMERS = (
    "LGSP_OUTBOX_POLL_SECONDS",
    "LGSP_AUDIT_CHECKPOINT_SECONDS",
    "LGSP_CLIENT_CACHE_SECONDS",
    "LGSP_FAULT_CACHE_SECONDS",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="counted calls")
    parser.add_argument("--warmup", type=int, default=100, help="calls before counting")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--keep", type=Path, help="copy the callgrind output file here")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (with callgrind_control) is not on PATH")

    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env |= {"PYTHONPATH": str(ROOT), "LGSP_FEDERATION_SECRET": FEDERATION_SECRET}
    env["LGSP_ERA"] = "2024"
    # The bus's timers fire by the clock, and valgrind runs it some 50 times slower: at their
    # defaults they would count 50 times their share of a call. Long periods leave the calls'
    # own work (the defaults' share is small: a poll a second, a checkpoint a second).
    env |= {name: "60" for name in TIMERS}
    path = f"/lgsp/kiengiang/dancu/v1/citizens/{citizen_number('91')}"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        port = free_port()
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            *_lgsp(port, Path(scratch) / "data", "--instance", "kiengiang"),
        ]
        log = (Path(scratch) / "serve.log").open("wb")
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, server, Path(scratch) / "serve.log")
            headers = {"Authorization": f"Bearer {_token(f'{base}/lgsp/kiengiang')}"}
            asyncio.run(_calls(base + path, headers, args.warmup, args.concurrency))
            _control(server.pid, "--instr=on")
            asyncio.run(_calls(base + path, headers, args.calls, args.concurrency))
            _control(server.pid, "--instr=off")
            _control(server.pid, "--dump")
        finally:
            server.terminate()
            server.wait(timeout=120)
            log.close()
        dumps = sorted(Path(scratch).glob("callgrind.out*"), key=lambda p: p.stat().st_mtime)
        counted = [d for d in dumps if _events(d) > 0]
        if not counted:
            raise SystemExit("callgrind wrote no counted dump")
        total = sum(_events(d) for d in counted)
        print(
            f"{total / args.calls / 1000:,.0f}k instructions per call "
            f"({args.calls} calls, {args.concurrency} at a time, {total:,} in all)"
        )
        if args.keep:
            shutil.copy(counted[0], args.keep)
        if args.top:
            annotate = ["callgrind_annotate", "--inclusive=yes", str(counted[0])]
            printed = subprocess.run(annotate, capture_output=True, text=True).stdout
            print("\n".join(printed.splitlines()[: args.top + 25]))


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
