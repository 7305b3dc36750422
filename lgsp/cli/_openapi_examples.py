"""Examples for the published service contracts, from the default seed's data (issue 5).

Each operation's example request is built here from the seed: the citizens, dossiers,
procedures and agencies a bus started with the default settings holds, so every identifier in
an example is one that answers. The example answers are what such a bus really gives for those
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
from collections.abc import Iterator, Mapping
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from adapters.qlvb import document_key
from formats.dates import parse_ddmmyyyy
from formats.edxml import render_edxml, render_status
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
from lgsp.composition import (
    AGENCIES,
    PROCEDURES,
    CitizenRecord,
    PlannedDossier,
    generate_citizens,
    plan_dossiers,
    provincial_procedure_code,
    seeded_dossier_codes,
)
from lgsp.settings import Settings

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

INSTANCE = "kiengiang"
"""Examples are called as the documents' `servers` say: through LGSP Kiên Giang."""
INSTANCES = ["ndxp", INSTANCE, "tiengiang"]
"""Kiên Giang, NDXP behind it, and Tiền Giang for documents that cross provinces."""
HERE, THERE = "91", "82"  # Kiên Giang, Tiền Giang
SEED: int = Settings.model_fields["seed"].default
POPULATION: int = Settings.model_fields["population"].default


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
    citizens = generate_citizens(province_code=province_code, seed=SEED, count=index + 1)
    return citizens[index]


def _organ(province_code: str, index: int) -> dict[str, str]:
    agency = AGENCIES[province_code][index]
    return {"organ_id": agency.organ_id, "organ_name": agency.name}


def _claim(citizen: CitizenRecord) -> dict[str, str]:
    born = parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)
    return {
        "cccd": citizen.so_dinh_danh,
        "full_name": citizen.ho_va_ten,
        "date_of_birth": born.isoformat(),
    }


def _citizen_requests(service: str, citizen: CitizenRecord) -> Iterator[ExampleRequest]:
    cccd = {"cccd": citizen.so_dinh_danh}
    yield ExampleRequest(service, "v1", "get_citizen", "GET", "/citizens/{cccd}", cccd)
    yield ExampleRequest(service, "v1", "get_household", "GET", "/citizens/{cccd}/household", cccd)
    yield ExampleRequest(
        service,
        "v1",
        "verify_citizen",
        "POST",
        "/citizens/verify",
        body=_claim(citizen),
        media_type=JSON,
    )


