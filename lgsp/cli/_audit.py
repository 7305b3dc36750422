"""`lgsp audit …`: check the hash chain, or export the records, on the bus's database."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from lgsp.cli._common import command_group, data_command, is_terminal, settings_from
from lgsp.cli._progress import count_progress


def add_parsers(commands: Any) -> None:
    audit = command_group(commands, "audit", help="audit log")
    verify = data_command(
        audit, verify_audit, "verify", help="check the hash chain; exit 1 naming a bad record"
    )
    verify.add_argument("--instance")

    export = data_command(
        audit,
        export_audit,
        "export",
        help="write the audit records as JSON lines, masked as stored",
        description="One JSON object a line, as GET {base}/admin/audit shows a record, each "
        "instance's chain in order; records added during the export are left for the next one.",
    )
    export.add_argument("--instance", help="only this instance (default: every instance)")
    export.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write here, replacing it once complete (default: standard output)",
    )


def verify_audit(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import verify_audit
    from lgsp.audit.anchor import checkpoint_path

    settings = settings_from(args)
    report = asyncio.run(verify_audit(settings, instance=args.instance))
    for name in report.unanchored:
        print(
            f"note: instance {name} has no checkpoint in {checkpoint_path(settings.data_dir)}: "
            "deleting its newest records would go unnoticed (is this the bus's --data-dir?)",
            file=sys.stderr,
        )
    if report.ok:
        print(
            f"audit chain intact: {report.checked} records in {len(report.instances)} "
            f"instance(s), {report.checkpoints} checkpoint(s) matched"
        )
        return 0
    for problem in report.problems:
        print(
            f"audit chain BROKEN in instance {problem.instance} at record seq={problem.seq} "
            f"(id={problem.record_id}): {problem.reason}",
            file=sys.stderr,
        )
    return 1


def export_audit(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import check_instance, export_audit

    settings = settings_from(args)
    if args.instance is not None:
        check_instance(settings, args.instance)  # before the output file is touched
    with _output(args.output) as out:
        # Bars only where a person watches, and not over the records themselves.
        watched = args.output is not None or not is_terminal(sys.stdout)
        with count_progress(sys.stderr if watched else None) as progress:
            counts = asyncio.run(
                export_audit(settings, instance=args.instance, write=out.write, progress=progress)
            )
    where = "standard output" if args.output is None else str(args.output)
    print(
        f"exported {sum(counts.values())} audit records of {len(counts)} instance(s) to {where}",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or `path` written beside it and moved into place once complete: an
    export that fails half-way leaves no file that looks whole."""
    if path is None:
        yield sys.stdout
        return
    if path.is_dir():
        raise ValueError(f"--output {path}: is a folder, not a file")
    if not path.parent.is_dir():
        raise ValueError(f"--output {path}: there is no folder {path.parent}")
    partial = path.with_name(f".{path.name}.partial")
    try:
        stream = partial.open("w", encoding="utf-8")
    except OSError as error:
        raise ValueError(f"--output {path}: cannot write there ({error.strerror})") from None
    try:
        with stream:
            yield stream
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
