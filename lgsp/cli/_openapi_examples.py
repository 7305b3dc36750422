"""Examples for the service contracts, from the default seed's data (issue 5).

Each operation's example request is built here from the seed, for each province instance of
each era's built-in topology (a `Profile`): the citizens, dossiers, procedures, agencies and
communes that instance holds on a bus started with the default settings, so every identifier in
an instance's examples is one of its own that answers there (documents it exchanges go to the
next province of the topology, its `partner`). The example answers are what such a bus really
gives for those requests, in this order, on fresh data: `capture()` replays them on an
in-process bus of the era, and `lgsp openapi` stores requests and answers in
`lgsp/openapi_examples.json` (`lgsp.catalog.examples`), which the runtime contract endpoints
read, each for the instance serving it. Tests replay them again
and compare, and compare the stored requests with these, so neither can drift from the code.
Nothing here comes from outside the seeded, fictional data.

A build-time tool: the seeds come from the mocks, through the composition root.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from adapters import ADAPTERS
from adapters.qlvb import document_key
from formats.dates import parse_ddmmyyyy
from formats.edxml import render_edxml, render_status, response_for
from lgsp.auth.federation import NDXP_CLIENT_ID, federation_secret
from lgsp.auth.provisioning import system_client_id, system_secret
from lgsp.catalog.examples import (
    EXAMPLES_FILE,
    JSON,
    PUBLISHED,
    XML,
    Era,
    Example,
    ExampleAnswer,
    ExampleRequest,
    InstanceExamples,
    StoredExamples,
    load_examples,
    render_examples,
)
from lgsp.catalog.loader import load_catalog
from lgsp.composition import (
    ADMIN_UNITS,
    CENTRAL_AGENCIES,
    MOCK_SYSTEMS,
    PROCEDURES,
    PROVINCES,
    CitizenRecord,
    PlannedDossier,
    agencies_of,
    find_agency,
    generate_citizens,
    plan_dossiers,
    procedure_code_under,
    seeded_dossier_codes,
)
from lgsp.settings import Settings
from lgsp.topology import TOPOLOGIES

ERAS: tuple[Era, ...] = ("2026", "2024")
"""Today's map first: the published examples are of its first province."""

if TYPE_CHECKING:
    from lgsp.testing import LgspBus

__all__ = [
    "JSON",
    "XML",
    "Profile",
    "capture",
    "current_examples",
    "example_requests",
    "masked",
    "profiles",
    "published_examples",
    "refresh_examples",
    "replay",
    "same_answer",
    "url",
]

SEED: int = Settings.model_fields["seed"].default
POPULATION: int = Settings.model_fields["population"].default
DAYS: dict[Era, str] = {"2026": "2026-06-16", "2024": "2024-06-17"}
"""The documents' day in each era: in 2026 after 1 July 2025, when only today's agency codes
name anyone; in 2024 before it, when the seeded provinces' own codes do."""


@dataclass(frozen=True)
class Profile:
    """Whose examples: the province instance `instance` of `era`'s built-in topology, called
    through itself, exchanging documents with `partner`."""

    era: Era
    instance: str
    province_code: str
    """The instance's own code (today's in era 2026: 92 for Cần Thơ)."""
    here: str
    """The old province whose seeded records the instance holds (93 for Cần Thơ)."""
    partner: str
    there: str
    """The records the partner holds."""


def profiles(era: Era) -> tuple[Profile, ...]:
    """Every province instance of `era`'s built-in topology, in its order, each with the next
    one (the last with the first) as its partner."""
    provinces = [i for i in TOPOLOGIES[era].instances if i.kind == "province"]
    return tuple(
        Profile(
            era,
            instance.name,
            str(instance.province_code),
            str(instance.seed_code),
            partner.name,
            str(partner.seed_code),
        )
        for instance, partner in zip(provinces, provinces[1:] + provinces[:1], strict=True)
    )


def published_profile() -> Profile:
    """The examples of the published files under `openapi/` (`PUBLISHED`)."""
    era, name = PUBLISHED
    return next(p for p in profiles(era) if p.instance == name)


