"""The composition root: the gateway wired to the mock systems. The one `lgsp` module that
imports `mocks`.

The gateway (`lgsp.app.create_app`) runs whatever embedded systems it is handed; this module
hands it the mocks (`MOCK_SYSTEMS`) and offers the wired bus, `create_bus`, which every caller
that wants the whole bus uses: `lgsp serve` and its workers, the pytest plugin, the published
examples, the benchmarks and the tests. The mocks stay systems outside the bus (DESIGN.md §3):
this module translates what the bus tells an embedded system (`SystemContext`) into what a mock
is configured with (`mocks.config.SystemConfig`), and nothing in the mocks knows the gateway.

Tools that build on the mocks' seeded data (the examples of the published contracts,
`lgsp.cli._openapi_examples`) find it here too, so that this module lists everything the
gateway package takes from `mocks`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from lgsp.app import OnReady, create_app
from lgsp.auth.keys import KeyForge
from lgsp.ca.authority import certificate_pem, key_pem
from lgsp.ca.store import CertificateAuthority
from lgsp.routing.systems import EmbeddedSystem, SystemContext, SystemRegistry
from lgsp.settings import Settings
from mocks.config import SystemConfig
from mocks.csdlqgdc.app import create_app as create_csdlqgdc_app
from mocks.csdlqgdc.app import sample_numbers as national_citizen_samples
from mocks.dancu.app import create_app as create_dancu_app
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.direct import direct_answers
from mocks.directory.admin_units import ADMIN_UNITS
from mocks.directory.agencies import AGENCIES, agencies_of
from mocks.dmhc.app import create_app as create_dmhc_app
from mocks.dvc.app import create_app as create_dvc_app
from mocks.dvc.procedures import PROCEDURES, procedure_code_under, provincial_procedure_code
from mocks.dvc.seed import PlannedDossier, plan_dossiers, seeded_dossier_codes
from mocks.dvcqg.app import create_app as create_dvcqg_app
from mocks.dvcqg.seed import sample_dossiers as national_dossier_samples
from mocks.qlvb.app import create_app as create_qlvb_app
from mocks.vdxp.app import create_app as create_vdxp_app

__all__ = [
    "AGENCIES",
    "MOCK_SYSTEMS",
    "PROCEDURES",
    "CitizenRecord",
    "PlannedDossier",
    "create_bus",
    "generate_citizens",
    "mock_config",
    "plan_dossiers",
    "provincial_procedure_code",
    "seeded_dossier_codes",
]


def mock_config(context: SystemContext, system: str | None = None) -> SystemConfig:
    """What a mock is told when the bus runs it: its instance, the seed, the database of the
    systems (`Settings.systems_database_url`), and, for a mock that calls services through its
    LGSP, its client there and the dialect the topology gives `system` to call it in."""
    instance, settings = context.instance, context.settings
    config = SystemConfig(
        instance=instance.name,
        province_code=instance.seed_code,
        province_name=instance.title.removeprefix("LGSP "),
        era=settings.era,
        provinces=dict(context.provinces),
        seed=settings.seed,
        population=settings.population,
        database_url=settings.systems_database_url,
        trusted_roots_pem=(
            settings.trusted_roots_file.read_text(encoding="ascii")
            if settings.trusted_roots_file is not None
            else ""
        ),
        signature_policy=settings.signature_policies.get(instance.name, "report"),
        trust_refresh_seconds=settings.crl_cache_seconds,
        sole_writer=settings.workers == 1
        and make_url(settings.systems_database_url).get_backend_name() == "sqlite",
    )
    if context.bus is None:
        return config
    spec = instance.system(system) if system is not None else None
    return config.model_copy(
        update={
            "bus_url": context.bus.base_url,
            "bus_client_id": context.bus.client_id,
            "bus_client_secret": SecretStr(context.bus.client_secret),
            "bus_dialect": spec.dialect if spec is not None else "bus",
        }
    )


def _agencies(context: SystemContext) -> dict[str, str]:
    """The agencies a province's document system serves: organ id → name."""
    agencies = AGENCIES.get(context.instance.seed_code or "", ())
    return {agency.organ_id: agency.name for agency in agencies}


