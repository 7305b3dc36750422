"""A document system's signatures: the trust it keeps from its bus's CA, the keys it signs with.

A recipient's system trusts the roots its CA publishes and refuses what the CA's CRL revokes, as
a real e-office fetches the government CA's CRL (RFC 5280 §5): here from the bus
(`{bus_url}/ca/trust.pem` and `/ca/crl.der`), kept `trust_refresh_seconds`, on top of the roots
its configuration names. A CRL whose signature no published root verifies (with an algorithm of
the explicit list) is refused, and the last good copy kept, until it is no longer current
(then what it does not list is `revocation_undetermined`); what it revokes is keyed by its
issuer and serial, a serial being unique per issuer only. Other CRLs come in `trust.pem` (those
of the roots an admin added) and from the configuration (in `SystemConfig.trusted_roots_pem`,
issuing CAs' too): each counts for a certificate whose issuer on a validated path signed it
(formats/xmldsig.py `Trust`).

The sender's system signs, as the sending agency, with the key and certificate its CA issued to
that agency (`SystemConfig.signing_identities`, handed over at provisioning): the documents and
the status messages it composes, a status as its reporting agency (XML-DSig enveloped,
RSA-SHA256, exclusive C14N; formats/xmldsig.py). Bytes a client sent are never re-signed: they
are the sender's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from formats.crl import TRUST_BUNDLE_MAX_BYTES, crl_signed_by, crls_in
from formats.xmldsig import Trust, revocations, sign_edxml
from mocks.bus import BusClient, BusUnavailable

logger = logging.getLogger(__name__)

MAX_CRL_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Identity:
    """One agency's signing key and its certificate, then the certificate's chain."""

    key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]


def identities_of(given: Mapping[str, SecretStr]) -> dict[str, Identity]:
    """Each organ id's PEM bundle read: an RSA key, then its certificate and chain."""
    found = {}
    for organ_id, secret in given.items():
        pem = secret.get_secret_value().encode()
        # Handed over by its own provisioning: the costly check meant for keys from
        # strangers would cost ~30 ms per agency at every start.
        key = serialization.load_pem_private_key(
            pem, password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"the signing key of {organ_id} is not an RSA key")
        found[organ_id] = Identity(key, tuple(x509.load_pem_x509_certificates(pem)))
    return found


def signed_as(identities: Mapping[str, Identity], organ_id: str, data: bytes) -> bytes:
    """`data` signed by the agency `organ_id`; unchanged when this system holds no key of it."""
    identity = identities.get(organ_id)
    if identity is None:
        return data
    return sign_edxml(data, key=identity.key, chain=identity.chain)


class TrustSource:
    """The configured trust, plus the roots and CRL of the bus's CA, refreshed when stale."""

    def __init__(
        self,
        configured: Trust,
        bus: BusClient,
        *,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._configured = configured
        self._bus = bus
        self._refresh = refresh_seconds
        self._clock = clock
        self._fetched: Trust | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> Trust:
        return self._configured

    async def current(self) -> Trust:
        if not self._bus.connected:
            return self._configured
        async with self._lock:
            stale = self._clock() - self._fetched_at >= self._refresh
            if self._fetched is None or stale:
                try:
                    self._fetched = await self._fetch()
                    self._fetched_at = self._clock()
                except (BusUnavailable, ValueError) as error:  # keep the last good copy
                    logger.warning("the CA's roots or CRL could not be fetched: %s", error)
        fetched = self._fetched or Trust()
        return Trust(
            roots=(*self._configured.roots, *fetched.roots),
            revoked=self._configured.revoked | fetched.revoked,
            crls=(*self._configured.crls, *fetched.crls),
        )

    async def _fetch(self) -> Trust:
        published = await self._bus.fetch_public("ca/trust.pem", max_bytes=TRUST_BUNDLE_MAX_BYTES)
        roots = tuple(x509.load_pem_x509_certificates(published))
        crl = x509.load_der_x509_crl(
            await self._bus.fetch_public("ca/crl.der", max_bytes=MAX_CRL_BYTES)
        )
        if not any(crl_signed_by(crl, root) for root in roots):
            raise ValueError("the CRL is not signed by a root the bus publishes")
        # Kept whole, dates and all: a copy kept while the bus is away goes stale
        # (`crl_current`), and the roots an admin added carry theirs in trust.pem.
        added = crls_in(published.decode("ascii", "replace"))
        return Trust(roots=roots, revoked=revocations(crl), crls=(crl, *added))