def url(profile: Profile, request: ExampleRequest) -> str:
    """Where the example is called, from the bus's root: at the profile's instance, or at the
    era's national one (`national`)."""
    path = request.path.format(**request.path_params)
    return f"{_base(profile, request)}/{request.service}/{request.version}{path}"


def _base(profile: Profile, request: ExampleRequest) -> str:
    topology = TOPOLOGIES[profile.era]
    spec = topology.national if request.national else topology.get(profile.instance)
    if spec is None:
        raise ValueError(f"the era {profile.era}'s topology has no instance for {request.key}")
    return spec.mount_path


def content(request: ExampleRequest) -> bytes | None:
    if request.body is None:
        return None
    if request.media_type == JSON:
        return json.dumps(request.body, ensure_ascii=False).encode("utf-8")
    return str(request.body).encode("utf-8")


def _citizen(era: Era, province_code: str, index: int) -> CitizenRecord:
    citizens = generate_citizens(province_code=province_code, seed=SEED, count=index + 1, era=era)
    return citizens[index]


def _organ(era: Era, province_code: str, index: int) -> dict[str, str]:
    """A body of the province in the era (in 2026 under the level-1 code of today's province)."""
    agency = agencies_of(province_code, era=era)[index]
    return {"organ_id": agency.organ_id, "organ_name": agency.name}


def _procedure_code(p: Profile, procedure_code: str) -> str:
    """The province's `MaTTHC` in the era, under the level-1 code its bodies carry then."""
    return procedure_code_under(procedure_code, agencies_of(p.here, era=p.era)[0].letter_code)


def _claim(citizen: CitizenRecord) -> dict[str, str]:
    born = parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)
    return {
        "cccd": citizen.so_dinh_danh,
        "full_name": citizen.ho_va_ten,
        "date_of_birth": born.isoformat(),
    }


def _get(
    service: str,
    operation: str,
    path: str,
    path_params: dict[str, str] | None = None,
    *,
    query: dict[str, str] | None = None,
    volatile: tuple[str, ...] = (),
    national: bool = False,
) -> ExampleRequest:
    return ExampleRequest(
        service,
        "v1",
        operation,
        "GET",
        path,
        path_params or {},
        query or {},
        volatile=volatile,
        national=national,
    )


def _post(
    service: str,
    operation: str,
    path: str,
    body: Any,
    path_params: dict[str, str] | None = None,
    *,
    volatile: tuple[str, ...] = (),
    national: bool = False,
) -> ExampleRequest:
    """A JSON body, or rendered edXML (bytes), shown in the contract as its text."""
    if isinstance(body, bytes):
        body, media_type = body.decode("utf-8"), XML
    else:
        media_type = JSON
    return ExampleRequest(
        service,
        "v1",
        operation,
        "POST",
        path,
        path_params or {},
        body=body,
        media_type=media_type,
        volatile=volatile,
        national=national,
    )


def _citizen_requests(service: str, citizen: CitizenRecord) -> Iterator[ExampleRequest]:
    cccd = {"cccd": citizen.so_dinh_danh}
    yield _get(service, "get_citizen", "/citizens/{cccd}", cccd)
    yield _get(service, "get_household", "/citizens/{cccd}/household", cccd)
    yield _post(service, "verify_citizen", "/citizens/verify", _claim(citizen))


def _document(
    p: Profile,
    sender: dict[str, str],
    number: str,
    notation: str,
    to: list[dict[str, str]],
    subject: str,
) -> dict[str, Any]:
    """A canonical document (README's shape) promulgated in the sender's province (at its
    seeded capital), signed by a seeded citizen of it; a central body's in the capital, signed
    by a seeded citizen of the profile's province."""
    if sender["organ_id"] in CENTRAL_AGENCIES:  # of no province
        place, province, position = CAPITAL, p.here, "Phó Chủ nhiệm"
    else:
        agency = find_agency(sender["organ_id"])
        if agency is None:  # the examples send only as agencies of the directory
            raise ValueError(f"no agency {sender['organ_id']} in the directory")
        province = agency.province_code
        place, position = PROVINCES[province].city, "Giám đốc"
    return {
        "from": sender,
        "to": to,
        "code": {"code_number": number, "code_notation": notation},
        "promulgation": {"place": place, "date": DAYS[p.era]},
        "document_type": {"type": 1, "type_name": "Công văn"},
        "subject": subject,
        "signer": {"position": position, "full_name": _citizen(p.era, province, 8).ho_va_ten},
        "other_info": {"priority": 0},
    }


