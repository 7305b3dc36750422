"""Examples for the published service contracts, from the default seed's data (issue 5).

Each operation's example request is built here from the seed: the citizens, dossiers,
procedures and agencies a bus started with the default settings holds, in the default era
(today's provinces and agency codes), so every identifier in an example is one that answers
on the bus an integrator starts. The example answers are what such a bus really gives for those
requests, in this order, on fresh data: `capture()` replays them on an in-process bus, and
`lgsp openapi` stores requests and answers in `lgsp/openapi_examples.json`
(`lgsp.catalog.examples`), which the runtime contract endpoint reads. Tests replay them again
and compare, and compare the stored requests with these, so neither can drift from the code.
Nothing here comes from outside the seeded, fictional data.

A build-time tool: the seeds come from the mocks, through the composition root.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
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
    XML,
    Example,
    ExampleAnswer,
    ExampleRequest,
    load_examples,
    render_examples,
)
from lgsp.catalog.loader import load_catalog
from lgsp.composition import (
    MOCK_SYSTEMS,
    PROCEDURES,
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

if TYPE_CHECKING:
    from lgsp.testing import LgspBus

__all__ = [
    "JSON",
    "XML",
    "capture",
    "current_examples",
    "example_requests",
    "masked",
    "refresh_examples",
    "replay",
    "same_answer",
]

ERA = Settings.model_fields["era"].default
"""The default era's bus, the one `lgsp serve` starts: today's provinces and agency codes."""
INSTANCE = "angiang"
"""Examples are called as the documents' `servers` say: through LGSP An Giang."""
INSTANCES = ["ndxp", INSTANCE, "dongthap"]
"""An Giang, NDXP behind it, and Đồng Tháp for documents that cross provinces."""
HERE, THERE = "91", "82"  # the seeded records An Giang and Đồng Tháp hold (ex-Kiên/Tiền Giang)
SEED: int = Settings.model_fields["seed"].default
POPULATION: int = Settings.model_fields["population"].default
TODAY = "2026-06-16"
"""The documents' day: after 1 July 2025, when only today's agency codes name anyone."""


def url(request: ExampleRequest) -> str:
    """Where the example is called, from the bus's root."""
    path = request.path.format(**request.path_params)
    return f"/lgsp/{INSTANCE}/{request.service}/{request.version}{path}"


def content(request: ExampleRequest) -> bytes | None:
    if request.body is None:
        return None
    if request.media_type == JSON:
        return json.dumps(request.body, ensure_ascii=False).encode("utf-8")
    return str(request.body).encode("utf-8")


def _citizen(province_code: str, index: int) -> CitizenRecord:
    citizens = generate_citizens(province_code=province_code, seed=SEED, count=index + 1, era=ERA)
    return citizens[index]


def _organ(province_code: str, index: int) -> dict[str, str]:
    """A body of the province today (its level-1 code the one it kept in the 2025 merger)."""
    agency = agencies_of(province_code, era=ERA)[index]
    return {"organ_id": agency.organ_id, "organ_name": agency.name}


def _procedure_code(procedure_code: str) -> str:
    """The province's `MaTTHC` today, under the level-1 code its bodies carry now."""
    return procedure_code_under(procedure_code, agencies_of(HERE, era=ERA)[0].letter_code)


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
) -> ExampleRequest:
    return ExampleRequest(
        service, "v1", operation, "GET", path, path_params or {}, query or {}, volatile=volatile
    )


def _post(
    service: str,
    operation: str,
    path: str,
    body: Any,
    path_params: dict[str, str] | None = None,
    *,
    volatile: tuple[str, ...] = (),
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
    )


def _citizen_requests(service: str, citizen: CitizenRecord) -> Iterator[ExampleRequest]:
    cccd = {"cccd": citizen.so_dinh_danh}
    yield _get(service, "get_citizen", "/citizens/{cccd}", cccd)
    yield _get(service, "get_household", "/citizens/{cccd}/household", cccd)
    yield _post(service, "verify_citizen", "/citizens/verify", _claim(citizen))


def _document(
    sender: dict[str, str], number: str, notation: str, to: list[dict[str, str]], subject: str
) -> dict[str, Any]:
    """A canonical document (README's shape), signed by a seeded citizen."""
    return {
        "from": sender,
        "to": to,
        "code": {"code_number": number, "code_notation": notation},
        "promulgation": {"place": "Rạch Giá", "date": TODAY},
        "document_type": {"type": 1, "type_name": "Công văn"},
        "subject": subject,
        "signer": {"position": "Giám đốc", "full_name": _citizen(HERE, 8).ho_va_ten},
        "other_info": {"priority": 0},
    }


