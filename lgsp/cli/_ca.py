"""`lgsp ca …`: the bus's test CA, on its data dir, bus running or not (the admin API's twin).

The CLI runs as whoever holds the data dir, the CA's owner: it acts as the bus-wide admin.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lgsp.cli._common import command_group, data_command, print_json, settings_from


def add_parsers(commands: Any) -> None:
    ca = command_group(
        commands, "ca", help="the bus's test CA: issue and revoke signing certificates, trust roots"
    )
    issue = data_command(
        ca,
        issue_certificate,
        "issue",
        help="issue an organisation a signing certificate and key; prints it as JSON",
        description="The password (8 to 128 printable ASCII characters) protects the PEM key "
        "and the PKCS#12 file; it is read from LGSP_CA_PASSWORD, else asked for.",
    )
    issue.add_argument("organ_id", metavar="ORGAN_ID", help="e.g. 000.00.01.H01")
    issue.add_argument("--out", type=Path, help="also write ORGAN_ID.p12, .key.pem, .pem here")

    revoke = data_command(
        ca, revoke_certificate, "revoke", help="revoke a certificate by its serial (hex)"
    )
    revoke.add_argument("serial", metavar="SERIAL")

    data_command(ca, print_root, "root", help="print the root certificate (PEM)")

    add_root = data_command(
        ca,
        add_trusted_root,
        "add-root",
        help="trust another root (PEM, its CRLs after it) bus-wide",
    )
    add_root.add_argument("pem", type=Path, metavar="PEM_FILE")


def issue_certificate(args: argparse.Namespace) -> int:
    from formats.agency_codes import AgencyCodeClosed
    from lgsp.admin_tasks import organisation_directory
    from lgsp.ca import tasks
    from lgsp.ca.store import CertificateAuthority

    settings = settings_from(args)
    password = os.environ.get("LGSP_CA_PASSWORD") or getpass.getpass("PKCS#12 password: ")
    try:
        issued = tasks.issue_certificate(
            CertificateAuthority(settings.data_dir),
            organisation_directory(settings),
            args.organ_id,
            password,
            now=datetime.now(UTC),
            era=settings.era,
        )
    except AgencyCodeClosed as refusal:  # said as the admin API's problem is: code and detail
        raise ValueError(tasks.closed_line(refusal)) from refusal
    if args.out is not None:
        import base64

        args.out.mkdir(parents=True, exist_ok=True)
        _write(args.out / f"{args.organ_id}.p12", base64.b64decode(issued.pkcs12_base64))
        _write(args.out / f"{args.organ_id}.key.pem", issued.private_key_pem.encode())
        _write(args.out / f"{args.organ_id}.pem", issued.certificate_pem.encode())
    print_json(issued.model_dump(mode="json"), ensure_ascii=False)
    return 0


def revoke_certificate(args: argparse.Namespace) -> int:
    from lgsp.ca import tasks
    from lgsp.ca.store import CertificateAuthority

    ca = CertificateAuthority(settings_from(args).data_dir)
    record = tasks.find_certificate(ca, args.serial)
    revoked = tasks.revoke_certificate(ca, record, now=datetime.now(UTC))
    print_json(revoked.model_dump(mode="json", exclude={"certificate_pem"}), ensure_ascii=False)
    return 0


def print_root(args: argparse.Namespace) -> int:
    from lgsp.ca.authority import certificate_pem
    from lgsp.ca.store import CertificateAuthority

    root = CertificateAuthority(settings_from(args).data_dir).root(now=datetime.now(UTC))
    sys.stdout.write(certificate_pem(root).decode("ascii"))
    return 0


def add_trusted_root(args: argparse.Namespace) -> int:
    from lgsp.ca import tasks
    from lgsp.ca.schemas import MAX_CRLS_PEM
    from lgsp.ca.store import CertificateAuthority
    from lgsp.errors import BadCertificate

    ca = CertificateAuthority(settings_from(args).data_dir)
    limit = 16 * 1024 + MAX_CRLS_PEM  # a root and its CRLs, as the admin API takes them
    with args.pem.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:  # never cut: a CRL cut in half would go unread, its revocations lost
        raise BadCertificate(
            f"{args.pem} is over {limit // 1024} KiB: give the root and at most "
            f"{MAX_CRLS_PEM // 1024} KiB of its CRLs."
        )
    pem = data.decode("ascii")
    # the root's CRLs after it, as in LGSP_TRUSTED_ROOTS_FILE
    crls = pem if "-----BEGIN X509 CRL-----" in pem else ""
    print_json(tasks.add_root(ca, pem, crls_pem=crls).model_dump(mode="json"), ensure_ascii=False)
    return 0


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