def _document_id(document: Mapping[str, Any]) -> str:
    """edXML's DocumentId: sender, promulgation date and number/notation (formats.edxml)."""
    code = document["code"]
    date = document["promulgation"]["date"].replace("-", "/")
    return f"{document['from']['organ_id']},{date},{code['code_number']}/{code['code_notation']}"


def _status(
    p: Profile,
    document: Mapping[str, Any],
    reporter: dict[str, str],
    code: str,
    description: str = "Đã nhận văn bản",
) -> bytes:
    return render_status(
        {
            "response_for": response_for(document, _document_id(document)),
            "from": reporter,
            "status_code": code,
            "description": description,
            "timestamp": f"{DAYS[p.era]}T10:00:00",
        }
    )


@cache
def example_requests(p: Profile) -> tuple[ExampleRequest, ...]:
    """Every example call of `p`, in the order `capture()` makes them on fresh data."""
    found = [
        *_citizen_requests("dancu", _citizen(p.era, p.here, 0)),
        # the national database answers for every province: a citizen of the partner's
        *_citizen_requests("csdlqgdc", _citizen(p.era, p.there, 0)),
    ]
    found += _dvc_requests(p)
    found += _qlvb_requests(p)
    found += _vdxp_requests(p)
    found += _central_requests(p)
    found += _unit_requests(p)
    return tuple(found)


def _unit_requests(p: Profile) -> list[ExampleRequest]:
    """The commune where the seed's first household lives (An Giang: Phường Đông Hồ, Hà
    Tiên), and the unit of today it went into."""
    commune = _citizen(p.era, p.here, 0).thuong_tru.ma_phuong_xa
    old, new = {"code": commune}, {"code": ADMIN_UNITS.successors(commune)[0].code}
    return [
        _get("dmhc", "get_unit", "/units/{code}", old, query={"era": "2024"}),
        _get("dmhc", "get_successors", "/units/{code}/successors", old),
        _get("dmhc", "get_predecessors", "/units/{code}/predecessors", new),
    ]


_DOSSIER_TIMES = (
    "received_at",
    "due_at",
    "history.*.at",
    "history.*.started_at",
    "history.*.due_at",
)


def _seeded_dossiers(p: Profile) -> dict[str, tuple[str, PlannedDossier]]:
    """The seed's dossiers filed under the era's codes (in 2026 since the merger), by status."""
    codes = seeded_dossier_codes(province_code=p.here, seed=SEED, population=POPULATION, era=p.era)
    plans = plan_dossiers(province_code=p.here, seed=SEED, population=POPULATION, era=p.era)
    letter = agencies_of(p.here, era=p.era)[0].letter_code
    return {
        plan.status.name: (code, plan)
        for code, plan in zip(codes, plans, strict=True)
        if plan.agency_id.endswith(f".{letter}")
    }


