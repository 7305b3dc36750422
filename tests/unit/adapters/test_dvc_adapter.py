"""The dvc adapter: canonical requests checked and written as the portal's; answers read back."""

from __future__ import annotations

import base64
import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import ADAPTERS, UnknownOperation, UnsupportedMediaType
from adapters.base import SystemResponse, TranslationError
from adapters.dvc import (
    CONTRACTS,
    ApplicantNotVerified,
    CitizenCheckUnavailable,
    DossierNotFound,
    DossierNumbersExhausted,
    DvcAdapter,
    DvcAnswerInvalid,
    IllegalTransition,
    InvalidDossierRequest,
    ProcedureNotFound,
    SyncUnavailable,
    UnknownAction,
    check_form_data,
)
from formats.cccd import InvalidCccd
from formats.dates import format_dvcqg_time, parse_ddmmyyyy
from mocks.dvc.lifecycle import Action, DossierStatus
from tests.fixtures.dossiers import (
    RECEIVED_DATES,
    birth_registration,
    residence_hoso_head,
    residence_received_entry,
)
from tests.unit.adapters.calls import DOSSIER_CODE
from tests.unit.adapters.calls import dossier_call as call

TODAY = date(2026, 3, 2)
CCCD = "091089482999"
CODE = DOSSIER_CODE
PDF = base64.b64encode(b"%PDF-1.4 mock").decode()
NEW_DOSSIER: dict[str, Any] = {
    "procedure_code": "1.004222.000.00.00.H33",
    "applicant": {"cccd": CCCD, "full_name": "Nguyễn Minh Vũ", "date_of_birth": "1989-11-16"},
    "summary": "Đăng ký thường trú",
    "contact": {"email": "congdan@example.vn", "phone": "0912345678"},
    "form_data": {"NoiThuongTruMoi": {"SoNha": "12"}},
    "attachments": [{"name": "CT01.pdf", "content_type": "application/pdf", "content_base64": PDF}],
}


@pytest.fixture(name="adapter")
def fx_adapter() -> DvcAdapter:
    return DvcAdapter(today=lambda: TODAY)


