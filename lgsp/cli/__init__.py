"""`lgsp`: serve the bus, reset it, manage API clients and tokens, inject faults, and verify or
export the audit log.

Each command group has a module of its own; `main` turns what they raise into one line on
standard error and an exit status: 2 for arguments the bus cannot take (an unknown instance, a
bad jti), 1 for work that could not be done (the bus down or refusing, the database locked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lgsp.cli import _lean  # noqa: F401 - first: before anything imports httpx

# isort: split
from lgsp import __version__
from lgsp.cli import _audit, _ca, _clients, _faults, _reset, _serve
from lgsp.cli._common import CommandFailed

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        result: int = args.handler(args)
    except Exception as error:
        code = _exit_status(error)
        if code is None:
            raise
        return code
    return result


def _exit_status(error: Exception) -> int | None:
    """The one line said for `error` and the exit status, or None for a bug (its traceback).

    The bus's error classes and SQLAlchemy's are imported only here, once a command has
    failed: `lgsp serve` answers `/healthz` before it imports them (`lgsp.cli._starting`).
    """
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from lgsp.admin_tasks import NoBusDatabase
    from lgsp.errors import LgspError

    if isinstance(error, ValidationError):  # a setting out of its range: name it, in one line
        print(f"lgsp: {_settings_problem(error)}", file=sys.stderr)
        return 2
    if isinstance(error, ValueError | LookupError):
        print(f"lgsp: {error}", file=sys.stderr)
        return 2
    if isinstance(error, LgspError):  # what the admin API would answer 4xx: the same code
        print(f"lgsp: {error.code}: {error.detail}", file=sys.stderr)
        return 2
    if isinstance(error, CommandFailed | NoBusDatabase):
        print(f"lgsp: {error}", file=sys.stderr)
        return 1
    if isinstance(error, DBAPIError):
        print(f"lgsp: the database refused: {error.orig}", file=sys.stderr)
        return 1
    return None


def _settings_problem(error: ValidationError) -> str:
    """pydantic's report (four lines and a link a problem) as one line; the settings' fields by
    their environment names (`LGSP_TOKEN_TTL_SECONDS`), as the user set them."""
    settings = error.title == "Settings"
    problems = []
    for found in error.errors():
        where = "_".join(str(part) for part in found["loc"])
        name = f"LGSP_{where.upper()}" if settings else where
        given = found.get("input")
        shown = "" if isinstance(given, dict | list) or given is None else f" (got {given!r})"
        problems.append(f"{name}: {found['msg']}{shown}")
    return ("invalid setting: " if settings else "invalid value: ") + "; ".join(problems)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lgsp",
        description="Serve the LGSP mock bus, reset it, manage API clients and tokens, inject "
        "faults, verify or export the audit log.",
        epilog="Exit status: 0 done, 1 the work could not be done (bus down or refusing, "
        "database locked), 2 bad arguments.",
    )
    parser.add_argument("--version", action="version", version=f"lgsp-mock-bus {__version__}")
    commands = parser.add_subparsers(title="commands")
    _serve.add_parser(commands)
    _reset.add_parser(commands)
    _clients.add_parsers(commands)
    openapi = commands.add_parser("openapi", help="write the published contracts to openapi/")
    openapi.add_argument("--out", type=Path, help="folder (default: openapi/ of the checkout)")
    openapi.set_defaults(handler=_openapi)
    _faults.add_parsers(commands)
    _ca.add_parsers(commands)
    _audit.add_parsers(commands)
    return parser


def _openapi(args: argparse.Namespace) -> int:
    from lgsp.cli._openapi import OPENAPI_DIR, write_documents

    for path in write_documents(args.out or OPENAPI_DIR):
        print(path)
    return 0