def _dvc_requests(p: Profile) -> list[ExampleRequest]:
    dossiers = _seeded_dossiers(p)
    # refused after processing: a whole lifecycle behind it, all of it since the merger
    returned_code, returned = dossiers["REFUSED"]
    new, _ = dossiers["NEW"]
    received_code, received = dossiers["RECEIVED"]
    applicant = _citizen(p.era, p.here, 1)
    dossier = {"code": returned_code}
    filing = {
        "procedure_code": _procedure_code(p, PROCEDURES[0].code),
        "applicant": _claim(applicant),
        "summary": f"{PROCEDURES[0].name} cho con",
    }
    receipt = {
        "action": "receive",
        "actor": _citizen(p.era, p.here, 5).ho_va_ten,
        "position": "Cán bộ tiếp nhận",
    }
    by_applicant = {"applicant": returned.applicant.so_dinh_danh}
    # in era 2026 today's code, which covers the provinces merged into it (DVCQG's MaTinh)
    national = {"province": p.province_code, "status": returned.status.name.lower()}
    transitions, filed = "/dossiers/{code}/transitions", {"code": new}
    progress = "/dossiers/{code}/progress"
    created_times = ("code", "submitted_at", *_DOSSIER_TIMES)
    return [
        _get("dvc", "list_procedures", "/procedures", query={"q": "khai sinh"}),
        _get("dvc", "get_dossier", "/dossiers/{code}", dossier),
        _get("dvc", "list_dossiers", "/dossiers", query=by_applicant),
        _post("dvc", "create_dossier", "/dossiers", filing, volatile=created_times),
        _post("dvc", "transition_dossier", transitions, receipt, filed, volatile=_DOSSIER_TIMES),
        _get("dvcqg", "get_dossier", "/dossiers/{code}", dossier),
        _get("dvcqg", "list_dossiers", "/dossiers", query=national),
        _post("dvcqg", "sync_dossier", "/dossiers/sync", _sync(p, received_code, received)),
        _post(
            "dvcqg", "record_progress", progress, _progress(p, received), {"code": received_code}
        ),
        _get("dvcqg", "list_agencies", "/agencies", query={"province": p.province_code}),
        _get("dvcqg", "list_fields", "/fields"),
    ]


def _progress(p: Profile, plan: PlannedDossier) -> dict[str, Any]:
    """The entry OpenCPS sends after `_sync`'s (`CapNhatTienDoHoSoMC`): the department's
    handling of the dossier now being processed, the next step of its history."""
    at = plan.filed_at + timedelta(days=2)
    return {
        "step": 4,
        "progress": {
            "status": 4,
            "at": at.isoformat(),
            "actor": _citizen(p.era, p.here, 7).ho_va_ten,
            "position": "Chuyên viên xử lý",
            "department": "Bộ phận một cửa",
            "note": "Đã kiểm tra hồ sơ, chuyển lãnh đạo phê duyệt",
        },
    }


def _sync(p: Profile, code: str, plan: PlannedDossier) -> dict[str, Any]:
    """The provincial portal's sync of a seeded received dossier's next step: processing."""
    procedure = plan.procedure
    agency = find_agency(plan.agency_id)
    if agency is None:  # the seed files only with agencies of its directory
        raise ValueError(f"the seed's dossier names no known agency: {plan.agency_id}")
    received = plan.filed_at + timedelta(hours=1)
    started = received + timedelta(days=1)
    due = datetime.combine(plan.day + timedelta(days=7), time(17), tzinfo=received.tzinfo)
    applicant = plan.applicant
    return {
        "province_code": p.here,
        "step": 3,
        "dossier": {
            "code": code,
            "procedure": {
                "code": _procedure_code(p, procedure.code),
                "name": procedure.name,
            },
            "field": {"code": procedure.field.code, "name": procedure.field.name},
            "agency": {"id": agency.organ_id, "name": agency.name},
            "channel": "online",
            "applicant": {
                "kind": "citizen",
                "full_name": applicant.ho_va_ten,
                "identification": {"type": "cccd", "number": applicant.so_dinh_danh},
            },
            "summary": procedure.name,
            "status": 4,
            "submitted_at": plan.filed_at.isoformat(),
            "received_at": received.isoformat(),
            "due_at": due.isoformat(),
        },
        "progress": {
            "status": 4,
            "at": started.isoformat(),
            "actor": _citizen(p.era, p.here, 6).ho_va_ten,
            "position": "Chuyên viên xử lý",
            "action": "start_processing",
            "started_at": started.isoformat(),
            "due_at": due.isoformat(),
        },
    }