def _document_id(document: Mapping[str, Any]) -> str:
    """edXML's DocumentId: sender, promulgation date and number/notation (formats.edxml)."""
    code = document["code"]
    date = document["promulgation"]["date"].replace("-", "/")
    return f"{document['from']['organ_id']},{date},{code['code_number']}/{code['code_notation']}"


def _status(
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
            "timestamp": f"{TODAY}T10:00:00",
        }
    )


@cache
def example_requests() -> tuple[ExampleRequest, ...]:
    """Every example call, in the order `capture()` makes them on fresh data."""
    found = [
        *_citizen_requests("dancu", _citizen(HERE, 0)),
        *_citizen_requests("csdlqgdc", _citizen(THERE, 0)),
    ]
    found += _dvc_requests()
    found += _qlvb_requests()
    found += _vdxp_requests()
    found += _unit_requests()
    return tuple(found)


def _unit_requests() -> list[ExampleRequest]:
    """Phường Đông Hồ (Hà Tiên), where the seed's first household lives, and what it became."""
    old, new = {"code": "30769"}, {"code": "30742"}
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


def _seeded_dossiers() -> dict[str, tuple[str, PlannedDossier]]:
    """The seed's dossiers filed since the merger (under today's codes), by status name."""
    codes = seeded_dossier_codes(province_code=HERE, seed=SEED, population=POPULATION, era=ERA)
    plans = plan_dossiers(province_code=HERE, seed=SEED, population=POPULATION, era=ERA)
    letter = agencies_of(HERE, era=ERA)[0].letter_code
    return {
        plan.status.name: (code, plan)
        for code, plan in zip(codes, plans, strict=True)
        if plan.agency_id.endswith(f".{letter}")
    }


def _dvc_requests() -> list[ExampleRequest]:
    dossiers = _seeded_dossiers()
    # refused after processing: a whole lifecycle behind it, all of it since the merger
    returned_code, returned = dossiers["REFUSED"]
    new, _ = dossiers["NEW"]
    received_code, received = dossiers["RECEIVED"]
    applicant = _citizen(HERE, 1)
    dossier = {"code": returned_code}
    filing = {
        "procedure_code": _procedure_code(PROCEDURES[0].code),
        "applicant": _claim(applicant),
        "summary": f"{PROCEDURES[0].name} cho con",
    }
    receipt = {
        "action": "receive",
        "actor": _citizen(HERE, 5).ho_va_ten,
        "position": "Cán bộ tiếp nhận",
    }
    by_applicant = {"applicant": returned.applicant.so_dinh_danh}
    national = {"province": HERE, "status": returned.status.name.lower()}
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
        _post("dvcqg", "sync_dossier", "/dossiers/sync", _sync(received_code, received)),
        _post("dvcqg", "record_progress", progress, _progress(received), {"code": received_code}),
        _get("dvcqg", "list_agencies", "/agencies", query={"province": HERE}),
        _get("dvcqg", "list_fields", "/fields"),
    ]


def _progress(plan: PlannedDossier) -> dict[str, Any]:
    """The entry OpenCPS sends after `_sync`'s (`CapNhatTienDoHoSoMC`): the department's
    handling of the dossier now being processed, the next step of its history."""
    at = plan.filed_at + timedelta(days=2)
    return {
        "step": 4,
        "progress": {
            "status": 4,
            "at": at.isoformat(),
            "actor": _citizen(HERE, 7).ho_va_ten,
            "position": "Chuyên viên xử lý",
            "department": "Bộ phận một cửa",
            "note": "Đã kiểm tra hồ sơ, chuyển lãnh đạo phê duyệt",
        },
    }


def _sync(code: str, plan: PlannedDossier) -> dict[str, Any]:
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
        "province_code": HERE,
        "step": 3,
        "dossier": {
            "code": code,
            "procedure": {
                "code": _procedure_code(procedure.code),
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
            "actor": _citizen(HERE, 6).ho_va_ten,
            "position": "Chuyên viên xử lý",
            "action": "start_processing",
            "started_at": started.isoformat(),
            "due_at": due.isoformat(),
        },
    }


def _qlvb_requests() -> list[ExampleRequest]:
    local = _document(
        _organ(HERE, 1),
        "42",
        "STP-VP",
        [_organ(HERE, 3), _organ(THERE, 1)],
        "V/v phối hợp thẩm định hồ sơ",
    )
    inbound = _document(
        _organ(THERE, 1), "7", "STP-VP", [_organ(HERE, 1)], "V/v xác minh hồ sơ liên tỉnh"
    )
    inbound["promulgation"]["place"] = "Mỹ Tho"  # promulgated in Đồng Tháp (its centre)
    key = {"id": document_key(_document_id(local))}
    report = {
        "organ_id": _organ(HERE, 3)["organ_id"],
        "status_code": "01",
        "description": "Đã nhận văn bản",
    }
    inbox, inbox_times = {"organ_id": _organ(HERE, 3)["organ_id"]}, ("items.*.received_at",)
    arrived = _status(local, _organ(THERE, 1), "01")
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


