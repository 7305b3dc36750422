"""A document system's trust: the roots and CRL it fetches from its bus's CA (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from formats.edxml import render_edxml
from formats.xmldsig import Trust, check_signature, sign_edxml
from lgsp.ca.authority import certificate_pem, make_crl
from lgsp.ca.store import CertificateAuthority
from mocks.bus import BusClient
from mocks.config import SystemConfig
from mocks.qlvb.context import trust_of
from mocks.qlvb.signing import TrustSource
from tests.fixtures import signing
from tests.fixtures.documents import cross_province_document

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def bus_of(ca: CertificateAuthority, *, crl_from: CertificateAuthority | None = None) -> BusClient:
    """A bus whose CA publishes `ca`'s roots, and the CRL of `crl_from` (another CA: forged)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ca/trust.pem":
            return httpx.Response(200, content=ca.trust_pem(now=NOW))
        der = (crl_from or ca).crl(now=NOW).public_bytes(Encoding.DER)
        return httpx.Response(200, content=der)

    http = httpx.AsyncClient(base_url="http://bus.test/", transport=httpx.MockTransport(answer))
    return BusClient(http, client_id="system-qlvb", client_secret="x", now=lambda: NOW)


async def test_the_roots_and_revocations_of_the_bus_ca_are_added_to_the_configured_ones(
    tmp_path: Path,
) -> None:
    ca = CertificateAuthority(tmp_path)
    issued = ca.ensure_all({"000.00.01.H33": "Sở Tư pháp"}, now=NOW)["000.00.01.H33"]
    ca.revoke(issued.certificate.serial_number, now=NOW)
    configured = Trust(roots=(signing.root().certificate,))

    trust = await TrustSource(configured, bus_of(ca), refresh_seconds=60).current()

    assert trust.roots == (signing.root().certificate, ca.root(now=NOW))
    assert (ca.root(now=NOW).subject, issued.certificate.serial_number) in trust.revoked


async def test_a_crl_no_published_root_signed_is_ignored(tmp_path: Path) -> None:
    ca, forger = CertificateAuthority(tmp_path / "a"), CertificateAuthority(tmp_path / "b")
    forger.revoke(0x1234, now=NOW)

    trust = await TrustSource(Trust(), bus_of(ca, crl_from=forger), refresh_seconds=0).current()

    assert trust.revoked == frozenset()
    assert trust.roots == ()


async def test_what_was_fetched_is_kept_until_it_is_stale(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path)
    clock = [0.0]
    source = TrustSource(Trust(), bus_of(ca), refresh_seconds=5, clock=lambda: clock[0])
    first = await source.current()
    ca.revoke(0xABC, now=NOW)

    clock[0] = 4.0
    kept = await source.current()
    clock[0] = 5.0
    refreshed = await source.current()

    assert certificate_pem(first.roots[0]) == certificate_pem(ca.root(now=NOW))
    assert (ca.root(now=NOW).subject, 0xABC) not in kept.revoked
    assert (ca.root(now=NOW).subject, 0xABC) in refreshed.revoked


async def test_the_configuration_keys_its_serials_by_its_roots_and_keeps_its_crls(
    tmp_path: Path,
) -> None:
    """Configured serials are revoked under each configured root (a serial is unique per issuer
    only); CRLs in the roots' PEM (an issuing CA's, as its operator supplies them) reach every
    check."""
    root = signing.root()
    crls = [
        make_crl(root.certificate, root.key, [(serial, NOW)], now=NOW)
        .public_bytes(Encoding.PEM)
        .decode()
        for serial in (0x51, 0x52)
    ]
    config = SystemConfig(
        instance="kiengiang",
        province_code="91",
        seed=7,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/q.db",
        trusted_roots_pem=certificate_pem(root.certificate).decode()
        + "its CAs' CRLs:\n"
        + "\n".join(crls),
        revoked_serials=["1bad"],
    )

    configured = trust_of(config)
    trust = await TrustSource(
        configured, bus_of(CertificateAuthority(tmp_path)), refresh_seconds=60
    ).current()

    assert configured.roots == (root.certificate,)
    assert configured.revoked == frozenset({(root.certificate.subject, 0x1BAD)})
    assert [[e.serial_number for e in crl] for crl in configured.crls] == [[0x51], [0x52]]
    assert trust.crls[:2] == configured.crls  # then the bus CA's, as fetched


async def test_the_bus_ca_crl_kept_while_the_bus_is_away_goes_stale(tmp_path: Path) -> None:
    """The fetched CRL is kept with its dates: once past its nextUpdate (7 days, assigned) a
    check at that time cannot say the signer is not revoked."""
    ca = CertificateAuthority(tmp_path)
    issued = ca.ensure_all({"000.00.01.H33": "Sở Tư pháp"}, now=NOW)["000.00.01.H33"]
    trust = await TrustSource(Trust(), bus_of(ca), refresh_seconds=60).current()
    signed = sign_edxml(
        render_edxml(cross_province_document("8")),
        key=issued.key,
        chain=[issued.certificate],
    )

    fresh = check_signature(signed, trust=trust, at=NOW)
    stale = check_signature(signed, trust=trust, at=NOW + timedelta(days=8))

    assert (fresh.valid, fresh.reason) == (True, None)
    assert (stale.valid, stale.reason) == (False, "revocation_undetermined")