def envelope(status: int, error_code: str, data: Any = None, message: str = "") -> SystemResponse:
    body = {"error_code": error_code, "message": message or "OK", "data": data}
    return SystemResponse(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")


def portal_dossier(**changes: Any) -> dict[str, Any]:
    """A `HoSo` as the mock portal serves it (mocks/dvc/schemas.py)."""
    return {
        **residence_hoso_head(CODE, CCCD),
        "Email": "congdan@example.vn",
        "SoDienThoai": None,
        "TrichYeuHoSo": "Đăng ký thường trú",
        "DuLieuBieuMau": {"SoNha": "12"},
        **RECEIVED_DATES,
        "TenTrangThaiHoSo": "Được tiếp nhận",
        "HanhDongHopLe": ["start_processing", "withdraw"],
        "DonViXuLy": {"MaDinhDanh": "000.00.07.H33", "TenCoQuan": "Công an phường Vĩnh Thanh"},
        "TaiLieuNop": [
            {
                "TepDinhKemId": 1,
                "TenTepDinhKem": "CT01.pdf",
                "LoaiTep": "application/pdf",
                "KichThuoc": 13,
                "MaBamSHA256": "ab" * 32,
            }
        ],
        "TienTrinh": [residence_received_entry(CODE)],
        **changes,
    }


CANONICAL_DOSSIER = {
    "code": CODE,
    "procedure_code": "1.004222.000.00.00.H33",
    "procedure_name": "Đăng ký thường trú",
    "field": {"code": "Z00-CA01", "name": "Đăng ký, quản lý cư trú"},
    "status": {"code": 2, "name": "received"},
    "allowed_actions": ["start_processing", "withdraw"],
    "applicant": {"cccd": CCCD, "full_name": "Nguyễn Minh Vũ"},
    "summary": "Đăng ký thường trú",
    "contact": {"email": "congdan@example.vn", "phone": None},
    "form_data": {"SoNha": "12"},
    "agency": {"id": "000.00.07.H33", "name": "Công an phường Vĩnh Thanh"},
    "submitted_at": "2026-03-02T09:00:00+07:00",
    "received_at": "2026-03-02T09:30:00+07:00",
    "due_at": "2026-03-11T17:00:00+07:00",
    "supplement_requested_at": None,
    "completed_at": None,
    "returned_at": None,
    "refused_at": None,
    "attachments": [
        {
            "id": 1,
            "name": "CT01.pdf",
            "content_type": "application/pdf",
            "size_bytes": 13,
            "sha256": "ab" * 32,
        }
    ],
    "history": [
        {
            "action": "receive",
            "status": {"code": 2, "name": "received"},
            "actor": "Nguyễn Thị Lan",
            "position": "Cán bộ tiếp nhận",
            "department": "Bộ phận Một cửa",
            "note": "Được tiếp nhận",
            "at": "2026-03-02T09:30:00+07:00",
            "started_at": "2026-03-02T09:00:00+07:00",
            "due_at": "2026-03-11T17:00:00+07:00",
        }
    ],
}


def test_registry_maps_the_catalog_name_to_the_adapter() -> None:
    assert ADAPTERS["dvc"] is DvcAdapter


def test_every_catalog_operation_has_a_translation(adapter: DvcAdapter) -> None:
    catalog = tomllib.loads(
        (Path(__file__).parents[3] / "services" / "dvc.toml").read_text(encoding="utf-8")
    )
    bodies = {"create_dossier": NEW_DOSSIER, "transition_dossier": {"action": "x", "actor": "A"}}

    for operation in catalog["operations"]:
        request = call(operation["id"], body=bodies.get(operation["id"]))
        assert adapter.to_system(request).path.startswith("/api/")


def test_every_catalog_operation_has_a_published_contract() -> None:
    catalog = tomllib.loads(
        (Path(__file__).parents[3] / "services" / "dvc.toml").read_text(encoding="utf-8")
    )

    assert {operation["id"] for operation in catalog["operations"]} == set(CONTRACTS)


def test_status_names_cover_every_dvcqg_code_in_lifecycle_order() -> None:
    from adapters._dvc_answers import STATUS_NAMES

    assert STATUS_NAMES == {status.value: status.name.lower() for status in DossierStatus}


# --- requests --------------------------------------------------------------------------------


def test_procedure_search_becomes_the_portals_query(adapter: DvcAdapter) -> None:
    query = (("q", "khai sinh"), ("field", "Hộ tịch"), ("level", "commune"), ("page", "2"))

    request = adapter.to_system(call("list_procedures", query=query))

    assert (request.method, request.path, request.body) == ("GET", "/api/thutuc", b"")
    assert request.query == (
        ("tuKhoa", "khai sinh"),
        ("maLinhVuc", "Hộ tịch"),
        ("capThucHien", "xa"),
        ("trang", "2"),
        ("soBanGhi", "20"),
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ((), (("trangThai", None), ("soDinhDanh", None))),
        ((("status", "processing"),), (("trangThai", "4"), ("soDinhDanh", None))),
        ((("status", "10"),), (("trangThai", "10"), ("soDinhDanh", None))),
        ((("applicant", CCCD),), (("trangThai", None), ("soDinhDanh", CCCD))),
    ],
)
def test_dossier_listing_becomes_the_portals_query(
    adapter: DvcAdapter, query: tuple[tuple[str, str], ...], expected: tuple[Any, ...]
) -> None:
    request = adapter.to_system(call("list_dossiers", query=(*query, ("size", "100"))))

    sent = dict(request.query)
    assert request.path == "/api/hoso"
    assert sent["soBanGhi"] == "100"
    assert all(sent.get(name) == value for name, value in expected)


