"""The DVCQG adapter protocol's translations (`adapters.dialects.opencps`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters._dvcqg_contracts import SyncRequest
from adapters.dialects import opencps as dvc
from tests.fixtures.dossiers import opencps_entry

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def item(**changes: Any) -> dict[str, Any]:
    """A dossier as OpenCPS's `createSyncDossierBodyRequest` writes it."""
    return {
        "MaHoSo": "000.00.06.H33-261206-0001",
        "MaTTHC": "1.001193.000.00.00.H33",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "",
        "TenLinhVuc": "",
        "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": "1",
        "Email": "an@example.vn",
        "SoDienThoai": "0912345678",
        "TrichYeuHoSo": "Khai sinh",
        "NgayTiepNhan": "20261206090000",
        "NgayHenTra": "",
        "TrangThaiHoSo": "2",
        "HinhThuc": "0",
        "DonViXuLy": "Ủy ban nhân dân phường Vĩnh Thanh",
        "TaiLieuNop": [],
        "DanhSachLePhi": [],
        **changes,
    }


def test_an_opencps_dossier_is_a_valid_sync_request() -> None:
    body = dvc.sync_body(item(), province_code="91", step=1, now=NOW)

    request = SyncRequest.model_validate_json(json.dumps(body))
    assert request.dossier.agency.id == "000.00.06.H33"
    assert request.dossier.agency.name == "Ủy ban nhân dân phường Vĩnh Thanh"
    assert request.dossier.field is None
    assert request.dossier.submitted_at == request.dossier.received_at
    assert request.dossier.received_at == datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    assert request.progress.status == request.dossier.status == 2
    assert "an@example.vn" not in str(body)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"TrangThaiHoSo": "0"}, "TrangThaiHoSo"),
        ({"LoaiDoiTuong": "9"}, "LoaiDoiTuong"),
        ({"HinhThuc": 1.5}, "HinhThuc"),
        ({"NgayTiepNhan": "", "NgayNopHoSo": ""}, "NgayTiepNhan"),
        ({"DanhSachLePhi": [{}] * (dvc.MAX_ITEMS + 1)}, "DanhSachLePhi"),
        ({"Email": "x" * (dvc.MAX_TEXT + 1)}, "Email"),
        ({"DonViXuLy": None}, "DonViXuLy"),
    ],
)
def test_a_bad_dossier_names_its_field(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(dvc.ProtocolError, match=named) as raised:
        dvc.sync_body(item(**changes), province_code="91", step=1, now=NOW)

    assert raised.value.code == dvc.BAD_REQUEST


@pytest.mark.parametrize(
    "code",
    [
        "000.00.06.H33/../../admin-261206-0001",  # the core's path: MaHoSo goes into it
        "000.00.06.H33?x=1-261206-0001",
        "..-261206-0001",
        "000.00.06.H33-٢٦١٢٠٦-0001",  # Arabic-Indic digits, which `\d` matches
        "000.00.06.h33-261206-0001",
    ],
)
def test_a_dossier_code_is_an_organ_id_a_date_and_a_number_only(code: str) -> None:
    """Security review 2026-12: the code was anything of up to 40 characters before its
    date and number, and became part of the core's request path."""
    with pytest.raises(dvc.ProtocolError, match="MaHoSo") as raised:
        dvc.dossier_code({"MaHoSo": code})

    assert raised.value.code == dvc.BAD_REQUEST
    assert dvc.dossier_code(item()) == "000.00.06.H33-261206-0001"


@pytest.mark.parametrize("value", [b"[]", b"\xff", b"{", b'"x"'])
def test_a_body_that_is_no_object_is_refused(value: bytes) -> None:
    with pytest.raises(dvc.ProtocolError):
        dvc.parse_object(value)


def test_a_login_never_shows_its_password() -> None:
    login = dvc.parse_login(b'{"username": "u", "password": "secret-1"}')

    assert "secret-1" not in repr(login)


ENTRY = opencps_entry("000.00.06.H33-261206-0001")


def test_an_opencps_progress_entry_is_a_valid_progress_in_vietnam_time() -> None:
    progress = dvc.progress_entry(ENTRY)

    assert progress == {
        "status": 4,
        "at": "2026-12-07T10:00:00+07:00",
        "actor": "Trần Thị Bình",
        "position": "",
        "department": "",
        "note": "Chuyển phòng chuyên môn thẩm định",
        "started_at": None,
        "due_at": None,
    }


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"TrangThai": "0"}, "TrangThai"),
        ({"ThoiDiemXuLy": ""}, "ThoiDiemXuLy"),
        ({"NguoiXuLy": ""}, "NguoiXuLy"),
        ({"NgayKetThucTheoQuyDinh": "x"}, "NgayKetThucTheoQuyDinh"),
        ({"PhongBanXuLy": "x" * 201}, "PhongBanXuLy"),
    ],
)
def test_a_bad_progress_entry_names_its_field(changes: dict[str, str], named: str) -> None:
    with pytest.raises(dvc.ProtocolError, match=named):
        dvc.progress_entry({**ENTRY, **changes})