def _qlvb_requests(p: Profile) -> list[ExampleRequest]:
    here, there = partial(_organ, p.era, p.here), partial(_organ, p.era, p.there)
    local = _document(
        p, here(1), "42", "STP-VP", [here(3), there(1)], "V/v phối hợp thẩm định hồ sơ"
    )
    inbound = _document(p, there(1), "7", "STP-VP", [here(1)], "V/v xác minh hồ sơ liên tỉnh")
    key = {"id": document_key(_document_id(local))}
    report = {
        "organ_id": here(3)["organ_id"],
        "status_code": "01",
        "description": "Đã nhận văn bản",
    }
    # The newest item only: the document just sent. A successor's inbox also lists what was
    # sent to the body it succeeds before the merger, under its closed code (not new traffic).
    inbox = {"organ_id": here(3)["organ_id"], "size": "1"}
    inbox_times = ("items.*.received_at", *(f"items.*.{path}" for path in _CERTIFICATE))
    arrived = _status(p, local, there(1), "01")
    return [
        # The sender's system signs what it composes, with the certificate its CA issued it
        # on the bus's first start: serial and expiry differ from one data dir to another.
        _post("qlvb", "send_document", "/documents", local, volatile=_CERTIFICATE),
        _get("qlvb", "get_document", "/documents/{id}", key, volatile=_CERTIFICATE),
        # A status reported as JSON is signed by its reporter's system the same way.
        _post("qlvb", "post_status", "/documents/{id}/status", report, key, volatile=_CERTIFICATE),
        _get(
            "qlvb",
            "get_status",
            "/documents/{id}/recipients/{organ_id}/statuses/{n}",
            {**key, "organ_id": report["organ_id"], "n": "1"},
            # reported now, without a timestamp; signed with a certificate of this data dir
            volatile=("timestamp", "content_sha256", "content_length", *_CERTIFICATE),
        ),
        _get("qlvb", "get_inbox", "/documents/inbox", query=inbox, volatile=inbox_times),
        _post("qlvb", "receive_document", "/inbound/documents", render_edxml(inbound)),
        _post("qlvb", "receive_status", "/inbound/statuses", arrived),
        _get("qlvb", "list_organisations", "/organisations"),
    ]


def _vdxp_requests(p: Profile) -> list[ExampleRequest]:
    sender = _organ(p.era, p.here, 2)
    # To the partner's agency, and to VPCP: the axis puts it into VPCP's national inbox as it
    # records it (the central examples read it there), the recall below too.
    to = [_organ(p.era, p.there, 2), VPCP]
    document = _document(p, sender, "44", "SXD-VP", to, "V/v góp ý quy hoạch xây dựng")
    key = {"id": document_key(_document_id(document))}
    # Submitted at the instance, so reported by its own agency: the sender asks for a recall
    # (the axis takes a message only from its sender's province, issue 15).
    status = _status(p, document, sender, "13", "Đề nghị thu hồi văn bản")
    # The forwarding's state depends on how far the outbox got when the example was taken.
    trail_times = ("received_at", "statuses.*.received_at", "destinations.*.delivery")
    return [
        _post("vdxp", "submit_document", "/documents", render_edxml(document)),
        _post("vdxp", "submit_status", "/statuses", status, volatile=("received_at",)),
        _get("vdxp", "get_trail", "/documents/{id}", key, volatile=trail_times),
    ]


VPCP = {"organ_id": "000.00.00.G22", "organ_name": CENTRAL_AGENCIES["000.00.00.G22"]}
"""The central body the axis serves on every bus (DOMAIN.md §6.2): the central examples'."""
CAPITAL = "Hà Nội"
"""Where a central body promulgates."""
CENTRAL_MESSAGES = 2
"""What each profile's vdxp examples put into VPCP's national inbox: the document (edoc) and
its sender's recall of it (status). The inbox is one for the whole bus, so a profile's message
ids and total count those of the profiles before it, replayed in order."""


