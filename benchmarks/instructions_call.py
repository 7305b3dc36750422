"""Instructions of one Python statement, counted by callgrind: a lever's before and after.

    .venv/bin/python benchmarks/instructions_call.py SETUP.py "STATEMENT" [--calls 2000]
    .venv/bin/python benchmarks/instructions_call.py /tmp/setup.py "mask_personal_data(path)"
    PYTHONPATH=/other/checkout .venv/bin/python benchmarks/instructions_call.py …   # its code

`benchmarks/instructions.py` counts a whole hop, where what the bus's timers do while the
calls are counted moves a loaded machine's count by ±20k a call: more than most levers left
(issue 21). Here SETUP.py (any Python file: imports, the inputs) runs once, STATEMENT 50 times
uncounted, then `--calls` times and twice as many with callgrind's instrumentation on around the
loop alone (`callgrind_control`); the difference over `--calls` is the statement's own count,
the loop's and the start-up's cancelled, repeatable to a few instructions whatever the load.
The loop itself (`pass`) counts ~350 a turn.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WARMUP = 50
"""Uncounted turns first: the interpreter's specialisation and any cache settle."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setup", type=Path, help="a Python file run once before counting")
    parser.add_argument("statement", help="the statement counted (names from SETUP)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)  # the counted process
    args = parser.parse_args()
    if args.run is not None:
        _counted(args.setup, args.statement, args.run)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (with callgrind_control) is not on PATH")
    counts = []
    with tempfile.TemporaryDirectory() as scratch:
        for calls in (args.calls, 2 * args.calls):
            out = Path(scratch) / f"callgrind.{calls}.out"
            argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
            argv += [f"--callgrind-out-file={out}", sys.executable, __file__]
            argv += [str(args.setup), args.statement, "--run", str(calls)]
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"the counted process failed:\n{done.stderr[-3000:]}")
            counts.append(sum(_events(dump) for dump in Path(scratch).glob(f"{out.name}*")))
    per_call = (counts[1] - counts[0]) / args.calls
    print(f"{per_call:,.0f} instructions per call of {args.statement}")


def _counted(setup: Path, statement: str, calls: int) -> None:
    """In the process under callgrind: SETUP, the warm-up, then `calls` turns counted."""
    names: dict[str, object] = {"__name__": "__setup__"}
    exec(compile(setup.read_text("utf-8"), str(setup), "exec"), names)  # as `python -c` would
    for turns, label in ((WARMUP, "warm-up"), (calls, "counted")):
        loop = compile(f"for _ in range({turns}):\n    {statement}\n", label, "exec")
        if label == "counted":
            _control("--instr=on")
        exec(loop, names)
    _control("--instr=off")
    _control("--dump")


def _control(flag: str) -> None:
    subprocess.run(["callgrind_control", flag, str(os.getpid())], check=True, capture_output=True)


def _events(dump: Path) -> int:
    """The dump's instruction total (its `totals:` line)."""
    found = re.search(r"^totals:\s+(\d+)", dump.read_text(errors="replace"), re.MULTILINE)
    return int(found.group(1)) if found else 0


if __name__ == "__main__":
    main()
