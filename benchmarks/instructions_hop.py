"""Instructions of the steps a cross-province hop adds to a gateway, each counted alone.

    .venv/bin/python benchmarks/instructions_hop.py                  # every step, 2,000 times
    .venv/bin/python benchmarks/instructions_hop.py --step send --calls 5000
    PYTHONPATH=/other/checkout .venv/bin/python benchmarks/instructions_hop.py   # before/after

`benchmarks/instructions.py --row cross-province` counts each of the three gateways whole; what
the bus's timers do meanwhile grows with the wall time the calls take under callgrind, which
moves a few percent between runs, as much as one step is worth. Here one step runs `--calls`
times in a process of its own under callgrind, instrumentation on for the loop alone (no
server, no timer), so that a change to it is counted to within a fraction of a percent:

- send: a forwarding gateway's `PeerLink.send` of a call to the next gateway (`X-Request-ID`,
  `X-LGSP-Origin`, `X-LGSP-Target` and its token), over the pooled HTTP/1.1 client, to a
  server in another process (not counted) answering as a gateway does (four fields, 1 KB);
- answer: the forwarded answer made into the ASGI response the gateway sends back;
- request-id: the bus's own request id, as the next hop reads it (`mask_request_id`);
- route: `resolve_route` of a call naming another province (`X-LGSP-Target`).

The checkout counted is the one on PYTHONPATH: the same script counts a step before and after
a change (a checkout without `ForwardedAnswer` makes the answer with Starlette's `Response`).
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
from pathlib import Path
from types import SimpleNamespace
from typing import Any

STEPS = ("send", "answer", "request-id", "route")
ANSWER = b'{"ho_ten":"' + b"x" * 1000 + b'"}'
HEAD = (
    b"HTTP/1.1 200 OK\r\ndate: Mon, 07 Dec 2026 12:00:00 GMT\r\ncontent-length: %d\r\n"
    b"content-type: application/json\r\nx-request-id: 5f0c2a9e1b7d4c3a0000000000000001\r\n\r\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", choices=STEPS, action="append", help="default: every step")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--run", help=argparse.SUPPRESS)  # the counted process: its step
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        import uvloop  # the loop `lgsp serve` runs on (uvicorn's choice when installed)

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_counted(args.run, args.calls, args.port))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (with callgrind_control) is not on PATH")
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        for step in args.step or STEPS:
            total = _count(step, args.calls, port)
            print(f"{step:<11} {total / args.calls / 1000:8.1f}k instructions per call")
    finally:
        server.terminate()
        server.wait()


_SERVER = f"""
import asyncio
HEAD = {HEAD!r}
ANSWER = {ANSWER!r}
async def serve(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(HEAD % len(ANSWER) + ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def _count(step: str, calls: int, port: int) -> int:
    """The instructions `calls` runs of `step` took, in a process of their own."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--run",
            step,
            "--calls",
            str(calls),
            "--port",
            str(port),
        ]
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert process.stdin is not None
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise SystemExit(f"the {step} step did not start")
        _control(process.pid, "--instr=on")
        process.stdin.write(b"go\n")
        process.stdin.flush()
        if process.stdout.readline().strip() != b"done":
            raise SystemExit(f"the {step} step failed")
        _control(process.pid, "--instr=off")
        _control(process.pid, "--dump")
        process.stdin.close()
        process.wait(timeout=120)
        return sum(_events(dump) for dump in Path(scratch).glob("callgrind.out*"))


async def _counted(step: str, calls: int, port: int) -> None:
    """In the counted process: get ready (uncounted), say so, wait for `go`, run, say `done`."""
    run = await _prepared(step, port)
    for _ in range(50):  # warm: connections open, caches filled
        await run()
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    for _ in range(calls):
        await run()
    print("done", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)


async def _prepared(step: str, port: int) -> Any:
    """A coroutine function doing one `step`."""
    if step == "send":
        from adapters.base import SystemRequest
        from lgsp.routing.peers import PeerCredentials, PeerLink
        from lgsp.routing.transports import http_client

        client = http_client(f"http://127.0.0.1:{port}/ndxp", timeout=10)
        link = PeerLink(name="ndxp", client=client, credentials=PeerCredentials("lgsp-x", "s"))
        link._token, link._token_expires_at = "t" * 700, float("inf")  # an RS256 token's size
        headers = {
            "X-Request-ID": "5f0c2a9e1b7d4c3a0000000000000001",
            "X-LGSP-Origin": "kiengiang",
            "X-LGSP-Target": "tiengiang",
        }
        request = SystemRequest("GET", "/dancu/v1/citizens/082000000001", headers=headers)

        async def send() -> None:
            assert (await link.send(request)).status == 200

        return send
    if step == "answer":
        from lgsp.routing import router

        forwarded = getattr(router, "ForwardedAnswer", None)

        async def answer() -> None:
            if forwarded is not None:
                forwarded(ANSWER, 200, "application/json", None)
            else:
                router.Response(ANSWER, status_code=200, media_type="application/json")

        return answer
    if step == "request-id":
        from lgsp.masking import mask_request_id

        async def request_id() -> None:
            mask_request_id("5f0c2a9e1b7d4c3a0000000000000001")

        return request_id
    from lgsp.routing.resolver import resolve_route
    from lgsp.topology import TOPOLOGY_2024

    service = SimpleNamespace(owner="province", id="dancu", version="v1", system="dancu")
    spec = TOPOLOGY_2024.get("kiengiang")
    instance = SimpleNamespace(spec=spec, peers={"ndxp": object()}, systems={})

    async def route() -> None:
        resolve_route(service, instance, TOPOLOGY_2024, "tiengiang")  # type: ignore[arg-type]

    return route


def _control(pid: int, flag: str) -> None:
    subprocess.run(["callgrind_control", flag, str(pid)], check=True, capture_output=True)


def _events(dump: Path) -> int:
    found = re.search(r"^totals:\s+(\d+)", dump.read_text(errors="replace"), re.MULTILINE)
    return int(found.group(1)) if found else 0


if __name__ == "__main__":
    if os.environ.get("PYTHONPATH") is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
