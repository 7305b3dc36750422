"""The DVCQG adapter protocol's translations (`adapters.dialects.opencps`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters._dvcqg_contracts import SyncRequest
from adapters.dialects import opencps as dvc

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


@pytest.mark.parametrize("value", [b"[]", b"\xff", b"{", b'"x"'])
def test_a_body_that_is_no_object_is_refused(value: bytes) -> None:
    with pytest.raises(dvc.ProtocolError):
        dvc.parse_object(value)


def test_a_login_never_shows_its_password() -> None:
    login = dvc.parse_login(b'{"username": "u", "password": "secret-1"}')

    assert "secret-1" not in repr(login)
