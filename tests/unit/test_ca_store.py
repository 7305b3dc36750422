"""The test CA's files (`lgsp.ca.store`): what a system is handed at every start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lgsp.ca.store import CertificateAuthority

NOW = datetime(2026, 12, 6, tzinfo=UTC)
AGENCY = {"000.00.01.H33": "Sở Tư pháp tỉnh Kiên Giang"}


def test_a_system_is_handed_its_certificate_again_at_the_next_start(tmp_path: Path) -> None:
    first = CertificateAuthority(tmp_path).ensure_all(AGENCY, now=NOW)["000.00.01.H33"]

    again = CertificateAuthority(tmp_path).ensure_all(AGENCY, now=NOW)["000.00.01.H33"]

    assert again.certificate.serial_number == first.certificate.serial_number


def test_a_certificate_the_current_root_did_not_sign_is_not_handed_out(tmp_path: Path) -> None:
    """A root replaced by hand (or made again after its files were removed) leaves certificates
    under the old one in `issued/`: signatures with them would fail every verifier that trusts
    the root the bus now publishes."""
    ca = CertificateAuthority(tmp_path)
    old = ca.ensure_all(AGENCY, now=NOW)["000.00.01.H33"]
    (ca.folder / "root.pem").unlink()
    (ca.folder / "root-key.pem").unlink()

    started_again = CertificateAuthority(tmp_path)
    handed = started_again.ensure_all(AGENCY, now=NOW)["000.00.01.H33"]

    assert handed.certificate.serial_number != old.certificate.serial_number
    handed.certificate.verify_directly_issued_by(started_again.root(now=NOW))  # raises if not