@pytest.mark.parametrize(
    ("operation", "query", "problems"),
    [
        ("list_procedures", (("size", "101"),), [("size", "range")]),
        ("list_procedures", (("size", "0"),), [("size", "range")]),
        ("list_procedures", (("page", "-1"),), [("page", "range")]),
        ("list_procedures", (("page", "١"),), [("page", "range")]),  # an Arabic-Indic digit
        ("list_procedures", (("level", "national"),), [("level", "enum")]),
        ("list_procedures", (("q", "x" * 201),), [("q", "string_too_long")]),
        ("list_procedures", (("q", "a"), ("q", "b")), [("q", "repeated")]),
        ("list_dossiers", (("status", "11"),), [("status", "enum")]),
        (
            "list_dossiers",
            (("status", "done"), ("size", "x")),
            [("status", "enum"), ("size", "range")],
        ),
        ("list_dossiers", (("agency", "bad"),), [("agency", "pattern")]),
        ("list_dossiers", (("agency", "000.00.06.H01 "),), [("agency", "pattern")]),
        ("list_dossiers", (("agency", "000.00.06.H01-1"),), [("agency", "pattern")]),
        ("list_dossiers", (("agency", ""),), [("agency", "pattern")]),
        ("list_dossiers", (("agency", "a"), ("agency", "b")), [("agency", "repeated")]),
    ],
)
def test_bad_query_is_an_invalid_request_naming_each_parameter(
    adapter: DvcAdapter,
    operation: str,
    query: tuple[tuple[str, str], ...],
    problems: list[tuple[str, str]],
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call(operation, query=query))

    assert (raised.value.code, raised.value.status) == ("INVALID_DOSSIER_REQUEST", 422)
    assert [(e["loc"], e["type"]) for e in raised.value.errors] == [
        (["query", name], kind) for name, kind in problems
    ]


@pytest.mark.parametrize(
    ("operation", "query", "sent"),
    [
        ("list_procedures", (("q", "cư trú"), ("_", "1733562000000")), ("tuKhoa", "cư trú")),
        ("list_procedures", (("sort", "name"), ("sort", "code")), ("trang", "1")),
        ("list_dossiers", (("agency", "000.00.06.H01"), ("x", "1")), ("maDonVi", "000.00.06.H01")),
    ],
)
def test_a_parameter_the_operation_does_not_take_is_ignored(
    adapter: DvcAdapter, operation: str, query: tuple[tuple[str, str], ...], sent: tuple[str, str]
) -> None:
    """As every REST service of the bus does (a cache-busting `_=` from a browser included)."""
    request = adapter.to_system(call(operation, query=query))

    names = dict(request.query)
    assert names[sent[0]] == sent[1]
    assert not {"_", "sort", "x"} & set(names)


@pytest.mark.parametrize(("cccd", "rule"), [("12345", "format"), ("091289482999", "birth_year")])
def test_listing_by_a_malformed_number_is_invalid_cccd(
    adapter: DvcAdapter, cccd: str, rule: str
) -> None:
    with pytest.raises(InvalidCccd) as raised:
        adapter.to_system(call("list_dossiers", query=(("applicant", cccd),)))

    assert raised.value.rule == rule


def test_new_dossier_becomes_the_portals_filing(adapter: DvcAdapter) -> None:
    request = adapter.to_system(call("create_dossier", body=NEW_DOSSIER))

    assert (request.method, request.path) == ("POST", "/api/hoso")
    assert request.headers == {"Accept": "application/json", "Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "MaTTHC": "1.004222.000.00.00.H33",
        "ChuHoSo": "Nguyễn Minh Vũ",
        "NgaySinhChuHoSo": "16/11/1989",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": CCCD}],
        "TrichYeuHoSo": "Đăng ký thường trú",
        "Email": "congdan@example.vn",
        "SoDienThoai": "0912345678",
        "DuLieuBieuMau": {"NoiThuongTruMoi": {"SoNha": "12"}},
        "TaiLieuNop": [
            {"TenTepDinhKem": "CT01.pdf", "LoaiTep": "application/pdf", "NoiDungBase64": PDF}
        ],
    }