def _central_requests(p: Profile) -> list[ExampleRequest]:
    """VPCP's, at the national instance as a client bound to it: it sends a document to the
    People's Committee of the profile's province and recalls it, then reads the newest document
    of its national inbox (the profile's vdxp example, which the axis put there as it recorded
    it: nothing to wait for) and that message with its bytes."""
    before = next(i for i, other in enumerate(profiles(p.era)) if other == p)
    number = str(7816 + before)  # VPCP's own numbering, one document per province
    to = [_organ(p.era, p.here, 0)]
    document = _document(p, VPCP, number, "VPCP-TTĐT", to, "V/v triển khai cơ chế một cửa")
    recall = _status(p, document, VPCP, "13", "Đề nghị thu hồi văn bản")
    inbox = {"organ_id": VPCP["organ_id"], "size": "1"}
    message = {"id": str(before * CENTRAL_MESSAGES + 1)}  # the first of the profile's
    central = partial(_get, "vdxp", national=True)
    return [
        _post("vdxp", "send_central_document", "/central/documents", render_edxml(document),
              national=True),
        _post("vdxp", "send_central_status", "/central/statuses", recall,
              volatile=("received_at",), national=True),
        central("get_central_inbox", "/central/inbox", query=inbox,
                volatile=("items.*.received_at",)),
        central("get_central_message", "/central/inbox/{id}", message,
                query={"organ_id": VPCP["organ_id"]}, volatile=("received_at",)),
    ]  # fmt: skip


def replay(
    http: httpx.Client,
    profile: Profile,
    headers: Callable[[Profile, ExampleRequest], Mapping[str, str]],
) -> dict[str, ExampleAnswer]:
    """Make every example call of `profile` through `http` (the bus's root), in order, each
    with `headers(profile, request)`: the credentials of a client that may call it."""
    answers = {}
    for request in example_requests(profile):
        sent_headers = dict(headers(profile, request))
        if request.media_type is not None:
            sent_headers["Content-Type"] = request.media_type
        response = http.request(
            request.method,
            url(profile, request),
            params=request.query,
            content=content(request),
            headers=sent_headers,
        )
        answers[request.key] = ExampleAnswer(response.status_code, response.json())
    return answers


def capture(era: Era, database_url: str | None = None) -> dict[str, dict[str, ExampleAnswer]]:
    """Start a bus of `era` with the default seed and population on fresh data, and replay
    each profile of the era on it in turn: instance name → operation key → answer. No
    profile's calls touch what another's read (each sends to its partner's organs 1 and 2,
    reads the inbox of its own organ 3), so each answer is the one a fresh bus gives; but
    VPCP's national inbox, one for the bus, which holds the messages of the profiles before
    (`CENTRAL_MESSAGES`)."""
    from lgsp.testing import BusOptions, start_bus  # a whole bus: only when capturing

    with tempfile.TemporaryDirectory(prefix="lgsp-examples-") as directory:
        options = BusOptions(
            data_dir=Path(directory),
            seed=SEED,
            population=POPULATION,
            # Never the operator's LGSP_DATABASE_URL: the replay writes documents and dossiers.
            database_url=database_url or f"sqlite+aiosqlite:///{Path(directory) / 'lgsp.db'}",
            # Every instance of the era, whatever LGSP_ERA says.
            settings_overrides={"_env_file": None, "era": era},
        )
        with start_bus(options) as bus, bus.client() as http:
            headers = partial(_credentials, bus, _central_client(bus, http))
            return {p.instance: replay(http, p, headers) for p in profiles(era)}


def _central_client(bus: LgspBus, http: httpx.Client) -> dict[str, str]:
    """The credentials (`bus.token`'s options) of a client of the national instance bound to
    VPCP, made by its admin as `lgsp clients create --instance ndxp --organisation
    000.00.00.G22` makes one."""
    if bus.national is None:
        raise RuntimeError("the bus serves no national instance: no central examples")
    made = http.post(
        f"{bus.base_url(bus.national)}/admin/clients",
        json={"name": "VPCP", "rights": {"vdxp": "*"}, "organisation": VPCP["organ_id"]},
        headers=bus.headers(bus.national),
    )
    if made.status_code != 201:
        raise RuntimeError(f"no client for VPCP at {bus.national}: {made.text}")
    client = made.json()
    return {"client_id": client["client_id"], "client_secret": client["client_secret"]}


