"""`lgsp`: serve the bus, manage API clients, verify the audit chain."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lgsp import __version__
from lgsp.settings import Settings

SAMPLE_CITIZENS = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        result: int = args.handler(args)
    except (ValueError, LookupError) as error:
        print(f"lgsp: {error}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lgsp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lgsp-mock-bus {__version__}")
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="start the bus (NDXP and every province)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--seed", type=int, help="seed for generated data (LGSP_SEED)")
    serve.add_argument("--instance", action="append", help="serve only this instance (repeatable)")
    serve.add_argument(
        "--ndxp-url",
        help="base URL of NDXP when another process serves it, e.g. http://ndxp:8000/ndxp "
        "(LGSP_NDXP_URL)",
    )
    _data_dir(serve)
    serve.set_defaults(handler=_serve)

    clients = commands.add_parser("clients", help="manage API clients").add_subparsers(
        title="clients commands"
    )
    create = clients.add_parser("create", help="register a client; prints its secret once")
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
        "--rate",
        action="append",
        default=[],
        metavar="[ID=]COUNT/UNIT[,burst=N]",
        help="the client's own call rate, for every service (20/s) or one (dancu=5/s); UNIT is "
        "s, m or h; overrides LGSP_RATE_LIMIT_PER_SECOND (repeatable)",
    )
    _data_dir(create)
    create.set_defaults(handler=_clients_create)

    listing = clients.add_parser("list", help="list clients (never their secrets)")
    listing.add_argument("--instance")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _data_dir(listing)
    listing.set_defaults(handler=_clients_list)

    revoke = clients.add_parser("revoke", help="revoke a client: its tokens stop working")
    revoke.add_argument("--instance", required=True)
    revoke.add_argument("client_id")
    _data_dir(revoke)
    revoke.set_defaults(handler=_clients_revoke)

    openapi = commands.add_parser("openapi", help="write the published contracts to openapi/")
    openapi.add_argument("--out", type=Path, help="folder (default: openapi/ of the checkout)")
    openapi.set_defaults(handler=_openapi)

    _faults_parser(commands)

    audit = commands.add_parser("audit", help="audit log").add_subparsers(title="audit commands")
    verify = audit.add_parser("verify", help="check the hash chain; exit 1 naming a bad record")
    verify.add_argument("--instance")
    _data_dir(verify)
    verify.set_defaults(handler=_audit_verify)
    return parser


def _faults_parser(commands: Any) -> None:
    faults = commands.add_parser("faults", help="inject faults (issue 5)").add_subparsers(
        title="faults commands"
    )
    add = faults.add_parser(
        "add",
        help="add a fault rule; prints it as JSON",
        description="FAULT uses the X-LGSP-Fault header's grammar, e.g. 'status=503', "
        "'latency=100-500', 'timeout=1500; when=after', 'drop', 'rate_limit=30; probability=0.5'.",
    )
    add.add_argument("--instance", required=True)
    add.add_argument("fault", metavar="FAULT")
    for option in ("--service", "--version", "--method", "--path", "--client-id"):
        add.add_argument(option, help="match only calls with this value (path: glob or ^regex)")
    add.add_argument("--times", type=int, help="apply at most this many times")
    add.add_argument("--expires-in", type=float, metavar="SECONDS")
    _data_dir(add)
    add.set_defaults(handler=_faults_add)

    listing = faults.add_parser("list", help="list an instance's rules with their counts left")
    listing.add_argument("--instance", required=True)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _data_dir(listing)
    listing.set_defaults(handler=_faults_list)

    remove = faults.add_parser("remove", help="remove one rule")
    remove.add_argument("--instance", required=True)
    remove.add_argument("rule_id", type=int)
    _data_dir(remove)
    remove.set_defaults(handler=_faults_remove)

    clear = faults.add_parser("clear", help="remove every rule of an instance")
    clear.add_argument("--instance", required=True)
    _data_dir(clear)
    clear.set_defaults(handler=_faults_clear)


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="where the SQLite database lives (default ./.lgsp)"
    )


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    if getattr(args, "data_dir", None) is not None:
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lgsp.app import create_app
    from lgsp.logging import configure_logging

    overrides: dict[str, Any] = {}
    if "LGSP_PUBLIC_URL" not in os.environ:  # behind a proxy, the operator's URL wins
        overrides["public_url"] = f"http://{_url_host(args.host)}:{args.port}"
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.ndxp_url is not None:
        overrides["ndxp_url"] = args.ndxp_url
    settings = _settings(args, **overrides)
    configure_logging(json=settings.log_format == "json")
    app = create_app(settings, instances=args.instance, on_ready=_print_banner)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, server_header=False)
    return 0


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):  # noqa: S104 - mapping a bind-all address to a callable one
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _print_banner(bus: Any) -> None:
    from lgsp.routing.systems import samples

    settings: Settings = bus.settings
    secret = settings.demo_client_secret.get_secret_value()
    lines = ["", "LGSP mock bus is ready.", ""]
    for instance in bus.instances.values():
        lines.append(f"  {instance.spec.title:<45} {instance.issuer}")
    lines += [
        "",
        f"  Demo client (admin, every service): client_id={settings.demo_client_id} "
        f"client_secret={secret}",
    ]
    provinces = [i for i in bus.instances.values() if i.spec.kind == "province"]
    if provinces:
        first = provinces[0]
        found = samples(
            first.spec, settings, count=SAMPLE_CITIZENS, provinces=bus.topology.provinces
        )
        lines.append(f"  Sample identifiers in {first.spec.title} (seed {settings.seed}):")
        lines += [f"    {kind:<10} {' '.join(values)}" for kind, values in found.items()]
        cccd = found.get("cccd", ["<cccd>"])[0]
        lines += [
            "  More at GET {base}/admin/samples.",
            "",
            "  Try:",
            f"    curl -s -u {settings.demo_client_id}:{secret} "
            f"-d grant_type=client_credentials {first.issuer}/token",
            f"    curl -s -H 'Authorization: Bearer <token>' "
            f"{first.issuer}/dancu/v1/citizens/{cccd}",
        ]
    print("\n".join(lines) + "\n", flush=True)


def _clients_create(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import create_client

    settings = _settings(args)
    client = asyncio.run(
        create_client(
            settings,
            instance=args.instance,
            name=args.name,
            services=args.service,
            is_admin=args.admin,
            rates=args.rate,
        )
    )
    print(json.dumps({"client_id": client.client_id, "client_secret": client.client_secret}))
    return 0


def _clients_list(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import list_clients

    rows = asyncio.run(list_clients(_settings(args), instance=args.instance))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = ["instance", "client_id", "name", "admin", "services", "created_at", "revoked_at"]
    table = [[str(row[c] if row[c] is not None else "-") for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(columns)]
    for line in [columns, ["-" * w for w in widths], *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


def _clients_revoke(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import revoke_client

    revoked = asyncio.run(
        revoke_client(_settings(args), instance=args.instance, client_id=args.client_id)
    )
    print(json.dumps({"client_id": args.client_id, "revoked_at": revoked}))
    return 0


def _faults_add(args: argparse.Namespace) -> int:
    from lgsp.faults.matcher import parse_fault_header
    from lgsp.faults.schemas import FaultRuleIn
    from lgsp.faults.tasks import add_fault

    given = {
        "service": args.service,
        "version": args.version,
        "method": args.method,
        "path": args.path,
        "client_id": args.client_id,
        "times": args.times,
        "expires_in": args.expires_in,
    }
    action = parse_fault_header(args.fault).model_dump(exclude_none=True)
    rule = FaultRuleIn.model_validate(
        {**action, **{k: v for k, v in given.items() if v is not None}}
    )
    added = asyncio.run(add_fault(_settings(args), instance=args.instance, rule=rule))
    print(json.dumps(added, ensure_ascii=False))
    return 0


def _faults_list(args: argparse.Namespace) -> int:
    from lgsp.faults.tasks import list_faults

    rules = asyncio.run(list_faults(_settings(args), instance=args.instance))
    if args.json:
        print(json.dumps(rules, indent=2, ensure_ascii=False))
        return 0
    meta = {"id", "instance", "remaining", "expires_at", "created_at", "times", "expires_in"}
    columns = ["id", "rule", "remaining", "expires_at"]
    table = [
        [
            str(rule["id"]),
            " ".join(f"{k}={v}" for k, v in rule.items() if k not in meta),
            str(rule.get("remaining", "-")),
            str(rule.get("expires_at", "-")),
        ]
        for rule in rules
    ]
    widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(columns)]
    for line in [columns, ["-" * w for w in widths], *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


def _faults_remove(args: argparse.Namespace) -> int:
    from lgsp.faults.tasks import remove_fault

    asyncio.run(remove_fault(_settings(args), instance=args.instance, rule_id=args.rule_id))
    print(json.dumps({"removed": 1}))
    return 0


def _faults_clear(args: argparse.Namespace) -> int:
    from lgsp.faults.tasks import clear_faults

    removed = asyncio.run(clear_faults(_settings(args), instance=args.instance))
    print(json.dumps({"removed": removed}))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from lgsp.openapi import OPENAPI_DIR, write_documents

    for path in write_documents(args.out or OPENAPI_DIR):
        print(path)
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from lgsp.admin_tasks import verify_audit

    report = asyncio.run(verify_audit(_settings(args), instance=args.instance))
    if report.ok:
        print(
            f"audit chain intact: {report.checked} records in {len(report.instances)} instance(s)"
        )
        return 0
    for problem in report.problems:
        print(
            f"audit chain BROKEN in instance {problem.instance} at record seq={problem.seq} "
            f"(id={problem.record_id}): {problem.reason}",
            file=sys.stderr,
        )
    return 1
