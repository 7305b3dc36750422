"""What every command shares: settings from the command line, its errors, and its output.

Output for people is a `rich` table; `--json` keeps the machine-readable form. Progress goes to
standard error and only when it is a terminal, so that logs and CI output stay clean.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lgsp.settings import Settings

PIPE_WIDTH = 200
"""Columns of a table written to a pipe or a file: wide enough not to fold the usual rows."""


class CommandFailed(Exception):
    """The command was right but the work could not be done (bus down or refusing, database
    locked): `lgsp` prints one line and exits 1; bad arguments exit 2."""


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="where the SQLite database lives (default ./.lgsp)"
    )


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    if getattr(args, "data_dir", None) is not None:
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)


def run_server(app: Any, args: argparse.Namespace, settings: Settings, **options: Any) -> None:
    """uvicorn as every `lgsp serve` form runs it: logging stays ours (`configure_logging`), no
    `Server` header names the software to a scanner, the access log as configured, and the
    server limits of `lgsp.server` (header block, connections, keep-alive)."""
    import uvicorn

    from lgsp.server import server_options

    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        server_header=False,
        access_log=settings.access_log,
        **server_options(settings),
        **options,
    )


def is_terminal(stream: TextIO) -> bool:
    """Only a real terminal: rich also believes `FORCE_COLOR`, which CI services set."""
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def console(stream: TextIO | None = None) -> Console:
    stream = stream or sys.stdout
    if is_terminal(stream):
        return Console(file=stream, force_terminal=True)
    return Console(file=stream, force_terminal=False, width=PIPE_WIDTH, no_color=True)


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, title: str | None = None
) -> None:
    table = Table(*columns, title=title, title_justify="left", show_lines=False)
    for row in rows:  # Text: a `[` in a name or a path regex is not rich markup
        table.add_row(*(Text(cell) for cell in row))
    console().print(table)


def print_json(value: Any, *, ensure_ascii: bool = True) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=ensure_ascii))