def _document(
    sender: dict[str, str], number: str, notation: str, to: list[dict[str, str]], subject: str
) -> dict[str, Any]:
    """A canonical document (README's shape), signed by a seeded citizen."""
    return {
        "from": sender,
        "to": to,
        "code": {"code_number": number, "code_notation": notation},
        "promulgation": {"place": "Rạch Giá", "date": "2025-06-16"},
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


def _status(document: Mapping[str, Any], reporter: dict[str, str], code: str) -> str:
    return render_status(
        {
            "response_for": {
                "organ_id": document["from"]["organ_id"],
                "code": f"{document['code']['code_number']}/{document['code']['code_notation']}",
                "promulgation_date": document["promulgation"]["date"],
                "document_id": _document_id(document),
            },
            "from": reporter,
            "status_code": code,
            "description": "Đã nhận văn bản",
            "timestamp": "2025-06-16T10:00:00",
        }
    ).decode("utf-8")


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
    return tuple(found)


_DOSSIER_TIMES = (
    "received_at",
    "due_at",
    "history.*.at",
    "history.*.started_at",
    "history.*.due_at",
)


def _dvc_requests() -> list[ExampleRequest]:
    codes = seeded_dossier_codes(province_code=HERE, seed=SEED, population=POPULATION)
    plans = plan_dossiers(province_code=HERE, seed=SEED, population=POPULATION)
    returned = plans[-1]  # the seed's last dossier has the whole lifecycle behind it
    new, returned_code = codes[0], codes[len(plans) - 1]
    applicant = _citizen(HERE, 1)
    dossier = {"code": returned_code}
    return [
        ExampleRequest(
            "dvc", "v1", "list_procedures", "GET", "/procedures", query={"q": "khai sinh"}
        ),
        ExampleRequest("dvc", "v1", "get_dossier", "GET", "/dossiers/{code}", dossier),
        ExampleRequest(
            "dvc",
            "v1",
            "list_dossiers",
            "GET",
            "/dossiers",
            query={"applicant": returned.applicant.so_dinh_danh},
        ),
        ExampleRequest(
            "dvc",
            "v1",
            "create_dossier",
            "POST",
            "/dossiers",
            body={
                "procedure_code": provincial_procedure_code(PROCEDURES[0].code, HERE),
                "applicant": _claim(applicant),
                "summary": f"{PROCEDURES[0].name} cho con",
            },
            media_type=JSON,
            volatile=("code", "submitted_at", *_DOSSIER_TIMES),
        ),
        ExampleRequest(
            "dvc",
            "v1",
            "transition_dossier",
            "POST",
            "/dossiers/{code}/transitions",
            {"code": new},
            body={
                "action": "receive",
                "actor": _citizen(HERE, 5).ho_va_ten,
                "position": "Cán bộ tiếp nhận",
            },
            media_type=JSON,
            volatile=_DOSSIER_TIMES,
        ),
        ExampleRequest("dvcqg", "v1", "get_dossier", "GET", "/dossiers/{code}", dossier),
        ExampleRequest(
            "dvcqg",
            "v1",
            "list_dossiers",
            "GET",
            "/dossiers",
            query={"province": HERE, "status": returned.status.name.lower()},
        ),
        ExampleRequest(
            "dvcqg",
            "v1",
            "sync_dossier",
            "POST",
            "/dossiers/sync",
            body=_sync(codes[1], plans[1]),
            media_type=JSON,
        ),
    ]


def _sync(code: str, plan: PlannedDossier) -> dict[str, Any]:
    """The provincial portal's sync of a seeded received dossier's next step: processing."""
    procedure = plan.procedure
    agency = next(a for a in AGENCIES[HERE] if a.organ_id == plan.agency_id)
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
                "code": provincial_procedure_code(procedure.code, HERE),
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
    inbound["promulgation"]["place"] = "Mỹ Tho"  # promulgated in Tiền Giang
    inbound["promulgation"]["place"] = "Mỹ Tho"
    key = {"id": document_key(_document_id(local))}
    return [
        ExampleRequest(
            "qlvb", "v1", "send_document", "POST", "/documents", body=local, media_type=JSON
        ),
        ExampleRequest("qlvb", "v1", "get_document", "GET", "/documents/{id}", key),
        ExampleRequest(
            "qlvb",
            "v1",
            "post_status",
            "POST",
            "/documents/{id}/status",
            key,
            body={
                "organ_id": _organ(HERE, 3)["organ_id"],
                "status_code": "01",
                "description": "Đã nhận văn bản",
            },
            media_type=JSON,
        ),
        ExampleRequest(
            "qlvb",
            "v1",
            "get_inbox",
            "GET",
            "/documents/inbox",
            query={"organ_id": _organ(HERE, 3)["organ_id"]},
            volatile=("items.*.received_at",),
        ),
        ExampleRequest(
            "qlvb",
            "v1",
            "receive_document",
            "POST",
            "/inbound/documents",
            body=render_edxml(inbound).decode("utf-8"),
            media_type=XML,
        ),
        ExampleRequest(
            "qlvb",
            "v1",
            "receive_status",
            "POST",
            "/inbound/statuses",
            body=_status(local, _organ(THERE, 1), "01"),
            media_type=XML,
        ),
    ]


def _vdxp_requests() -> list[ExampleRequest]:
    document = _document(
        _organ(HERE, 2), "44", "SXD-VP", [_organ(THERE, 2)], "V/v góp ý quy hoạch xây dựng"
    )
    key = {"id": document_key(_document_id(document))}
    return [
        ExampleRequest(
            "vdxp",
            "v1",
            "submit_document",
            "POST",
            "/documents",
            body=render_edxml(document).decode("utf-8"),
            media_type=XML,
        ),
        ExampleRequest(
            "vdxp",
            "v1",
            "submit_status",
            "POST",
            "/statuses",
            body=_status(document, _organ(THERE, 2), "01"),
            media_type=XML,
            volatile=("received_at",),
        ),
        ExampleRequest(
            "vdxp",
            "v1",
            "get_trail",
            "GET",
            "/documents/{id}",
            key,
            volatile=("received_at", "statuses.*.received_at"),
        ),
    ]


def replay(http: httpx.Client, headers: Mapping[str, str]) -> dict[str, ExampleAnswer]:
    """Make every example call through `http` (the bus's root), in order."""
    answers = {}
    for request in example_requests():
        sent_headers = dict(headers)
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
            settings_overrides={"_env_file": None},
        )
        with start_bus(options) as bus, bus.client() as http:
            return replay(http, bus.headers(INSTANCE))


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