def _document_system_config(context: SystemContext) -> SystemConfig:
    """A document system's configuration, with a key and certificate for each of its agencies
    from the bus's test CA: handed to it at provisioning, as an agency's token is handed to
    its clerks (the mock never reaches into the bus for them)."""
    config = mock_config(context)
    if not context.settings.mocks_sign:
        return config
    ca = CertificateAuthority(context.settings.data_dir)
    now = datetime.now(UTC)
    root = certificate_pem(ca.root(now=now))
    identities = {
        organ_id: SecretStr((key_pem(i.key) + certificate_pem(i.certificate) + root).decode())
        for organ_id, i in ca.ensure_all(_agencies(context), now=now).items()
    }
    return config.model_copy(update={"signing_identities": identities})


def _citizen_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    config = mock_config(context)
    if config.province_code is None:
        return {}
    citizens = generate_citizens(
        province_code=config.province_code, seed=config.seed, count=min(count, config.population)
    )
    return {"cccd": [citizen.so_dinh_danh for citizen in citizens]}


def _dvc_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    config = mock_config(context)
    if config.province_code is None:
        return {}
    letter = agencies_of(config.province_code, era=config.era)[0].letter_code
    return {
        # under the level-1 code of the era's bodies today (H01 in 2026, H33 in 2024)
        "procedure": [
            procedure_code_under(procedure.code, letter) for procedure in PROCEDURES[:count]
        ],
        "dossier": seeded_dossier_codes(
            province_code=config.province_code,
            seed=config.seed,
            population=config.population,
            era=config.era,
        )[:count],
    }


def _organisation_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    """The bodies of the instance's province today (in era 2024, the seeded ones)."""
    code = context.instance.seed_code or ""
    if code not in AGENCIES:
        return {"organ_id": []}
    agencies = agencies_of(code, era=context.settings.era)
    return {"organ_id": [agency.organ_id for agency in agencies][:count]}


def _national_citizen_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    return national_citizen_samples(mock_config(context), count)


def _national_dossier_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    return national_dossier_samples(mock_config(context), count)


def _unit_samples(context: SystemContext, count: int) -> dict[str, list[str]]:
    """Old units the seed uses: each has today's successors (`/units/{code}/successors`)."""
    return {"unit_code": sorted(ADMIN_UNITS.ward_successors)[:count]}


def _bus(context: SystemContext) -> httpx.AsyncBaseTransport | None:
    """How a mock that calls the bus reaches it: in-process, when the bus runs the mock."""
    return context.bus.transport if context.bus is not None else None


MOCK_SYSTEMS: SystemRegistry = {
    "dancu": EmbeddedSystem(
        lambda context: create_dancu_app(mock_config(context)),
        samples=_citizen_samples,
        direct=direct_answers,  # the citizen lookup, called without ASGI (issue 21)
    ),
    "dvc": EmbeddedSystem(
        lambda context: create_dvc_app(mock_config(context, "dvc"), bus_transport=_bus(context)),
        # verifies applicants in the citizen database (non-residents in the national one,
        # through NDXP); syncs every status change to DVCQG (in the OpenCPS dialect, looking
        # each dossier up first: TraCuuHoSo)
        bus_rights={"dancu": "POST", "csdlqgdc": "POST", "dvcqg": "GET,POST"},
        samples=_dvc_samples,
    ),
    "qlvb": EmbeddedSystem(
        lambda context: create_qlvb_app(
            _document_system_config(context), bus_transport=_bus(context)
        ),
        # Documents and statuses for other provinces; the national trail of what it sent, for
        # the sender's trace of a document the axis could not forward (issue 17).
        bus_rights={"vdxp": "GET,POST"},
        samples=_organisation_samples,
        organisations=_agencies,
    ),
    "csdlqgdc": EmbeddedSystem(
        lambda context: create_csdlqgdc_app(mock_config(context)),
        samples=_national_citizen_samples,
    ),
    "dmhc": EmbeddedSystem(
        lambda context: create_dmhc_app(mock_config(context)), samples=_unit_samples
    ),
    "dvcqg": EmbeddedSystem(
        lambda context: create_dvcqg_app(mock_config(context)),
        samples=_national_dossier_samples,
    ),
    "vdxp": EmbeddedSystem(
        lambda context: create_vdxp_app(mock_config(context), bus_transport=_bus(context)),
        bus_rights={"qlvb": "POST"},  # hands documents and statuses to the recipient's province
    ),
}
"""Every mock system, by the name topology files give it."""


def create_bus(
    settings: Settings | None = None,
    *,
    instances: list[str] | None = None,
    on_ready: OnReady | None = None,
    forge: KeyForge | None = None,
) -> FastAPI:
    """The bus with its mock systems: `create_app` handed `MOCK_SYSTEMS`."""
    return create_app(
        settings, systems=MOCK_SYSTEMS, instances=instances, on_ready=on_ready, forge=forge
    )