def _vdxp_requests() -> list[ExampleRequest]:
    document = _document(
        _organ(HERE, 2), "44", "SXD-VP", [_organ(THERE, 2)], "V/v góp ý quy hoạch xây dựng"
    )
    key = {"id": document_key(_document_id(document))}
    # Submitted at An Giang, so reported by its own agency: the sender asks for a recall
    # (the axis takes a message only from its sender's province, issue 15).
    status = _status(document, _organ(HERE, 2), "13", "Đề nghị thu hồi văn bản")
    # The forwarding's state depends on how far the outbox got when the example was taken.
    trail_times = ("received_at", "statuses.*.received_at", "destinations.*.delivery")
    return [
        _post("vdxp", "submit_document", "/documents", render_edxml(document)),
        _post("vdxp", "submit_status", "/statuses", status, volatile=("received_at",)),
        _get("vdxp", "get_trail", "/documents/{id}", key, volatile=trail_times),
    ]


def replay(
    http: httpx.Client, headers: Callable[[ExampleRequest], Mapping[str, str]]
) -> dict[str, ExampleAnswer]:
    """Make every example call through `http` (the bus's root), in order, each with
    `headers(request)`: the credentials of a client that may call it."""
    answers = {}
    for request in example_requests():
        sent_headers = dict(headers(request))
        if request.media_type is not None:
            sent_headers["Content-Type"] = request.media_type
        response = http.request(
            request.method,
            url(request),
            params=request.query,
            content=content(request),
            headers=sent_headers,
        )
        answers[request.key] = ExampleAnswer(response.status_code, response.json())
    return answers


def capture(database_url: str | None = None) -> dict[str, ExampleAnswer]:
    """Start a bus with the default seed and population on fresh data, and replay."""
    from lgsp.testing import BusOptions, start_bus  # a whole bus: only when capturing

    with tempfile.TemporaryDirectory(prefix="lgsp-examples-") as directory:
        options = BusOptions(
            data_dir=Path(directory),
            seed=SEED,
            population=POPULATION,
            # Never the operator's LGSP_DATABASE_URL: the replay writes documents and dossiers.
            database_url=database_url or f"sqlite+aiosqlite:///{Path(directory) / 'lgsp.db'}",
            instances=INSTANCES,
            # Through LGSP An Giang: the default era, whatever LGSP_ERA says.
            settings_overrides={"_env_file": None, "era": ERA},
        )
        with start_bus(options) as bus, bus.client() as http:
            return replay(http, partial(_credentials, bus))


def _credentials(bus: LgspBus, request: ExampleRequest) -> dict[str, str]:
    """The demo client's, but for operations only the bus's own clients call (issue 15): those
    of the client that calls them at An Giang: NDXP for a provincial service (the axis
    delivering), else the embedded system granted the service (the portal syncing to DVCQG)."""
    catalog = load_catalog(bus.settings.catalog_dir, known_adapters=set(ADAPTERS))
    service = catalog.get(request.service, request.version)
    callers = {o.id: o.callers for o in service.operations} if service is not None else {}
    if service is None or callers.get(request.operation) != "system":
        return bus.headers(INSTANCE)
    shared = bus.settings.federation_secret.get_secret_value()
    if service.owner == "province":
        client_id = NDXP_CLIENT_ID
        secret = federation_secret(shared, instance=INSTANCE, client_id=client_id)
    else:
        system = next(n for n, s in MOCK_SYSTEMS.items() if request.service in s.bus_rights)
        client_id = system_client_id(system)
        secret = system_secret(bus.settings, instance=INSTANCE, system=system)
    return bus.headers(INSTANCE, client_id=client_id, client_secret=secret)


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


def current_examples(path: Path = EXAMPLES_FILE) -> dict[str, Example]:
    """The requests as built from the seed now, with the answers stored for them."""
    stored = load_examples(path)
    return {
        request.key: Example(request, stored[request.key].answer if request.key in stored else None)
        for request in example_requests()
    }


def refresh_examples(path: Path = EXAMPLES_FILE) -> None:
    """Capture the answers again and store them with their requests; keep a stored answer
    whose only change is the clock's, so that regenerating the contracts on another day
    changes no file."""
    stored = current_examples(path)
    fresh = capture()
    examples = {}
    for request in example_requests():
        answer, kept = fresh[request.key], stored[request.key].answer
        if kept is not None and same_answer(kept, answer, request.volatile):
            answer = kept
        examples[request.key] = Example(request, answer)
    path.write_text(render_examples(examples), encoding="utf-8")


def same_answer(a: ExampleAnswer, b: ExampleAnswer, volatile: tuple[str, ...]) -> bool:
    return a.status == b.status and masked(a.body, volatile) == masked(b.body, volatile)
