"""`lgsp serve --tls`: the bus's test CA, and the server certificate it issues."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lgsp.tls import CA_COMMON_NAME, SERVER_DAYS, TlsError, bus_tls, given_tls

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def names(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName)} | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    }


def test_the_server_certificate_is_issued_by_the_test_ca_for_the_hosts_and_loopback(
    tmp_path: Path,
) -> None:
    tls = bus_tls(tmp_path, ["bus.example", "[::1]"], now=NOW)

    assert tls.ca_file is not None
    ca, server = certificate(tls.ca_file), certificate(tls.cert_file)
    server.verify_directly_issued_by(ca)
    assert ca.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == CA_COMMON_NAME
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert names(server) == {"bus.example", "localhost", "127.0.0.1", "::1"}
    assert server.not_valid_after_utc - NOW <= timedelta(days=SERVER_DAYS)


def test_private_keys_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    tls = bus_tls(tmp_path, [], now=NOW)

    for key in (tls.key_file, tmp_path / "tls" / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_a_restart_keeps_the_ca_and_the_certificate_while_they_cover_the_hosts(
    tmp_path: Path,
) -> None:
    first = bus_tls(tmp_path, ["bus.example"], now=NOW)
    before = first.cert_file.read_bytes(), (tmp_path / "tls" / "ca.pem").read_bytes()

    again = bus_tls(tmp_path, ["bus.example"], now=NOW + timedelta(days=1))

    assert (again.cert_file.read_bytes(), (tmp_path / "tls" / "ca.pem").read_bytes()) == before


@pytest.mark.parametrize(
    ("hosts", "later"),
    [(["other.example"], timedelta(days=1)), (["bus.example"], timedelta(days=SERVER_DAYS - 10))],
    ids=["new-host", "near-its-end"],
)
def test_the_certificate_is_issued_again_for_a_new_host_or_near_its_end(
    tmp_path: Path, hosts: list[str], later: timedelta
) -> None:
    ca = bus_tls(tmp_path, ["bus.example"], now=NOW).ca_file
    assert ca is not None
    before = certificate(ca)

    again = bus_tls(tmp_path, hosts, now=NOW + later)

    renewed = certificate(again.cert_file)
    renewed.verify_directly_issued_by(before)
    assert set(hosts) <= names(renewed)
    assert renewed.not_valid_after_utc > NOW + later + timedelta(days=30)


def test_a_given_certificate_must_come_with_its_own_key(tmp_path: Path) -> None:
    tls = bus_tls(tmp_path, [], now=NOW)
    other = tmp_path / "other-key.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    assert given_tls(tls.cert_file, tls.key_file).ca_file is None
    with pytest.raises(TlsError, match="is not the key of the certificate"):
        given_tls(tls.cert_file, other)
    with pytest.raises(TlsError, match="cannot read"):
        given_tls(tmp_path / "missing.pem", tls.key_file)
    with pytest.raises(TlsError, match="not a PEM certificate"):
        given_tls(other, tls.key_file)