def _credentials(
    bus: LgspBus, central: Mapping[str, str], profile: Profile, request: ExampleRequest
) -> Mapping[str, str]:
    """The demo client's, but for operations only the bus's own clients call (issue 15): those
    of the client that calls them at the instance: NDXP for a provincial service (the axis
    delivering), else the embedded system granted the service (the portal syncing to DVCQG);
    and a central body's, `central`'s (a client bound to it at the national instance)."""
    if request.national and bus.national is not None:
        return bus.headers(bus.national, **central)
    instance = profile.instance
    catalog = load_catalog(bus.settings.catalog_dir, known_adapters=set(ADAPTERS))
    service = catalog.get(request.service, request.version)
    callers = {o.id: o.callers for o in service.operations} if service is not None else {}
    if service is None or callers.get(request.operation) != "system":
        return bus.headers(instance)
    shared = bus.settings.federation_secret.get_secret_value()
    if service.owner == "province":
        client_id = NDXP_CLIENT_ID
        secret = federation_secret(shared, instance=instance, client_id=client_id)
    else:
        system = next(n for n, s in MOCK_SYSTEMS.items() if request.service in s.bus_rights)
        client_id = system_client_id(system)
        secret = system_secret(bus.settings, instance=instance, system=system)
    return bus.headers(instance, client_id=client_id, client_secret=secret)


_CERTIFICATE = ("signature.serial", "signature.not_after")


def masked(value: Any, paths: tuple[str, ...]) -> Any:
    """`value` with the members at `paths` replaced by a marker (see `volatile`)."""
    for path in paths:
        value = _mask(value, path.split("."))
    return value


def _mask(value: Any, parts: list[str]) -> Any:
    if not parts:
        return "<set by the clock>"
    head, rest = parts[0], parts[1:]
    if head == "*" and isinstance(value, list):
        return [_mask(item, rest) for item in value]
    if isinstance(value, dict) and head in value:
        return {**value, head: _mask(value[head], rest)}
    return value


def current_examples(path: Path = EXAMPLES_FILE) -> StoredExamples:
    """The requests of every profile as built from the seed now, with the answers stored for
    them."""
    stored = load_examples(path)
    current: StoredExamples = {}
    for era in ERAS:
        for p in profiles(era):
            kept = stored.get(era, {}).get(p.instance)
            answers = {} if kept is None else kept.examples
            current.setdefault(era, {})[p.instance] = InstanceExamples(
                p.here,
                {
                    r.key: Example(r, answers[r.key].answer if r.key in answers else None)
                    for r in example_requests(p)
                },
            )
    return current


def published_examples(path: Path = EXAMPLES_FILE) -> Mapping[str, Example]:
    """The examples of the published files (`PUBLISHED`), their answers as stored."""
    era, name = PUBLISHED
    return current_examples(path)[era][name].examples


def refresh_examples(path: Path = EXAMPLES_FILE) -> None:
    """Capture the answers again and store them with their requests; keep a stored answer
    whose only change is the clock's, so that regenerating the contracts on another day
    changes no file."""
    stored = current_examples(path)
    for era in ERAS:
        fresh = capture(era)
        for name, kept in stored[era].items():
            examples: dict[str, Example] = {}
            for key, example in kept.examples.items():
                answer, before = fresh[name][key], example.answer
                if before is not None and same_answer(before, answer, example.request.volatile):
                    answer = before
                examples[key] = Example(example.request, answer)
            stored[era][name] = InstanceExamples(kept.records_code, examples)
    path.write_text(render_examples(stored), encoding="utf-8")


def same_answer(a: ExampleAnswer, b: ExampleAnswer, volatile: tuple[str, ...]) -> bool:
    return a.status == b.status and masked(a.body, volatile) == masked(b.body, volatile)
