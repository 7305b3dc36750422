"""`{base}/ca/…` (anyone) and `{base}/admin/ca/…` (admins): the test CA as a service of the bus.

Who may call what:
- the root, the CRL and the trusted roots: anyone, without a token, as the government CA
  publishes its own (its CRL is fetched by every verifier);
- issuing and revoking: an admin of the instance, for the organisations its systems serve; the
  bus-wide admin (the demo client), for the organisations of every instance of the process;
- adding another trusted root, which every document system then trusts: the bus-wide admin only.

The CA is one for the whole bus (one government CA): every instance publishes the same root.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Response

from lgsp.ca import tasks
from lgsp.ca.authority import certificate_pem, organ_id_of
from lgsp.ca.schemas import CertificateList, CertificateOut, IssuedOut, IssueIn, RootIn, RootOut
from lgsp.ca.store import Record
from lgsp.deps import AdminDep, BusDep, InstanceDep, admin_router, is_bus_admin
from lgsp.errors import (
    AccessDenied,
    BadCertificate,
    BadPassword,
    BusAdminRequired,
    CertificateNotFound,
    UnknownOrganisation,
    problem_responses,
)
from lgsp.routing.systems import organisations
from lgsp.state import BusState, InstanceState

PEM = "application/x-pem-file"
CRL = "application/pkix-crl"  # RFC 2585 §4.2

public = APIRouter(prefix="/ca", tags=["certification authority"])
router = admin_router("/admin/ca")


@public.get("/root.pem", response_class=Response, responses={200: {"content": {PEM: {}}}})
async def root_pem(bus: BusDep) -> Response:
    """The test CA's root certificate (PEM)."""
    return Response(certificate_pem(bus.ca.root(now=_now())), media_type=PEM)


@public.get("/crl.der", response_class=Response, responses={200: {"content": {CRL: {}}}})
async def crl_der(bus: BusDep) -> Response:
    """The root's certificate revocation list, DER (RFC 5280 §5), made afresh on each call."""
    crl = bus.ca.crl(now=_now())
    return Response(crl.public_bytes(serialization.Encoding.DER), media_type=CRL)


@public.get("/crl.pem", response_class=Response, responses={200: {"content": {PEM: {}}}})
async def crl_pem(bus: BusDep) -> Response:
    """The same CRL, PEM."""
    crl = bus.ca.crl(now=_now())
    return Response(crl.public_bytes(serialization.Encoding.PEM), media_type=PEM)


@public.get("/trust.pem", response_class=Response, responses={200: {"content": {PEM: {}}}})
async def trust_pem(bus: BusDep) -> Response:
    """Every root the document systems trust signers under: the test CA's, then those an admin
    added."""
    return Response(bus.ca.trust_pem(now=_now()), media_type=PEM)


@router.post(
    "/certificates",
    status_code=201,
    responses=problem_responses(UnknownOrganisation, BadPassword, AccessDenied),
)
async def issue(bus: BusDep, instance: InstanceDep, admin: AdminDep, body: IssueIn) -> IssuedOut:
    """Issue an organisation a signing certificate and a new key: PEM (the key encrypted with
    the password) and PKCS#12. The key is shown this once."""
    bus_wide = _directory(bus, instance, bus_wide=True)
    if body.organ_id in bus_wide and body.organ_id not in _directory(
        bus, instance, bus_wide=is_bus_admin(admin, bus.settings)
    ):
        raise AccessDenied(
            f"Client {admin.client_id} administers {instance.spec.name}: {body.organ_id} is an "
            "organisation of another instance; its admin, or the bus-wide admin, issues to it."
        )
    return tasks.issue_certificate(
        bus.ca,
        bus_wide,
        body.organ_id,
        body.password.get_secret_value(),
        now=_now(),
        era=bus.settings.era,
    )


@router.get("/certificates")
async def list_certificates(bus: BusDep, instance: InstanceDep, admin: AdminDep) -> CertificateList:
    """The certificates issued to the organisations this admin may act for, newest first."""
    directory = _directory(bus, instance, bus_wide=is_bus_admin(admin, bus.settings))
    records = [r for r in bus.ca.records() if _organ_id(r) in directory]
    return CertificateList(certificates=[tasks.describe(r) for r in records])


@router.post(
    "/certificates/{serial}/revoke",
    responses=problem_responses(CertificateNotFound, AccessDenied),
)
async def revoke(
    bus: BusDep, instance: InstanceDep, admin: AdminDep, serial: str
) -> CertificateOut:
    """Revoke a certificate: the CRL lists it from now on, and signatures made with it are
    `revoked`. Revoking it again answers the first revocation."""
    record = tasks.find_certificate(bus.ca, serial)
    if _organ_id(record) not in _directory(
        bus, instance, bus_wide=is_bus_admin(admin, bus.settings)
    ):
        raise AccessDenied(
            f"Client {admin.client_id} administers {instance.spec.name}: certificate {serial} "
            "belongs to an organisation of another instance."
        )
    return tasks.revoke_certificate(bus.ca, record, now=_now())


@router.post(
    "/roots",
    responses=problem_responses(BusAdminRequired, BadCertificate),
)
async def add_root(bus: BusDep, admin: AdminDep, body: RootIn) -> RootOut:
    """Trust another root (a vendor's test chain) in every document system of the bus, with
    its CRLs if given (which replace those it carried)."""
    if not is_bus_admin(admin, bus.settings):
        raise BusAdminRequired(
            f"Client {admin.client_id} administers one instance; a root is trusted by every "
            "document system of the bus, so only the bus-wide admin may add one."
        )
    return tasks.add_root(bus.ca, body.certificate_pem, crls_pem=body.crls_pem)


def _directory(bus: BusState, instance: InstanceState, *, bus_wide: bool) -> dict[str, str]:
    """The organisations the caller may act for: organ id → name."""
    instances = [i.spec for i in bus.instances.values()] if bus_wide else [instance.spec]
    return organisations(bus.systems, instances, bus.settings, provinces=bus.topology.provinces)


def _organ_id(record: Record) -> str:
    return organ_id_of(record.certificate) or ""


def _now() -> datetime:
    return datetime.now(UTC)
