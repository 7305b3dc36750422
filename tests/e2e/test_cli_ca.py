"""`lgsp ca …`: the test CA from the command line, on the data dir, bus running or not."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from lgsp.ca import store
from lgsp.ca.authority import make_crl
from lgsp.ca.store import CertificateAuthority
from lgsp.cli import main
from tests.fixtures import signing

PASSWORD = "cli-test-pass"


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_CA_PASSWORD", PASSWORD)


def test_issue_prints_the_certificate_and_writes_owner_only_key_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "issued"

    code = main(["ca", "issue", "000.00.01.H33", "--data-dir", str(tmp_path), "--out", str(out)])

    issued = json.loads(capsys.readouterr().out)
    assert code == 0
    assert issued["organ_id"] == "000.00.01.H33"
    bundle = (out / "000.00.01.H33.p12").read_bytes()
    _, certificate, _ = pkcs12.load_key_and_certificates(bundle, PASSWORD.encode())
    assert certificate is not None
    assert format(certificate.serial_number, "x") == issued["serial"]
    for name in ("000.00.01.H33.p12", "000.00.01.H33.key.pem"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    assert main(["ca", "root", "--data-dir", str(tmp_path)]) == 0
    root = x509.load_pem_x509_certificate(capsys.readouterr().out.encode())
    certificate.verify_directly_issued_by(root)


def test_revoke_puts_the_serial_in_the_crl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ca", "issue", "000.00.01.H33", "--data-dir", str(tmp_path)])
    serial = json.loads(capsys.readouterr().out)["serial"]

    code = main(["ca", "revoke", serial, "--data-dir", str(tmp_path)])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["revoked_at"]
    assert int(serial, 16) in CertificateAuthority(tmp_path).revoked()


@pytest.mark.parametrize(
    ("organ_id", "code"), [("000.00.01.H33", 2), ("000.00.05.H33", 2), ("000.00.01.H01", 0)]
)
def test_today_no_certificate_is_issued_to_a_body_the_merger_closed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    organ_id: str,
    code: int,
) -> None:
    monkeypatch.setenv("LGSP_ERA", "2026")  # the default of `lgsp serve`

    assert main(["ca", "issue", organ_id, "--data-dir", str(tmp_path)]) == code

    said = capsys.readouterr()
    if code == 0:
        assert json.loads(said.out)["organ_id"] == organ_id
    else:
        assert said.out == ""
        assert said.err.startswith("lgsp: AGENCY_CODE_CLOSED: ")
        # the successor body where today's province has one (no district body since 2025)
        assert ("Use 000.00.01.H01." in said.err) is organ_id.startswith("000.00.01.")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["ca", "issue", "000.00.99.H33"], "UNKNOWN_ORGANISATION"),
        (["ca", "revoke", "abcdef"], "CERTIFICATE_NOT_FOUND"),
    ],
)
def test_bad_arguments_exit_2_naming_the_apis_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    status = main([*argv, "--data-dir", str(tmp_path)])

    assert status == 2
    assert f"lgsp: {code}:" in capsys.readouterr().err


def test_a_bad_password_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LGSP_CA_PASSWORD", "short")

    status = main(["ca", "issue", "000.00.01.H33", "--data-dir", str(tmp_path)])

    assert status == 2
    assert "BAD_PASSWORD" in capsys.readouterr().err


def test_add_root_takes_the_crls_after_the_root_in_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `LGSP_TRUSTED_ROOTS_FILE` carries them: the root, then its CRLs, which reach
    `ca/trust.pem`; a file with the root alone adds it with none."""
    now = datetime.now(UTC)
    vendor, alone = signing.root("VNPT-CA TEST"), signing.root("Viettel-CA TEST")
    crl = make_crl(vendor.certificate, vendor.key, [(0x42, now)], now=now).public_bytes(
        Encoding.PEM
    )
    (tmp_path / "vendor.pem").write_bytes(vendor.certificate.public_bytes(Encoding.PEM) + crl)
    (tmp_path / "alone.pem").write_bytes(alone.certificate.public_bytes(Encoding.PEM))

    said = []
    for name in ("vendor.pem", "alone.pem"):
        assert main(["ca", "add-root", str(tmp_path / name), "--data-dir", str(tmp_path)]) == 0
        said.append(json.loads(capsys.readouterr().out))

    assert [(s["added"], s["crls"]) for s in said] == [(True, 1), (True, 0)]
    assert crl in CertificateAuthority(tmp_path).trust_pem(now=now)


def test_add_root_refuses_a_file_over_the_limit_rather_than_cut_its_crls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CRL cut in half went unread and the command said `crls: 1` with exit 0: what that
    CRL revoked was then taken as good (code review 2026-12)."""
    vendor = signing.root("VNPT-CA TEST")
    big = vendor.certificate.public_bytes(Encoding.PEM) + b"#" * (90 * 1024)
    (tmp_path / "big.pem").write_bytes(big)

    code = main(["ca", "add-root", str(tmp_path / "big.pem"), "--data-dir", str(tmp_path)])

    assert code != 0
    assert "BAD_CERTIFICATE" in capsys.readouterr().err
    assert CertificateAuthority(tmp_path).added_roots() == []


def test_a_root_or_crl_that_would_outgrow_the_trust_bundle_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The document systems read at most TRUST_BUNDLE_MAX_BYTES of `ca/trust.pem` and trust no
    bus root at all past it: the CA keeps the bundle within it (code review 2026-12)."""
    now = datetime.now(UTC)
    first, second = signing.root("VNPT-CA TEST"), signing.root("Viettel-CA TEST")
    room = len(first.certificate.public_bytes(Encoding.PEM)) + 100
    monkeypatch.setattr("lgsp.ca.store.TRUST_BUNDLE_MAX_BYTES", store.OWN_ROOT_ROOM + room)
    ca = CertificateAuthority(tmp_path)
    revoked = [(serial, now) for serial in range(1, 40)]
    crl = make_crl(first.certificate, first.key, revoked, now=now)

    assert ca.add_root(first.certificate)
    with pytest.raises(ValueError, match="trust.pem would weigh more"):
        ca.add_root(first.certificate, crls=[crl])
    with pytest.raises(ValueError, match="trust.pem would weigh more"):
        ca.add_root(second.certificate)
    assert ca.added_roots() == [first.certificate]
    assert len(ca.trust_pem(now=now)) <= store.TRUST_BUNDLE_MAX_BYTES
