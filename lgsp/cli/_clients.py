"""`lgsp clients …` and `lgsp tokens revoke`: who may call the bus, on the bus's database."""

from __future__ import annotations

import argparse
import json
from collections.abc import Coroutine
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from lgsp.cli._common import command_group, data_command, print_json, print_listing, run_task

if TYPE_CHECKING:
    from lgsp.settings import Settings

CLIENT_COLUMNS = (
    "instance",
    "client_id",
    "name",
    "admin",
    "organisation",
    "handling",
    "rights",
    "rate limits",
    "created_at",
)


_STRICT_HELP = (
    "read every call of the client as if it sent Prefer: handling=strict: a nonconforming "
    "edXML message is refused (422, its rule) instead of taken with warnings"
)


def add_parsers(commands: Any) -> None:
    clients = command_group(commands, "clients", help="manage API clients")
    create = data_command(
        clients, create_client, "create", help="register a client; prints its secret once"
    )
    create.add_argument("--instance", required=True)
    create.add_argument("--name", required=True)
    create.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="ID[:METHODS]",
        help="grant a service, e.g. dancu or dancu:GET (repeatable)",
    )
    create.add_argument("--admin", action="store_true", help="may read the audit log")
    create.add_argument(
        "--organisation",
        metavar="AGENCY_ID",
        help="the agency the client acts for, e.g. 000.00.01.H01: it then reads and moves "
        "only that agency's dossiers and inbox",
    )
    create.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="[ID=]COUNT/UNIT[,burst=N]",
        help="the client's own call rate, for every service (20/s) or one (dancu=5/s); UNIT is "
        "s, m or h; overrides LGSP_RATE_LIMIT_PER_SECOND (repeatable)",
    )
    create.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    create.add_argument(
        "--dialect",
        choices=("bus", "lgspaccesstoken", "vdxpsdk"),
        default="bus",
        help="print the credentials as this dialect sends them: lgspaccesstoken adds the "
        "header value base64(JSON {AppName, AccessKey, SecretKey, PartnerCode, PartnerCodeCus}); "
        "vdxpsdk keeps the secret sealed for the VDXP SDK's HMAC and prints the SDK's systemid "
        "and secret",
    )

    listing = data_command(
        clients,
        list_clients,
        "list",
        help="list clients with their rights and rates (never their secrets)",
    )
    listing.add_argument("--instance")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    update = data_command(
        clients, update_client, "update", help="change how a client's calls are read"
    )
    update.add_argument("--instance", required=True)
    update.add_argument("client_id")
    handling = update.add_mutually_exclusive_group(required=True)
    handling.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    handling.add_argument(
        "--lenient",
        action="store_true",
        help="back to the default: each call's own Prefer header decides",
    )

    revoke = data_command(
        clients, revoke_client, "revoke", help="revoke a client: its tokens stop working"
    )
    revoke.add_argument("--instance", required=True)
    revoke.add_argument("client_id")

    tokens = command_group(commands, "tokens", help="access tokens")
    revoke_token = data_command(
        tokens,
        revoke_token_by_id,
        "revoke",
        help="revoke one token by its jti claim, whoever it was issued to",
        description="Every process serving the instance refuses the token within "
        "LGSP_CLIENT_CACHE_SECONDS, as after POST {base}/admin/revoked-tokens.",
    )
    revoke_token.add_argument("jti", help="the token's jti claim")
    revoke_token.add_argument("--instance", required=True, help="the instance that issued it")
    revoke_token.add_argument(
        "--expires-at",
        metavar="WHEN",
        help="the token's exp claim (seconds since 1970) or an ISO 8601 time with its offset: "
        "the deny-list keeps it until then (default: the longest token lifetime from now)",
    )


def create_client(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import create_client

    client = run_task(
        create_client,
        args,
        instance=args.instance,
        name=args.name,
        services=args.service,
        is_admin=args.admin,
        rates=args.rate,
        organisation=args.organisation,
        strict=args.strict,
        sdk=args.dialect == "vdxpsdk",
    )
    shown: dict[str, str] = {"client_id": client.client_id, "client_secret": client.client_secret}
    if args.dialect == "lgspaccesstoken":
        from adapters.dialects import lgspaccesstoken

        credentials = lgspaccesstoken.AccessToken(
            app_name=args.name,
            access_key=client.client_id,
            secret_key=client.client_secret,
            partner_code=args.organisation or "",
            partner_code_cus="",
        )
        shown[lgspaccesstoken.HEADER] = lgspaccesstoken.encode(credentials)
    if args.dialect == "vdxpsdk":  # collaboration.properties: systemid, secret
        shown.update(systemid=client.client_id, secret=client.client_secret)
    print(json.dumps(shown, ensure_ascii=False))
    return 0


def list_clients(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import list_clients

    rows = run_task(list_clients, args, instance=args.instance)
    print_listing(
        rows,
        (*CLIENT_COLUMNS, "revoked_at"),
        lambda row: [
            row["instance"],
            row["client_id"],
            row["name"],
            "yes" if row["admin"] else "no",
            row["organisation"] or "-",
            row["handling"],
            "\n".join(row["services"].split(",")) if row["services"] else "-",
            "\n".join(row["rate_limits"]) or "bus default",
            row["created_at"],
            row["revoked_at"] or "-",
        ],
        as_json=args.json,
    )
    return 0


def update_client(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import set_client_handling

    return _change_client(args, partial(set_client_handling, strict=args.strict), "handling")


def revoke_client(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import revoke_client

    return _change_client(args, revoke_client, "revoked_at")


class _ClientTask(Protocol):
    """An admin task on one client (`lgsp.admin_tasks`) answering what it changed."""

    def __call__(
        self, settings: Settings, /, *, instance: str, client_id: str
    ) -> Coroutine[Any, Any, str]: ...


def _change_client(args: argparse.Namespace, task: _ClientTask, changed: str) -> int:
    """Run `task` on the client the command names; print its id and what is now `changed`.
    Typed by `_ClientTask`, so mypy checks each task (and a `partial`'s options) as named."""
    value = run_task(task, args, instance=args.instance, client_id=args.client_id)
    print_json({"client_id": args.client_id, changed: value}, indent=None)
    return 0


def revoke_token_by_id(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import revoke_token

    expires_at = None if args.expires_at is None else parse_expiry(args.expires_at)
    revoked = run_task(
        revoke_token, args, instance=args.instance, jti=args.jti, expires_at=expires_at
    )
    print_json(revoked, indent=None)
    return 0


def parse_expiry(value: str, *, now: datetime | None = None) -> datetime:
    """A token's `exp` as the JWT holds it (epoch seconds) or as a person writes it."""
    try:
        when = datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"--expires-at {value!r}: give seconds since 1970 (the token's exp claim) or "
                "an ISO 8601 time such as 2025-06-02T17:00:00+07:00"
            ) from None
        if when.utcoffset() is None:
            raise ValueError(
                f"--expires-at {value!r} has no offset: add one, e.g. +07:00 or Z"
            ) from None
    except OverflowError:
        raise ValueError(f"--expires-at {value!r} is out of range") from None
    if when <= (now or datetime.now(UTC)):
        raise ValueError(f"--expires-at {value!r} is past: the token is refused as expired already")
    try:
        return when.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-07:00 is past year 9999 in UTC
        raise ValueError(f"--expires-at {value!r} is out of range") from None
