"""`lgsp faults …`: an instance's fault rules, on the bus's database, bus running or not."""

from __future__ import annotations

import argparse
import json
from typing import Any

from lgsp.cli._common import command_group, data_command, print_json, print_listing, run_task

RULE_METADATA = {"id", "instance", "remaining", "expires_at", "created_at", "times", "expires_in"}


def add_parsers(commands: Any) -> None:
    faults = command_group(
        commands, "faults", help="inject faults: rules that slow, fail, drop or cut calls"
    )
    add = data_command(
        faults,
        add_fault,
        "add",
        help="add a fault rule; prints it as JSON",
        description="FAULT uses the X-LGSP-Fault header's grammar, e.g. 'status=503', "
        "'latency=100-500', 'timeout=1500; when=after', 'drop', 'cut; when=after', "
        "'rate_limit=30; probability=0.5'.",
    )
    add.add_argument("--instance", required=True)
    add.add_argument("fault", metavar="FAULT")
    for option in ("--service", "--version", "--method", "--path", "--client-id"):
        add.add_argument(option, help="match only calls with this value (path: glob or ^regex)")
    add.add_argument("--times", type=int, help="apply at most this many times")
    add.add_argument("--expires-in", type=float, metavar="SECONDS")

    listing = data_command(
        faults, list_faults, "list", help="list an instance's rules with their counts left"
    )
    listing.add_argument("--instance", required=True)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    remove = data_command(faults, remove_fault, "remove", help="remove one rule")
    remove.add_argument("--instance", required=True)
    remove.add_argument("rule_id", type=int)

    clear = data_command(faults, clear_faults, "clear", help="remove every rule of an instance")
    clear.add_argument("--instance", required=True)


def add_fault(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from lgsp.faults.matcher import parse_fault_header, rule_problems
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
    action = parse_fault_header(args.fault, source="FAULT").model_dump(exclude_none=True)
    try:
        rule = FaultRuleIn.model_validate(
            {**action, **{k: v for k, v in given.items() if v is not None}}
        )
    except ValidationError as error:  # one line naming the option, as for any bad argument
        raise ValueError(f"the rule is not valid ({rule_problems(error)})") from None
    added = run_task(add_fault, args, instance=args.instance, rule=rule)
    print_json(added, ensure_ascii=False, indent=None)
    return 0


def list_faults(args: argparse.Namespace) -> int:
    from lgsp.faults.tasks import list_faults

    rules = run_task(list_faults, args, instance=args.instance)
    print_listing(
        rules,
        ("id", "rule", "remaining", "expires_at"),
        lambda rule: [
            str(rule["id"]),
            " ".join(f"{k}={v}" for k, v in rule.items() if k not in RULE_METADATA),
            str(rule.get("remaining", "-")),
            rule.get("expires_at") or "-",
        ],
        as_json=args.json,
        title=f"Fault rules of {args.instance}, oldest (applied first) at the top",
        ensure_ascii=False,
    )
    return 0


def remove_fault(args: argparse.Namespace) -> int:
    from lgsp.faults.tasks import remove_fault

    run_task(remove_fault, args, instance=args.instance, rule_id=args.rule_id)
    print(json.dumps({"removed": 1}))
    return 0


def clear_faults(args: argparse.Namespace) -> int:
    from lgsp.faults.tasks import clear_faults

    removed = run_task(clear_faults, args, instance=args.instance)
    print(json.dumps({"removed": removed}))
    return 0
