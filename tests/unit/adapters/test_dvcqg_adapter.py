"""The dvcqg adapter: a canonical sync checked and written as DVCQG's call; answers read back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import ADAPTERS, CONTRACTS, UnknownOperation, UnsupportedMediaType
from adapters.base import SystemResponse, TranslationError
from adapters.dvc import DossierNotFound, InvalidDossierRequest
from adapters.dvcqg import (
    INTEGRATION_PATH,
    DossierOfAnotherProvince,
    DvcqgAdapter,
    DvcqgAnswerInvalid,
    IdempotencyKeyReused,
    mask_id_number,
)
from formats.cccd import InvalidCccd
from lgsp.catalog.loader import load_catalog
from tests.fixtures.dossiers import (
    RECEIVED_DATES,
    residence_hoso_head,
    residence_received_entry,
    residence_sync_dossier,
)
from tests.unit.adapters.calls import DOSSIER_CODE
from tests.unit.adapters.calls import dossier_call as call

TODAY = date(2026, 3, 2)
CCCD = "091089482999"
CODE = DOSSIER_CODE
SERVICES_DIR = Path(__file__).resolve().parents[3] / "services"


def sync_body(**changes: Any) -> dict[str, Any]:
    """A valid canonical sync of step 2 (received); `changes` replace top-level members."""
    body: dict[str, Any] = {
        "province_code": "91",
        "step": 2,
        "dossier": {
            **residence_sync_dossier(CODE, CCCD),
            "status": 2,
            "submitted_at": "2026-03-02T09:00:00+07:00",
            "received_at": "2026-03-02T02:30:00Z",  # 09:30 in Vietnam
            "due_at": "2026-03-11T17:00:00+07:00",
        },
        "progress": {
            "status": 2,
            "at": "2026-03-02T09:30:00+07:00",
            "actor": "Nguyễn Thị Lan",
            "position": "Cán bộ tiếp nhận",
            "department": "Bộ phận Một cửa",
            "note": "Được tiếp nhận",
            "action": "receive",
            "started_at": "2026-03-02T09:00:00+07:00",
            "due_at": "2026-03-11T17:00:00+07:00",
        },
    }
    body.update(changes)
    return body


def with_dossier(**changes: Any) -> dict[str, Any]:
    body = sync_body()
    body["dossier"] = {**body["dossier"], **changes}
    return body


def with_progress(**changes: Any) -> dict[str, Any]:
    body = sync_body()
    body["progress"] = {**body["progress"], **changes}
    return body


def with_applicant(**changes: Any) -> dict[str, Any]:
    body = sync_body()
    body["dossier"]["applicant"] = {**body["dossier"]["applicant"], **changes}
    return body


@pytest.fixture(name="adapter")
def fx_adapter() -> DvcqgAdapter:
    return DvcqgAdapter(today=lambda: TODAY)


def answer(status: int, error_code: str, result: Any = None, **extra: Any) -> SystemResponse:
    body = {"error_code": error_code, "message": "Thành công", "result": result, **extra}
    return SystemResponse(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")


def national_hoso(**changes: Any) -> dict[str, Any]:
    """A `TraCuuHoSo` result item as the mock writes it."""
    item: dict[str, Any] = {
        **residence_hoso_head(CODE, CCCD),
        "TrichYeuHoSo": "Đăng ký thường trú",
        "NgayNopHoSo": "20260302090000",
        "NgayTiepNhan": "20260302093000",
        "NgayHenTra": None,
        "NgayYeuCauBoSung": None,
        "NgayKetThucXuLy": None,
        "NgayTra": None,
        "NgayTuChoi": None,
        "TrangThaiHoSo": "2",
        "DonViXuLy": {"MaDinhDanh": "000.00.07.H33", "TenCoQuan": "Công an phường"},
        "MaTinh": "91",
        "ThuTu": 2,
        "NgayDongBo": "20260302093005",
        "TienTrinh": [
            {
                "MaHoSo": CODE,
                "ThuTu": 1,
                "NguoiXuLy": "Nguyễn Minh Vũ",
                "ChucDanh": "Chủ hồ sơ",
                "ThoiDiemXuLy": "20260302090000",
                "PhongBanXuLy": "",
                "NoiDungXuLy": "Nộp hồ sơ trực tuyến",
                "TrangThai": "1",
                "NgayBatDau": "20260302090000",
                "NgayKetThucTheoQuyDinh": None,
                "HanhDong": "submit",
            },
            {
                "MaHoSo": CODE,
                "ThuTu": 2,
                "NguoiXuLy": "Nguyễn Thị Lan",
                "ChucDanh": "",
                "ThoiDiemXuLy": "20260302093000",
                "PhongBanXuLy": "",
                "NoiDungXuLy": "",
                "TrangThai": "2",
            },
        ],
    }
    item.update(changes)
    return item


# --- sync: the request ---------------------------------------------------------------------


def test_sync_is_one_dongbohosomc_call_carrying_its_progress_entry(adapter: DvcqgAdapter) -> None:
    sent = adapter.to_system(call("sync_dossier", body=sync_body()))

    assert (sent.method, sent.path) == ("POST", INTEGRATION_PATH)
    assert sent.headers["Content-Type"] == "application/json"
    native = json.loads(sent.body)
    assert (native["service"], native["isUpdating"]) == ("DongBoHoSoMC", "True")
    [item] = native["data"]
    entry = item.pop("TienTrinh")
    assert item == {
        **residence_hoso_head(CODE, CCCD),
        "TrichYeuHoSo": "Đăng ký thường trú",
        **RECEIVED_DATES,
        "DonViXuLy": {"MaDinhDanh": "000.00.07.H33", "TenCoQuan": "Công an phường Vĩnh Thanh"},
        "MaTinh": "91",
        "ThuTu": 2,
    }
    assert entry == [{**residence_received_entry(CODE), "ThuTu": 2}]


@pytest.mark.parametrize(
    ("applicant", "kind", "ids"),
    [
        (
            {"kind": "business", "full_name": "Công ty TNHH A"},
            "2",
            [],
        ),
        (
            {
                "kind": "organisation",
                "full_name": "Hội B",
                "identification": {"type": "cmnd", "number": "123456789"},
            },
            "4",
            [{"LoaiDinhDanh": "2", "SoDinhDanh": "123456789"}],
        ),
    ],
    ids=["business-without-id", "organisation-with-cmnd"],
)
def test_applicant_kind_and_identification_become_loaidoituong_and_dinhdanhchs(
    adapter: DvcqgAdapter, applicant: dict[str, Any], kind: str, ids: list[dict[str, str]]
) -> None:
    sent = adapter.to_system(call("sync_dossier", body=with_dossier(applicant=applicant)))

    [item] = json.loads(sent.body)["data"]
    assert (item["LoaiDoiTuong"], item["DinhDanhCHS"]) == (kind, ids)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (sync_body(step=0), ["body", "step"]),
        (sync_body(step=1001), ["body", "step"]),
        (sync_body(step=True), ["body", "step"]),
        (sync_body(step="2"), ["body", "step"]),
        (sync_body(province_code="091"), ["body", "province_code"]),
        (sync_body(extra=1), ["body", "extra"]),
        ({k: v for k, v in sync_body().items() if k != "progress"}, ["body", "progress"]),
        (with_dossier(code="H33-260302-0001"), ["body", "dossier", "code"]),
        (with_dossier(status=11), ["body", "dossier", "status"]),
        (with_dossier(submitted_at="2026-03-02T09:00:00"), ["body", "dossier", "submitted_at"]),
        (with_dossier(submitted_at="02/03/2026"), ["body", "dossier", "submitted_at"]),
        (with_dossier(summary=" "), ["body", "dossier", "summary"]),
        (with_dossier(summary="x" * 1001), ["body", "dossier", "summary"]),
        (with_dossier(channel="fax"), ["body", "dossier", "channel"]),
        (with_dossier(procedure={"code": "9.1", "name": "x"}), ["body", "dossier", "procedure"]),
        (with_dossier(agency={"id": "H33", "name": "x"}), ["body", "dossier", "agency", "id"]),
        (with_applicant(kind="alien"), ["body", "dossier", "applicant", "kind"]),
        (with_applicant(full_name=""), ["body", "dossier", "applicant", "full_name"]),
        (
            with_applicant(identification={"type": "cmnd", "number": CCCD}),
            ["body", "dossier", "applicant", "identification"],
        ),
        (with_progress(status=3), ["body"]),
        (with_progress(actor=" "), ["body", "progress", "actor"]),
        (with_progress(note="x" * 2001), ["body", "progress", "note"]),
        (with_progress(action="Receive"), ["body", "progress", "action"]),
    ],
)
def test_invalid_sync_is_refused_naming_the_field_never_the_value(
    adapter: DvcqgAdapter, body: dict[str, Any], loc: list[str]
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call("sync_dossier", body=body))

    assert raised.value.status == 422
    assert any(error["loc"][: len(loc)] == loc for error in raised.value.errors), raised.value
    assert CCCD not in json.dumps(raised.value.errors)
    assert "Nguyễn" not in json.dumps(raised.value.errors, ensure_ascii=False)


@pytest.mark.parametrize(
    ("number", "rule"),
    [("999089482999", "province_code"), ("091289482999", "birth_year")],
)
def test_sync_with_an_impossible_cccd_is_refused(
    adapter: DvcqgAdapter, number: str, rule: str
) -> None:
    body = with_applicant(identification={"type": "cccd", "number": number})

    with pytest.raises(InvalidCccd) as raised:
        adapter.to_system(call("sync_dossier", body=body))

    assert raised.value.rule == rule
    assert number not in raised.value.detail


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(sync_body(), "text/plain"), (sync_body(), None), (b"{not json", "application/json")],
    ids=["text", "no-type", "not-json"],
)
def test_sync_must_be_a_json_body(
    adapter: DvcqgAdapter, body: Any, content_type: str | None
) -> None:
    expected = UnsupportedMediaType if content_type != "application/json" else InvalidDossierRequest

    with pytest.raises(expected):
        adapter.to_system(call("sync_dossier", body=body, content_type=content_type))


# --- reads: the requests -------------------------------------------------------------------


def test_get_is_a_tracuuhoso_call(adapter: DvcqgAdapter) -> None:
    sent = adapter.to_system(call("get_dossier"))

    assert (sent.method, sent.path) == ("POST", INTEGRATION_PATH)
    assert json.loads(sent.body) == {"service": "TraCuuHoSo", "MaHoSo": CODE}


@pytest.mark.parametrize("code", ["x", "000.00.07.H33-260302-001", "000.00.07.H33-260302-٠٠٠١"])
def test_get_with_a_malformed_code_is_refused_before_any_call(
    adapter: DvcqgAdapter, code: str
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call("get_dossier", code=code))

    assert raised.value.errors[0]["loc"] == ["path", "code"]


@pytest.mark.parametrize(
    ("query", "native"),
    [
        ((), {"Trang": 1, "SoBanGhi": 20}),
        (
            (("province", "82"), ("status", "processing"), ("page", "3"), ("size", "100")),
            {"MaTinh": "82", "TrangThaiHoSo": "4", "Trang": 3, "SoBanGhi": 100},
        ),
        ((("status", "10"),), {"TrangThaiHoSo": "10", "Trang": 1, "SoBanGhi": 20}),
    ],
)
def test_list_query_becomes_a_laydanhsachhoso_call(
    adapter: DvcqgAdapter, query: tuple[tuple[str, str], ...], native: dict[str, Any]
) -> None:
    sent = adapter.to_system(call("list_dossiers", query=query))

    assert json.loads(sent.body) == {"service": "LayDanhSachHoSo", **native}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ((("province", "1"),), "province"),
        ((("province", "H33"),), "province"),
        ((("status", "11"),), "status"),
        ((("status", "done"),), "status"),
        ((("page", "0"),), "page"),
        ((("size", "101"),), "size"),
        ((("size", "²"),), "size"),
        ((("page", "1"), ("page", "2")), "page"),
    ],
)
def test_invalid_list_query_names_the_parameter(
    adapter: DvcqgAdapter, query: tuple[tuple[str, str], ...], name: str
) -> None:
    with pytest.raises(InvalidDossierRequest) as raised:
        adapter.to_system(call("list_dossiers", query=query))

    assert ["query", name] in [error["loc"] for error in raised.value.errors]


@pytest.mark.parametrize(
    ("operation", "service"),
    [("list_dossiers", "LayDanhSachHoSo"), ("list_agencies", "LayDanhMucCoQuan")],
)
def test_a_parameter_the_operation_does_not_take_is_ignored(
    adapter: DvcqgAdapter, operation: str, service: str
) -> None:
    """As every REST service of the bus does (a cache-busting `_=` from a browser included)."""
    query = (("province", "92"), ("_", "1733562000000"), ("applicant", CCCD))

    sent = json.loads(adapter.to_system(call(operation, query=query)).body)

    assert (sent["service"], sent["MaTinh"]) == (service, "92")
    assert not {"_", "applicant"} & set(sent)


def test_unknown_operation_is_reported(adapter: DvcqgAdapter) -> None:
    with pytest.raises(UnknownOperation):
        adapter.to_system(call("delete_dossier"))


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ket_qua", "outcome"),
    [
        ("TAO_MOI", "created"),
        ("CAP_NHAT", "updated"),
        ("KHONG_DOI", "unchanged"),
        ("CU_HON", "stale"),
    ],
)
@pytest.mark.parametrize("duplicate", [False, True])
def test_sync_answer_reads_outcome_step_entry_and_duplicate(
    adapter: DvcqgAdapter, ket_qua: str, outcome: str, duplicate: bool
) -> None:
    result = [{"MaHoSo": CODE, "KetQua": ket_qua, "ThuTu": 3, "SoTienTrinhMoi": 0}]

    read = adapter.to_canonical(
        call("sync_dossier", body=sync_body()), answer(200, "0", result, TrungLap=duplicate)
    )

    assert read.status == 200
    assert read.content == {
        "code": CODE,
        "national_step": 3,
        "outcome": outcome,
        "progress_recorded": False,
        "duplicate": duplicate,
    }
    CONTRACTS["dvcqg"]["sync_dossier"].response.model_validate(read.content)


@pytest.mark.parametrize(
    ("operation", "status", "error_code", "error"),
    [
        ("sync_dossier", 400, "-1", InvalidDossierRequest),
        ("sync_dossier", 422, "-4", IdempotencyKeyReused),
        ("sync_dossier", 409, "-5", DossierOfAnotherProvince),
        ("sync_dossier", 409, "-3", DvcqgAnswerInvalid),  # the adapter never inserts only
        ("sync_dossier", 500, "-1", DvcqgAnswerInvalid),
        ("get_dossier", 400, "-1", InvalidDossierRequest),
        ("get_dossier", 404, "-2", DvcqgAnswerInvalid),
        ("list_dossiers", 400, "-1", InvalidDossierRequest),
        ("list_dossiers", 200, "99", DvcqgAnswerInvalid),
    ],
)
def test_portal_errors_map_to_problems(
    adapter: DvcqgAdapter,
    operation: str,
    status: int,
    error_code: str,
    error: type[TranslationError],
) -> None:
    request = call(operation, body=sync_body() if operation == "sync_dossier" else None)

    with pytest.raises(error) as raised:
        adapter.to_canonical(request, answer(status, error_code))

    assert raised.value.status == error.status
    assert error in CONTRACTS["dvcqg"][operation].errors


def test_a_dossier_never_synced_is_not_found(adapter: DvcqgAdapter) -> None:
    with pytest.raises(DossierNotFound) as raised:
        adapter.to_canonical(call("get_dossier"), answer(200, "0", []))

    assert raised.value.status == 404


def test_the_national_view_masks_the_applicants_number(adapter: DvcqgAdapter) -> None:
    read = adapter.to_canonical(call("get_dossier"), answer(200, "0", [national_hoso()]))

    view = read.content
    CONTRACTS["dvcqg"]["get_dossier"].response.model_validate(view)
    assert view["applicant"] == {
        "kind": "citizen",
        "full_name": "Nguyễn Minh Vũ",
        "identification": {"type": "cccd", "number_masked": "091*******99"},
    }
    assert CCCD not in json.dumps(view)
    assert (view["province_code"], view["step"], view["status"]) == (
        "91",
        2,
        {"code": 2, "name": "received"},
    )
    assert view["synced_at"] == "2026-03-02T09:30:05+07:00"
    assert [(e["step"], e["action"], e["started_at"]) for e in view["history"]] == [
        (1, "submit", "2026-03-02T09:00:00+07:00"),
        (2, None, None),
    ]


def test_a_page_reads_items_without_history(adapter: DvcqgAdapter) -> None:
    item = {k: v for k, v in national_hoso().items() if k != "TienTrinh"}
    page = {"TongSo": 41, "Trang": 2, "SoBanGhi": 20, "DanhSach": [item]}

    read = adapter.to_canonical(call("list_dossiers"), answer(200, "0", page))

    CONTRACTS["dvcqg"]["list_dossiers"].response.model_validate(read.content)
    assert (read.content["total"], read.content["page"], read.content["size"]) == (41, 2, 20)
    assert "history" not in read.content["items"][0]


BROKEN_DOSSIERS = [
    pytest.param({"MaTinh": None}, id="no-province"),
    pytest.param({"ThuTu": 0}, id="step-zero"),
    pytest.param({"ThuTu": True}, id="step-bool"),
    pytest.param({"TrangThaiHoSo": "11"}, id="status-11"),
    pytest.param({"TrangThaiHoSo": 2}, id="status-int"),
    pytest.param({"NgayNopHoSo": "2026-03-02"}, id="iso-date"),
    pytest.param({"NgayTiepNhan": "20260230093000"}, id="30-february"),
    pytest.param({"NgayDongBo": None}, id="no-sync-time"),
    pytest.param({"KenhThucHien": "9"}, id="channel"),
    pytest.param({"LoaiDoiTuong": "5"}, id="applicant-kind"),
    pytest.param({"MaLinhVuc": None}, id="field-half"),
    pytest.param({"DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": CCCD}] * 2}, id="two-ids"),
    pytest.param({"DinhDanhCHS": [{"LoaiDinhDanh": "3", "SoDinhDanh": CCCD}]}, id="id-type"),
    pytest.param({"DonViXuLy": "Công an"}, id="agency-text"),
    pytest.param({"TienTrinh": {}}, id="history-object"),
    pytest.param({"TienTrinh": [{"ThuTu": 1}]}, id="entry-incomplete"),
]


@pytest.mark.parametrize("changes", BROKEN_DOSSIERS)
def test_an_unreadable_national_dossier_is_a_bad_gateway(
    adapter: DvcqgAdapter, changes: dict[str, Any]
) -> None:
    with pytest.raises(DvcqgAnswerInvalid) as raised:
        adapter.to_canonical(call("get_dossier"), answer(200, "0", [national_hoso(**changes)]))

    assert raised.value.status == 502
    assert CCCD not in raised.value.detail


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("sync_dossier", b"<html>oops</html>"),
        ("sync_dossier", b"[]"),
        ("sync_dossier", json.dumps({"error_code": "0", "result": [], "TrungLap": False})),
        (
            "sync_dossier",
            json.dumps(
                {
                    "error_code": "0",
                    "result": [{"MaHoSo": CODE, "KetQua": "OK", "ThuTu": 1, "SoTienTrinhMoi": 1}],
                    "TrungLap": False,
                }
            ),
        ),
        (
            "sync_dossier",
            json.dumps(
                {
                    "error_code": "0",
                    "result": [
                        {"MaHoSo": CODE, "KetQua": "TAO_MOI", "ThuTu": 1, "SoTienTrinhMoi": 1}
                    ],
                }
            ),
        ),
        ("get_dossier", json.dumps({"error_code": "0", "result": {"MaHoSo": CODE}})),
        ("get_dossier", json.dumps({"error_code": "0", "result": [{}, {}]})),
        ("list_dossiers", json.dumps({"error_code": "0", "result": []})),
        ("list_dossiers", json.dumps({"error_code": "0", "result": {"DanhSach": None}})),
        ("list_dossiers", b"\xff\xfe"),
    ],
)
def test_an_unreadable_answer_is_a_bad_gateway(
    adapter: DvcqgAdapter, operation: str, body: str | bytes
) -> None:
    raw = body.encode() if isinstance(body, str) else body
    request = call(operation, body=sync_body() if operation == "sync_dossier" else None)

    with pytest.raises(DvcqgAnswerInvalid):
        adapter.to_canonical(request, SystemResponse(200, raw, "application/json"))


# --- pure helpers ----------------------------------------------------------------------------


@given(st.from_regex(r"[0-9]{9}|[0-9]{12}", fullmatch=True))
def test_a_masked_number_keeps_its_length_province_and_last_two_digits(number: str) -> None:
    masked = mask_id_number(number)

    assert len(masked) == len(number)
    assert (masked[:3], masked[-2:]) == (number[:3], number[-2:])
    assert set(masked[3:-2]) == {"*"}


# --- the catalog -----------------------------------------------------------------------------


def test_catalog_files_name_operations_their_adapters_publish() -> None:
    catalog = load_catalog(SERVICES_DIR, known_adapters=set(ADAPTERS))

    for service_id in ("dvcqg", "csdlqgdc"):
        service = catalog.get(service_id, "v1")
        assert service is not None
        assert service.owner == "national"
        assert {op.id for op in service.operations} == set(CONTRACTS[service.adapter])
    csdlqgdc = catalog.get("csdlqgdc", "v1")
    dancu = catalog.get("dancu", "v1")
    assert csdlqgdc is not None
    assert dancu is not None
    assert [(o.id, o.method, o.path) for o in csdlqgdc.operations] == [
        (o.id, o.method, o.path) for o in dancu.operations
    ]


# --- round trip: what a portal syncs is what the national view reads ------------------------

_VIETNAM = timezone(timedelta(hours=7))
_MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2099, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, _VIETNAM]),
).map(lambda moment: moment.replace(microsecond=0))
_WORDS = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda text: text.strip() != "")


@given(
    step=st.integers(1, 1000),
    status=st.integers(1, 10),
    kind=st.sampled_from(["citizen", "business", "agency", "organisation"]),
    channel=st.sampled_from(["direct", "online", "postal"]),
    name=_WORDS,
    actor=_WORDS,
    note=st.text(max_size=100),
    submitted=_MOMENTS,
    received=st.none() | _MOMENTS,
    at=_MOMENTS,
)
def test_what_is_synced_reads_back_as_the_national_view(
    step: int,
    status: int,
    kind: str,
    channel: str,
    name: str,
    actor: str,
    note: str,
    submitted: datetime,
    received: datetime | None,
    at: datetime,
) -> None:
    adapter = DvcqgAdapter(today=lambda: TODAY)
    body = sync_body(step=step)
    body["dossier"].update(
        status=status,
        channel=channel,
        applicant={"kind": kind, "full_name": name},
        submitted_at=submitted.isoformat(),
        received_at=received.isoformat() if received is not None else None,
        due_at=None,
    )
    body["progress"] = {"status": status, "at": at.isoformat(), "actor": actor, "note": note}

    sent = adapter.to_system(call("sync_dossier", body=body))
    [item] = json.loads(sent.body)["data"]
    stored = {**item, "NgayDongBo": "20260302090000"}  # what TraCuuHoSo adds
    view = adapter.to_canonical(call("get_dossier"), answer(200, "0", [stored])).content

    CONTRACTS["dvcqg"]["get_dossier"].response.model_validate(view)
    assert (view["step"], view["status"]["code"], view["channel"]) == (step, status, channel)
    assert view["applicant"] == {"kind": kind, "full_name": name, "identification": None}
    assert datetime.fromisoformat(view["submitted_at"]) == submitted
    received_back = view["received_at"]
    assert (received_back and datetime.fromisoformat(received_back)) == received
    [entry] = view["history"]
    assert (entry["step"], entry["actor"], entry["note"], entry["action"]) == (
        step,
        actor,
        note,
        None,
    )
    assert datetime.fromisoformat(entry["at"]) == at