def test_minimal_dossier_needs_no_contact_form_or_files(adapter: DvcAdapter) -> None:
    minimal = {k: NEW_DOSSIER[k] for k in ("procedure_code", "applicant", "summary")}

    sent = json.loads(adapter.to_system(call("create_dossier", body=minimal)).body)

    assert (sent["Email"], sent["SoDienThoai"], sent["DuLieuBieuMau"], sent["TaiLieuNop"]) == (
        None,
        None,
        {},
        [],
    )


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2007, 12, 31)))
def test_date_of_birth_survives_the_trip_through_dd_mm_yyyy(born: date) -> None:
    adapter = DvcAdapter(today=lambda: TODAY)
    cccd = (
        f"0910{born.year % 100:02d}000123"
        if born.year < 2000
        else f"0912{born.year % 100:02d}000123"
    )
    body = {
        **NEW_DOSSIER,
        "applicant": {**NEW_DOSSIER["applicant"], "cccd": cccd, "date_of_birth": born.isoformat()},
    }

    sent = json.loads(adapter.to_system(call("create_dossier", body=body)).body)

    assert parse_ddmmyyyy(sent["NgaySinhChuHoSo"]) == born


def with_changes(**changes: Any) -> dict[str, Any]:
    return {**NEW_DOSSIER, **changes}


APPLICANT = NEW_DOSSIER["applicant"]
FILE = NEW_DOSSIER["attachments"][0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", [((), "json_invalid")]),
        (b"[]", [((), "model_type")]),
        (
            {},
            [
                (("procedure_code",), "missing"),
                (("applicant",), "missing"),
                (("summary",), "missing"),
            ],
        ),
        (with_changes(procedure_code="1.4222"), [(("procedure_code",), "string_pattern_mismatch")]),
        (
            with_changes(applicant={**APPLICANT, "full_name": " "}),
            [(("applicant", "full_name"), "string_pattern_mismatch")],
        ),
        (
            with_changes(applicant={**APPLICANT, "date_of_birth": "16/11/1989"}),
            [(("applicant", "date_of_birth"), "date_parsing")],
        ),
        (
            with_changes(applicant={**APPLICANT, "gender": "male"}),
            [(("applicant", "gender"), "extra_forbidden")],
        ),
        (with_changes(summary="x" * 1001), [(("summary",), "string_too_long")]),
        (
            with_changes(contact={"email": "not-an-email"}),
            [(("contact", "email"), "string_pattern_mismatch")],
        ),
        (
            with_changes(contact={"phone": "12-34"}),
            [(("contact", "phone"), "string_pattern_mismatch")],
        ),
        (
            with_changes(form_data={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}),
            [(("form_data",), "value_error")],
        ),
        (
            with_changes(form_data={f"k{n}": n for n in range(51)}),
            [(("form_data",), "value_error")],
        ),
        (with_changes(form_data=[1]), [(("form_data",), "dict_type")]),
        (with_changes(attachments=[FILE] * 21), [(("attachments",), "too_long")]),
        (
            with_changes(attachments=[{**FILE, "content_base64": "!!"}]),
            [(("attachments", 0, "content_base64"), "value_error")],
        ),
        (
            with_changes(attachments=[{**FILE, "name": "../etc/passwd"}]),
            [(("attachments", 0, "name"), "string_pattern_mismatch")],
        ),
        (
            with_changes(attachments=[{**FILE, "content_type": "pdf"}]),
            [(("attachments", 0, "content_type"), "string_pattern_mismatch")],
        ),
        (with_changes(status="new"), [(("status",), "extra_forbidden")]),
    ],
)
def test_malformed_new_dossier_is_invalid_naming_each_field(
    adapter: DvcAdapter, body: Any, expected: list[tuple[tuple[Any, ...], str]]
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call("create_dossier", body=body))

    error = raised.value
    assert (error.code, error.status) == ("INVALID_DOSSIER_REQUEST", 422)
    assert [(e["loc"], e["type"]) for e in error.errors] == [
        (["body", *loc], kind) for loc, kind in expected
    ]
    assert all(set(e) == {"loc", "msg", "type"} for e in error.errors)
    shown = json.dumps(error.extensions, ensure_ascii=False) + error.detail
    assert "Nguyễn" not in shown
    assert CCCD not in shown


