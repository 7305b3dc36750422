"""What every command shares: settings from the command line, its errors, and its output.

Output for people is a `rich` table; `--json` keeps the machine-readable form. Progress goes to
standard error and only when it is a terminal, so that logs and CI output stay clean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TextIO, TypeVar

from lgsp.settings import Settings

if TYPE_CHECKING:  # rich is imported by the commands that print tables: not by `serve`
    import uvicorn
    from rich.console import Console

PIPE_WIDTH = 200
"""Columns of a table written to a pipe or a file: wide enough not to fold the usual rows."""


class CommandFailed(Exception):
    """The command was right but the work could not be done (bus down or refusing, database
    locked): `lgsp` prints one line and exits 1; bad arguments exit 2."""


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="where the SQLite database lives (default ./.lgsp)"
    )


def command_group(commands: Any, name: str, *, help: str) -> Any:
    """`lgsp NAME …`: a group of commands, listed under "NAME commands"."""
    return commands.add_parser(name, help=help).add_subparsers(title=f"{name} commands")


def data_command(
    group: Any, handler: Callable[[argparse.Namespace], int], name: str, **texts: str
) -> argparse.ArgumentParser:
    """A command of `group` that works on the bus's data dir (`--data-dir`), run by `handler`;
    `texts` are its help and description."""
    parser: argparse.ArgumentParser = group.add_parser(name, **texts)
    add_data_dir(parser)
    parser.set_defaults(handler=handler)
    return parser


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    if getattr(args, "data_dir", None) is not None:
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)


P = ParamSpec("P")
T = TypeVar("T")


def run_task(
    task: Callable[Concatenate[Settings, P], Coroutine[Any, Any, T]],
    args: argparse.Namespace,
    *task_args: P.args,
    **task_options: P.kwargs,
) -> T:
    """An admin task (`lgsp.admin_tasks`, `lgsp.faults.tasks`) run to its end on the settings
    the command line gives (`--data-dir`)."""
    return asyncio.run(task(settings_from(args), *task_args, **task_options))


def port_number(text: str) -> int:
    """`--port`: a TCP port, refused by argparse (exit 2) rather than by the socket."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is no TCP port (1 to 65535)")
    return port


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything else starts: a port another process
    holds is one line and exit 1, never a "ready" banner followed by uvicorn's failure."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is no bar
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CommandFailed(
            f"cannot listen on {host} port {port}: {error.strerror or error} "
            "(another process holds it? choose one with --port)"
        ) from None
    sock.set_inheritable(True)  # `--workers`: each worker process serves this socket
    return sock


def run_server(
    app: Any,
    args: argparse.Namespace,
    settings: Settings,
    *,
    sock: socket.socket,
    on_started: Callable[[], None] | None = None,
    on_server: Callable[[Callable[[], None]], None] | None = None,
    on_config: Callable[[uvicorn.Config], None] | None = None,
    **options: Any,
) -> None:
    """uvicorn as every `lgsp serve` form runs it, on the socket `listen` bound: logging stays
    ours (`configure_logging`), no `Server` header names the software to a scanner, the access
    log as configured, and the server limits of `lgsp.server` (header block, connections,
    keep-alive). `on_started` runs once the server accepts calls on the socket; `on_server` is
    handed, before it starts, a function that stops the server (as SIGTERM does); `on_config`
    the server's configuration, which holds the app it calls."""
    import uvicorn

    from lgsp.server import server_options

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        server_header=False,
        access_log=settings.access_log,
        **server_options(settings),
        **options,
    )
    if on_config is not None:
        on_config(config)
    if config.workers > 1:
        from lgsp.cli._workers import Workers, spread

        try:
            sockets = spread(sock, config.workers)  # one a worker: the kernel spreads the calls
        except OSError as error:
            raise CommandFailed(
                f"cannot listen on {args.host} port {args.port}: {error.strerror or error}"
            ) from None
        try:
            Workers(config, sockets).run()
        finally:
            for each in sockets:
                each.close()
        return

    class Server(uvicorn.Server):
        """uvicorn's server, telling the command once it serves (the banner comes only then)."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and on_started is not None:
                on_started()

    server = Server(config)
    if on_server is not None:
        on_server(partial(setattr, server, "should_exit", True))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # stopped by the operator, in start-up too
        return
    except SystemExit:  # uvicorn's exit 3 when start-up fails: ours is 1, "could not be done"
        if server.started:
            raise
        raise CommandFailed("the bus did not start (its error is in the log above)") from None
    if not server.started and not server.should_exit:
        raise CommandFailed("the bus did not start (its error is in the log above)")


def is_terminal(stream: TextIO) -> bool:
    """Only a real terminal: rich also believes `FORCE_COLOR`, which CI services set."""
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def console(stream: TextIO | None = None) -> Console:
    from rich.console import Console

    stream = stream or sys.stdout
    if is_terminal(stream):
        return Console(file=stream, force_terminal=True)
    return Console(file=stream, force_terminal=False, width=PIPE_WIDTH, no_color=True)


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, title: str | None = None
) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, title=title, title_justify="left", show_lines=False)
    for row in rows:  # Text: a `[` in a name or a path regex is not rich markup
        table.add_row(*(Text(cell) for cell in row))
    console().print(table)


def print_listing(
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    cells: Callable[[dict[str, Any]], Sequence[str]],
    *,
    as_json: bool,
    title: str | None = None,
    ensure_ascii: bool = True,
) -> None:
    """A list command's rows: as JSON with `--json`, else a table of each row's `cells`; either
    way every `…_at` time as `cli_time` prints it."""
    if as_json:
        print_json(rows, ensure_ascii=ensure_ascii)
        return
    print_table(columns, (cells(row) for row in with_cli_times(rows)), title=title)


def print_json(value: Any, *, ensure_ascii: bool = True, indent: int | None = 2) -> None:
    """`value` as JSON, every `…_at` time as `cli_time` prints it."""
    print(json.dumps(with_cli_times(value), indent=indent, ensure_ascii=ensure_ascii))


def cli_time(value: datetime | str) -> str:
    """Every time the CLI prints, one way: RFC 3339 in UTC to the second (2026-12-06T10:20:09Z).

    A time without an offset is UTC: SQLite keeps none, and the bus writes UTC only.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_cli_times(value: Any) -> Any:
    """`value` with each `…_at` member that holds a time rewritten by `cli_time`."""
    if isinstance(value, dict):
        return {
            key: cli_time(item)
            if key.endswith("_at") and isinstance(item, str | datetime) and item
            else with_cli_times(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [with_cli_times(item) for item in value]
    return value
