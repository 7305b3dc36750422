"""What every mock system is told when it is built: whose system it is and how to seed it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi.telemetry import TelemetryConfig
from pydantic import BaseModel, Field, SecretStr, StringConstraints

from formats.codes import CENTRAL_ORGAN_ID

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""Every mock's `FastAPI(telemetry=...)`: FastAPI's OpenTelemetry bridge asks the global
providers on every call, ~3% of a mock's CPU (issue 21), for systems that export no telemetry.
The bus sets the same for itself (`lgsp.app`); mocks import nothing of the bus."""


class SystemConfig(BaseModel):
    """One mock system's configuration; every `mocks/*/app.py:create_app` takes exactly this."""

    instance: str = Field(description="Name of the bus instance that owns the system.")
    province_code: str | None = Field(
        default=None,
        pattern=r"^\d{2}$",
        description="Legacy (pre-2025) 2-digit province code, e.g. '91' for Kiên Giang.",
    )
    province_name: str | None = None
    era: Literal["2026", "2024"] = Field(
        default="2024",
        description="Addresses as today's units (2026: no districts, the old ones in a `legacy` "
        "block) or as the seeded records were made (2024).",
    )
    provinces: dict[str, str] = Field(
        default_factory=dict,
        description="Every province of the topology: legacy 2-digit code → instance name. "
        "National systems serve them all; a province's systems find where other provinces are.",
    )
    central_agencies: dict[
        Annotated[str, StringConstraints(pattern=CENTRAL_ORGAN_ID)],
        Annotated[str, StringConstraints(min_length=1, max_length=200)],
    ] = Field(
        default_factory=dict,
        description="Central bodies beside VPCP (000.00.00.G22, sourced): organ id (its last "
        "group G and two digits) → name, served by the national document axis itself "
        "(assigned: the sources list no other central code with its body).",
    )
    national_instance: str = Field(
        default="ndxp",
        description="The bus instance of the national systems, whose axis serves central "
        "bodies: where a province's document system addresses them.",
    )
    seed: int = Field(default=0, description="Same seed, same data.")
    population: int = Field(default=200, ge=1, le=100_000)
    database_url: str | None = Field(
        default=None,
        description="Async SQLAlchemy URL where a stateful mock keeps its data; the bus passes "
        "its own. Stateless mocks (dancu) ignore it.",
    )
    bus_url: str | None = Field(
        default=None,
        description="Base URL of the LGSP instance this system calls services through, e.g. "
        "http://127.0.0.1:8000/lgsp/kiengiang (a real DVC calls the citizen database so).",
    )
    bus_client_id: str | None = Field(
        default=None, description="The system's own client on that LGSP (client credentials)."
    )
    bus_client_secret: SecretStr | None = None
    bus_dialect: Literal["bus", "opencps"] = Field(
        default="bus",
        description="How the system calls its LGSP: the bus's own dialect, or (the DVC portal "
        "only) the OpenCPS DVCQG protocol at `{bus_url}/opencps`, as a provincial one-stop "
        "system syncs to the national portal.",
    )
    trusted_roots_pem: str = Field(
        default="",
        description="PEM certificates of the roots a document system trusts signers under (the "
        "government CA's, a vendor's test chain), and any PEM CRLs of the CAs under them (X509 "
        "CRL blocks): a CRL counts only for a certificate whose issuer on a validated path "
        "signed it. Empty: every signature is `untrusted`.",
    )
    revoked_serials: list[str] = Field(
        default_factory=list,
        description="Hex serials of signing certificates the roots' CRLs revoke (revoked "
        "under each root of `trusted_roots_pem`: a serial is unique per issuer only).",
    )
    trust_refresh_seconds: float = Field(
        default=5.0,
        ge=0,
        le=86_400,
        description="How long a document system keeps the roots and the CRL it fetched from its "
        "bus's CA (`{bus_url}/ca/trust.pem`, `/ca/crl.der`) before fetching them again "
        "(assigned: 5 s; 0 fetches them for every check).",
    )
    signing_identities: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Per organ id, the PEM private key and certificate (then its chain) the "
        "organisation signs with, as its CA issued them: a document system signs, as the "
        "sending agency, the documents it composes.",
    )
    sole_writer: bool = Field(
        default=False,
        description="Only this process writes the system's rows, so a reset may leave alone a "
        "mock that nothing has changed since the last reset (`mocks.db.ChangeWatch` sees one "
        "process only). Off: every reset deletes and seeds again, as with several processes "
        "on one database.",
    )
    clock_skew_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="How far ahead of the document system's (and the axis's) clock a document's "
        "PromulgationDate, a status message's Timestamp or a TraceHeader's Timestamp may be "
        "before it is refused as future-dated (INVALID_EDXML, rule future_dated; assigned: "
        "300 s, the sources are silent); the national portal's, a progress entry's time.",
    )
    signature_policy: Literal["report", "refuse"] = Field(
        default="report",
        description="What the document system does with a document whose signature is not "
        "valid: take it and report the verdict, or refuse it (SIGNATURE_INVALID).",
    )