def test_an_attachment_past_five_mebibytes_is_refused(adapter: DvcAdapter) -> None:
    big = base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1)).decode()
    exact = base64.b64encode(b"\0" * (5 * 1024 * 1024)).decode()

    adapter.to_system(
        call("create_dossier", body=with_changes(attachments=[{**FILE, "content_base64": exact}]))
    )
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(
            call("create_dossier", body=with_changes(attachments=[{**FILE, "content_base64": big}]))
        )

    assert raised.value.errors[0]["loc"] == ["body", "attachments", 0, "content_base64"]


# Forms at and past each bound, with the words of the refusal (None: accepted). The portal mock
# checks forms with its own code against the same table (tests/unit/mocks/test_dvc_forms.py).
FORM_BOUNDS: list[tuple[dict[str, Any], str | None]] = [
    ({"a": {"b": {"c": {"d": {"e": 1}}}}}, None),  # depth 5 is allowed
    ({"a": [[[[1]]]]}, None),
    ({"a": [[[[[1]]]]]}, "levels deep"),
    ({f"k{n}": n for n in range(50)}, None),
    ({"a": {f"k{n}": n for n in range(50)}}, "50 keys"),  # keys count at every level
    ({"a": list(range(200))}, None),
    ({"a": [list(range(100)), list(range(100))]}, "200 list items"),
    ({"a": "x" * 2001}, "2000 characters"),
]


@pytest.mark.parametrize(("form", "words"), FORM_BOUNDS)
def test_form_data_bounds(form: dict[str, Any], words: str | None) -> None:
    if words is None:
        check_form_data(form)
    else:
        with pytest.raises(ValueError, match=words):
            check_form_data(form)


@pytest.mark.parametrize(
    ("cccd", "rule"), [("999089482999", "province_code"), ("0910894829", "format")]
)
def test_new_dossier_with_a_malformed_number_is_invalid_cccd(
    adapter: DvcAdapter, cccd: str, rule: str
) -> None:
    body = with_changes(applicant={**APPLICANT, "cccd": cccd})

    with pytest.raises(InvalidCccd) as raised:
        adapter.to_system(call("create_dossier", body=body))

    assert (raised.value.status, raised.value.rule) == (422, rule)


@pytest.mark.parametrize(
    ("operation", "body"),
    [("create_dossier", NEW_DOSSIER), ("transition_dossier", {"action": "receive", "actor": "A"})],
)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/jsonp"])
def test_body_not_declared_json_is_unsupported_media_type(
    adapter: DvcAdapter, operation: str, body: Any, content_type: str | None
) -> None:
    with pytest.raises(UnsupportedMediaType) as raised:
        adapter.to_system(call(operation, body=body, content_type=content_type))

    assert raised.value.extensions == {"supported": ["application/json"]}


def test_transition_becomes_a_progress_entry(adapter: DvcAdapter) -> None:
    body = {"action": "receive", "actor": "Nguyễn Thị Lan", "position": "Cán bộ", "note": "OK"}

    request = adapter.to_system(call("transition_dossier", body=body))

    assert (request.method, request.path) == ("POST", f"/api/hoso/{CODE}/tientrinh")
    assert json.loads(request.body) == {
        "HanhDong": "receive",
        "NguoiXuLy": "Nguyễn Thị Lan",
        "ChucDanh": "Cán bộ",
        "PhongBanXuLy": "",
        "NoiDungXuLy": "OK",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"actor": "A"}, [("action", "missing")]),
        ({"action": "Receive", "actor": "A"}, [("action", "string_pattern_mismatch")]),
        ({"action": "receive", "actor": ""}, [("actor", "string_too_short")]),
        ({"action": "receive", "actor": "A", "note": "x" * 2001}, [("note", "string_too_long")]),
        ({"action": "receive", "actor": "A", "when": "now"}, [("when", "extra_forbidden")]),
    ],
)
def test_malformed_transition_is_invalid(
    adapter: DvcAdapter, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call("transition_dossier", body=body))

    assert [(e["loc"], e["type"]) for e in raised.value.errors] == [
        (["body", field], kind) for field, kind in expected
    ]


