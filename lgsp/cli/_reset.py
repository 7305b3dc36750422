"""`lgsp reset`: a running bus back to its seeded state, through `POST {base}/admin/reset`.

Over HTTP, not on the database: the mocks' seed snapshots, the outbox worker to pause, the
throttles and rate buckets to forget all live in the process that serves the bus. The CLI
authenticates as the demo client (`LGSP_DEMO_CLIENT_ID` / `LGSP_DEMO_CLIENT_SECRET`), as the
pytest plugin does, on the first instance the process serves: a reset covers every instance of
that process anyway.
"""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lgsp.cli._common import CommandFailed, print_json, print_table, settings_from

if TYPE_CHECKING:  # imported by the command: not by `lgsp serve`, which answers before it
    import httpx

TIMEOUT_SECONDS = 60.0
"""A first reset of a big bus seeds every mock through its own code: seconds, not minutes."""


def add_parser(commands: Any) -> None:
    reset = commands.add_parser(
        "reset",
        help="put a running bus back to its seeded state (POST {base}/admin/reset)",
        description="Every instance the bus process serves: mocks reseeded, outboxes, fault "
        "rules and journals emptied, the demo client restored; the audit log, other clients, "
        "keys and token revocations are kept. In multi-process mode, reset each process.",
    )
    reset.add_argument(
        "--url",
        help="root URL of the bus process, e.g. http://127.0.0.1:8001 "
        "(default: LGSP_PUBLIC_URL, else http://127.0.0.1:8000)",
    )
    reset.add_argument("--json", action="store_true", help="print the bus's answer as JSON")
    reset.set_defaults(handler=reset_bus)


def reset_bus(args: argparse.Namespace) -> int:
    import httpx

    settings = settings_from(args)
    root = (args.url or settings.public_url).rstrip("/")
    if urlsplit(root).scheme not in ("http", "https"):
        raise ValueError(f"--url {root!r}: give an http:// or https:// URL")
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
            base = root + _first_instance_path(http, root)
            token = _admin_token(
                http,
                base,
                client_id=settings.demo_client_id,
                secret=settings.demo_client_secret.get_secret_value(),
            )
            answer = http.post(f"{base}/admin/reset", headers={"Authorization": f"Bearer {token}"})
    except httpx.TransportError as error:
        reason = str(error) or type(error).__name__
        hint = _trust_hint(settings.data_dir) if _untrusted_certificate(error) else ""
        raise CommandFailed(f"cannot reach the bus at {root}: {reason}{hint}") from None
    if answer.status_code != 200:
        raise CommandFailed(f"the bus at {base} refused the reset: {_problem(answer)}")
    report = _report(answer, base)
    if args.json:
        print_json(report, ensure_ascii=False)
        return 0
    print_table(
        ("instance", "system", "outcome", "deleted", "seeded"),
        (
            [
                system["instance"],
                system["system"],
                system["outcome"],
                str(system["deleted"]),
                str(system["seeded"]),
            ]
            for system in report["systems"]
        ),
        title=f"Reset of {root}",
    )
    print(f"outbox messages deleted: {report['outbox_deleted']}")
    print(f"kept: {', '.join(report['kept'])}")
    print(f"took_ms: {report['took_ms']}")
    return 0


def _untrusted_certificate(error: BaseException) -> bool:
    """Whether the connection failed because the bus's certificate could not be verified."""
    cause: BaseException | None = error
    for _ in range(8):  # the chain httpx raises from ssl is short; bounded all the same
        if cause is None:
            return False
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _trust_hint(data_dir: Path) -> str:
    """Where `lgsp serve --tls` wrote the CA that signed the bus's certificate."""
    from lgsp.tls import TLS_DIR  # only on this failure: `lgsp` starts without cryptography

    ca_file = (data_dir / TLS_DIR / "ca.pem").resolve()
    return (
        f"; a bus served with `lgsp serve --tls` is signed by its test CA, {ca_file} for the "
        f"data dir {data_dir} (another --data-dir, another CA): trust it with "
        f"SSL_CERT_FILE={ca_file} lgsp reset …"
    )


def _report(answer: httpx.Response, base: str) -> dict[str, Any]:
    """The bus's answer, checked: a 200 that is not a reset report is the bus's failure (exit
    1), not a bad argument (exit 2)."""
    try:
        report = answer.json()
        if not isinstance(report, dict) or not isinstance(report["systems"], list):
            raise TypeError("not a reset report")
        if {"outbox_deleted", "kept", "took_ms"} - report.keys():
            raise LookupError("not a reset report")
    except (ValueError, LookupError, TypeError):
        raise CommandFailed(f"the bus at {base} answered the reset with no report") from None
    return report


def _first_instance_path(http: httpx.Client, root: str) -> str:
    """The mount path of an instance this process serves, from its index (`GET /`).

    Only the path: the index's URLs are built on the process's own LGSP_PUBLIC_URL, which
    may be a name only its network knows (a compose service).
    """
    index = http.get(f"{root}/")
    try:
        instances = index.json()["instances"] if index.status_code == 200 else []
        path = urlsplit(instances[0]["base_url"]).path
    except (ValueError, LookupError, TypeError):
        raise CommandFailed(
            f"{root} does not answer as an LGSP bus (GET / gave {index.status_code}); "
            "give the root URL of a bus process with --url"
        ) from None
    return str(path)


def _admin_token(http: httpx.Client, base: str, *, client_id: str, secret: str) -> str:
    answer = http.post(
        f"{base}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    if answer.status_code != 200:
        raise CommandFailed(
            f"the bus at {base} refused a token to client {client_id!r}: {_problem(answer)}"
        )
    try:
        token: str = answer.json()["access_token"]
    except (ValueError, LookupError, TypeError):
        raise CommandFailed(f"the bus at {base} answered the token request with no token") from None
    return token


def _problem(answer: httpx.Response) -> str:
    """RFC 9457 `code: detail`, RFC 6749 `error: error_description`, or the status line."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        detail = body.get("detail") or body.get("error_description")
        if code:
            return f"{answer.status_code} {code}" + (f": {detail}" if detail else "")
    return f"{answer.status_code} {answer.reason_phrase}"