def test_a_batch_entry_dated_ahead_is_refused_by_its_place_in_data() -> None:
    entries = [
        dvc.progress_entry(ENTRY),
        dvc.progress_entry({**ENTRY, "ThoiDiemXuLy": "20261207100001"}),
    ]

    with pytest.raises(dvc.ProtocolError, match=r"data\[1\]\.ThoiDiemXuLy") as refused:
        dvc.refuse_ahead(entries, datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    dvc.refuse_ahead(entries[:1], datetime(2026, 12, 7, 3, 0, tzinfo=UTC))  # at the limit: taken

    assert refused.value.code == dvc.BAD_REQUEST


def test_an_entry_takes_the_step_after_the_snapshot_and_every_entry() -> None:
    assert dvc.next_step({"step": 3, "history": [{"step": 1}, {"step": 5}]}) == 6
    assert dvc.next_step({"step": 3, "history": []}) == 4


def test_catalogue_rows_are_in_the_names_opencps_reads() -> None:
    agency = {"id": "000.00.06.H33", "name": "UBND phường Vĩnh Thanh", "level": "commune"}
    field = {"code": "Z00-HT01", "name": "Hộ tịch"}

    assert dvc.agency_row(agency) == {
        "MADONVI": "000.00.06.H33",
        "TENDONVI": "UBND phường Vĩnh Thanh",
        "CAPDONVI": "3",
    }
    assert dvc.field_row(field, sector="000.00.00.H33") == {
        "MALINHVUC": "Z00-HT01",
        "TENLINHVUC": "Hộ tịch",
        "MANGANH": "000.00.00.H33",
    }


@pytest.mark.parametrize(
    ("error", "message"),
    [
        pytest.param(
            dvc.ProtocolError("page must be 1."), "INVALID_REQUEST: page must be 1.", id="plain"
        ),
        pytest.param(
            dvc.ProtocolError("CMND: every item must be an object."),
            "INVALID_REQUEST: CMND: every item must be an object.",
            id="a-field-in-capitals-is-no-code",
        ),
        pytest.param(
            dvc.ProtocolError("INVALID_DOSSIER_REQUEST: data[1].ThuTu x"),
            "INVALID_DOSSIER_REQUEST: data[1].ThuTu x",
            id="an-entry-keeps-its-code",
        ),
        pytest.param(
            dvc.ProtocolError("AGENCY_CODE_CLOSED: dstcode 000.00.00.H53: closed."),
            "AGENCY_CODE_CLOSED: dstcode 000.00.00.H53: closed.",
            id="a-closed-code-keeps-its-code",
        ),
        pytest.param(
            dvc.ProtocolError("The session is unknown.", dvc.AUTH_FAILED),
            "The session is unknown.",
            id="not-a-bad-request",
        ),
    ],
)
def test_a_bad_request_is_led_by_one_stable_code(error: dvc.ProtocolError, message: str) -> None:
    assert dvc.refusal(error) == {"error_code": error.code, "message": message}