@pytest.mark.parametrize(
    "code", ["x", "000.00.07.H33-260302-01", "000.00.07.H33-260302-0001/tientrinh", "../api"]
)
@pytest.mark.parametrize("operation", ["get_dossier", "transition_dossier"])
def test_malformed_dossier_code_is_refused_before_any_call(
    adapter: DvcAdapter, operation: str, code: str
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call(operation, code=code, body={"action": "receive", "actor": "A"}))

    assert raised.value.errors[0]["loc"] == ["path", "code"]


def test_dossier_lookup_is_a_get_of_its_code(adapter: DvcAdapter) -> None:
    request = adapter.to_system(call("get_dossier"))

    assert (request.method, request.path, request.query) == ("GET", f"/api/hoso/{CODE}", ())


# --- answers ---------------------------------------------------------------------------------


def test_portal_dossier_translates_to_canonical_json(adapter: DvcAdapter) -> None:
    answer = adapter.to_canonical(call("get_dossier"), envelope(200, "0", portal_dossier()))

    assert (answer.status, answer.content) == (200, CANONICAL_DOSSIER)
    CONTRACTS["get_dossier"].response.model_validate(answer.content)


def test_filed_dossier_is_a_201(adapter: DvcAdapter) -> None:
    answer = adapter.to_canonical(
        call("create_dossier", body=NEW_DOSSIER), envelope(201, "0", portal_dossier())
    )

    assert (answer.status, answer.content["code"]) == (201, CODE)


def test_listed_dossiers_leave_out_files_and_history(adapter: DvcAdapter) -> None:
    summary = {k: v for k, v in portal_dossier().items() if k not in ("TaiLieuNop", "TienTrinh")}
    page = {"TongSo": 11, "Trang": 2, "SoBanGhi": 10, "DanhSach": [summary]}

    answer = adapter.to_canonical(call("list_dossiers"), envelope(200, "0", page))

    expected = {k: v for k, v in CANONICAL_DOSSIER.items() if k not in ("attachments", "history")}
    assert answer.content == {"items": [expected], "page": 2, "size": 10, "total": 11}
    CONTRACTS["list_dossiers"].response.model_validate(answer.content)


def test_procedures_translate_to_canonical_json(adapter: DvcAdapter) -> None:
    procedure = birth_registration("UBND phường Vĩnh Thanh")
    page = {"TongSo": 1, "Trang": 1, "SoBanGhi": 20, "DanhSach": [procedure]}

    answer = adapter.to_canonical(call("list_procedures"), envelope(200, "0", page))

    assert answer.content == {
        "items": [
            {
                "code": "1.001193.000.00.00.H33",
                "national_code": "1.001193",
                "name": "Đăng ký khai sinh",
                "field": {"code": "Z00-HT01", "name": "Hộ tịch"},
                "level": "commune",
                "online_service": "full",
                "processing_days": 0,
                "fee_vnd": 0,
                "agency": {"id": "000.00.06.H33", "name": "UBND phường Vĩnh Thanh"},
                "assigned": [],  # a portal that does not say assigns nothing
            }
        ],
        "page": 1,
        "size": 20,
        "total": 1,
    }
    CONTRACTS["list_procedures"].response.model_validate(answer.content)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_dvcqg_times_read_back_as_the_same_instant(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    written = format_dvcqg_time(moment)
    assert written is not None

    read = (
        DvcAdapter(today=lambda: TODAY)
        .to_canonical(call("get_dossier"), envelope(200, "0", portal_dossier(NgayNopHoSo=written)))
        .content["submitted_at"]
    )

    assert datetime.fromisoformat(read) == moment
    assert read.endswith("+07:00")


# --- the portal's errors ---------------------------------------------------------------------

ALL_ACTIONS = [str(action) for action in Action]


@pytest.mark.parametrize(
    ("operation", "response", "error", "extensions"),
    [
        ("get_dossier", envelope(404, "201"), DossierNotFound, {}),
        ("transition_dossier", envelope(404, "201"), DossierNotFound, {}),
        ("create_dossier", envelope(404, "201"), ProcedureNotFound, {}),
        (
            "create_dossier",
            envelope(422, "500", {"TruongKhongKhop": ["NgaySinhChuHoSo"]}),
            ApplicantNotVerified,
            {"mismatched_fields": ["date_of_birth"]},
        ),
        (
            "create_dossier",
            envelope(422, "500", {"TruongKhongKhop": ["NgaySinhChuHoSo", "ChuHoSo"]}),
            ApplicantNotVerified,
            {"mismatched_fields": ["full_name", "date_of_birth"]},
        ),
        (
            "create_dossier",
            envelope(422, "500"),
            ApplicantNotVerified,
            {"mismatched_fields": ["full_name", "date_of_birth"]},
        ),
        ("create_dossier", envelope(502, "502"), CitizenCheckUnavailable, {}),
        ("create_dossier", envelope(504, "504"), CitizenCheckUnavailable, {}),
        ("create_dossier", envelope(503, "503"), DossierNumbersExhausted, {}),
        ("transition_dossier", envelope(502, "502"), SyncUnavailable, {}),
        ("transition_dossier", envelope(504, "504"), SyncUnavailable, {}),
        (
            "transition_dossier",
            envelope(409, "409", {"TrangThaiHoSo": "9", "HanhDongHopLe": ["return_result"]}),
            IllegalTransition,
            {"status": {"code": 9, "name": "completed"}, "allowed_actions": ["return_result"]},
        ),
        (
            "transition_dossier",
            envelope(409, "409", {"TrangThaiHoSo": "10", "HanhDongHopLe": []}),
            IllegalTransition,
            {"status": {"code": 10, "name": "result_returned"}, "allowed_actions": []},
        ),
        (
            "transition_dossier",
            envelope(422, "500", {"DanhSachHanhDong": ALL_ACTIONS}),
            UnknownAction,
            {"known_actions": ALL_ACTIONS},
        ),
        ("create_dossier", envelope(400, "302"), InvalidDossierRequest, None),
        ("list_dossiers", envelope(400, "302"), InvalidDossierRequest, None),
    ],
)
def test_portal_errors_become_stable_problems(
    adapter: DvcAdapter,
    operation: str,
    response: SystemResponse,
    error: type[TranslationError],
    extensions: dict[str, Any] | None,
) -> None:
    request = call(operation, body={"action": "receive", "actor": "A"})

    with pytest.raises(error) as raised:
        adapter.to_canonical(request, response)

    assert type(raised.value) is error
    if extensions is not None:
        assert raised.value.extensions == extensions
    assert raised.value.detail


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (ApplicantNotVerified, "APPLICANT_NOT_VERIFIED", 422),
        (DossierNotFound, "DOSSIER_NOT_FOUND", 404),
        (ProcedureNotFound, "PROCEDURE_NOT_FOUND", 422),
        (IllegalTransition, "ILLEGAL_TRANSITION", 409),
        (UnknownAction, "UNKNOWN_ACTION", 422),
        (InvalidDossierRequest, "INVALID_DOSSIER_REQUEST", 422),
        (CitizenCheckUnavailable, "CITIZEN_CHECK_UNAVAILABLE", 502),
        (DossierNumbersExhausted, "DOSSIER_NUMBERS_EXHAUSTED", 503),
        (SyncUnavailable, "SYNC_UNAVAILABLE", 502),
        (DvcAnswerInvalid, "DVC_INVALID_RESPONSE", 502),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_each_error_has_its_stable_code_and_status(
    error: type[TranslationError], code: str, status: int
) -> None:
    assert (error.code, error.status) == (code, status)


@pytest.mark.parametrize(
    ("operation", "response"),
    [
        ("get_dossier", SystemResponse(200, b"<html>", "text/html")),
        ("get_dossier", SystemResponse(200, b"[" * 100_000, "application/json")),
        ("get_dossier", envelope(200, "0", None)),
        ("get_dossier", envelope(201, "0", portal_dossier())),  # not the status a lookup gets
        ("create_dossier", envelope(200, "0", portal_dossier())),
        ("get_dossier", envelope(409, "409", {"TrangThaiHoSo": "2", "HanhDongHopLe": []})),
        ("get_dossier", envelope(200, "0", portal_dossier(TrangThaiHoSo="11"))),
        ("get_dossier", envelope(200, "0", portal_dossier(TrangThaiHoSo=4))),
        ("get_dossier", envelope(200, "0", portal_dossier(NgayNopHoSo="2026-03-02"))),
        ("get_dossier", envelope(200, "0", portal_dossier(NgayHenTra="20261302000000"))),
        ("get_dossier", envelope(200, "0", portal_dossier(DinhDanhCHS=[]))),
        ("get_dossier", envelope(200, "0", portal_dossier(HanhDongHopLe="receive"))),
        ("get_dossier", envelope(200, "0", portal_dossier(TienTrinh=None))),
        ("get_dossier", envelope(200, "0", portal_dossier(TaiLieuNop=[{"TepDinhKemId": -1}]))),
        (
            "list_procedures",
            envelope(
                200,
                "0",
                {"TongSo": 1, "Trang": 1, "SoBanGhi": 20, "DanhSach": [{"MaTTHC": "1.001193"}]},
            ),
        ),
        (
            "list_dossiers",
            envelope(200, "0", {"TongSo": "1", "Trang": 1, "SoBanGhi": 20, "DanhSach": []}),
        ),
        ("transition_dossier", envelope(409, "409", None)),
        ("transition_dossier", envelope(409, "409", {"TrangThaiHoSo": "99", "HanhDongHopLe": []})),
        ("transition_dossier", envelope(422, "500", {"DanhSachHanhDong": "receive"})),
        ("create_dossier", envelope(500, "500")),
    ],
)
def test_anything_else_is_an_unreadable_answer(
    adapter: DvcAdapter, operation: str, response: SystemResponse
) -> None:
    with pytest.raises(DvcAnswerInvalid) as raised:
        adapter.to_canonical(call(operation, body={"action": "receive", "actor": "A"}), response)

    assert (raised.value.code, raised.value.status) == ("DVC_INVALID_RESPONSE", 502)
    assert CCCD not in raised.value.detail
    assert "Nguyễn" not in raised.value.detail


def test_unknown_operation_is_not_supported_in_either_direction(adapter: DvcAdapter) -> None:
    request = call("delete_dossier")

    with pytest.raises(UnknownOperation):
        adapter.to_system(request)
    with pytest.raises(UnknownOperation):
        adapter.to_canonical(request, envelope(200, "0", portal_dossier()))


def test_the_adapter_keeps_no_clock_of_its_own() -> None:
    born_2026 = "091226000123"
    body = with_changes(applicant={**APPLICANT, "cccd": born_2026, "date_of_birth": "2026-01-02"})

    DvcAdapter(today=lambda: TODAY).to_system(call("create_dossier", body=body))
    with pytest.raises(InvalidCccd):
        DvcAdapter(today=lambda: TODAY - timedelta(days=365)).to_system(
            call("create_dossier", body=body)
        )
