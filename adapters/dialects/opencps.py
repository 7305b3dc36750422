"""The DVCQG adapter protocol as OpenCPS speaks it (DOMAIN.md §2.3, §4.2, §4.3).

Source: `VietOpenCPS/opencps-v2`, `DVCQGIntegrationActionImpl.java`. A client authenticates with
`POST {auth} {username, password}` and the header `dstcode`, reads `{error_code, message,
session}`, then posts `{session, madonvi, service, …}` to `{integration}` with the same header
and reads `{error_code, message, result[]}`. OpenCPS reads `error_code` as a number (0 is OK);
the Thanh Hóa client compares strings and takes `"3"`/`"-3"` with "đã tồn tại" as "exists,
update instead". Codes other than "0" and "-3" are assigned here (README "Dialects").

The catalogues' rows are the names `doSyncGovernmentAgency` (`MADONVI`, `TENDONVI`, `CAPDONVI`)
and `doSyncServiceDomain` (`MALINHVUC`, `TENLINHVUC`, `MANGANH`) read; a progress entry is the
object `createSyncDossierStatusBodyRequest` writes (DOMAIN.md §4.3).

Pure translations: bodies in, canonical bodies out, and back; nothing here reads the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from adapters._dvcqg_contracts import ProgressEntry
from adapters.dvcqg import CAPDONVI
from formats.agency_codes import AgencyCodeClosed, refuse_closed
from formats.codes import DOSSIER_CODE, ID_TYPES, ORGAN_ID, ORGAN_ID_LENIENT
from formats.dates import format_dvcqg_time, parse_dvcqg_time
from formats.ngsp import request_object

DSTCODE_HEADER = "dstcode"
AUTH_PATH, INTEGRATION_PATH = "/auth", "/integration"
"""Below the door: `adapter_url + auth_endpoint` and `+ integration_endpoint` (assigned)."""
MAX_BODY = 256 * 1024
MAX_TEXT = 2000
MAX_ITEMS = 50
"""Dossiers in one `DongBoHoSoMC` (OpenCPS sends one at a time)."""
MAX_DSTCODE = 64

OK = "0"
EXISTS = "-3"  # sourced: the Thanh Hóa client updates on "3"/"-3" with "đã tồn tại"
# Assigned: the real adapter's other codes are not in any public source.
AUTH_FAILED = "-1"
BAD_REQUEST = "-2"
NOT_FOUND = "-4"
NOT_OFFERED = "-5"
REFUSED = "-6"
UNAVAILABLE = "-9"

SERVICES = (
    "LayThuTuc",
    "LayDanhSachTTHC",
    "LayDanhMucCoQuan",
    "LayDanhMucLinhVuc",
    "TraCuuHoSo",
    "DongBoHoSoMC",
    "CapNhatTienDoHoSoMC",
)

_DOSSIER_CODE = re.compile(DOSSIER_CODE)
"""MaHoSo as the bus writes it: it goes into the core's request path, so nothing else (no `/`,
`?`, `..` nor digits of another script)."""
_ORGAN_ID = re.compile(ORGAN_ID)
_APPLICANT_KINDS = {"1": "citizen", "2": "business", "3": "agency", "4": "organisation"}
_CHANNELS = {"1": "direct", "2": "online", "3": "postal"}
_ID_TYPES = {number: kind for kind, number in ID_TYPES.items()}


class ProtocolError(ValueError):
    """A body the protocol does not allow; `code` is the error_code to answer with."""

    def __init__(self, message: str, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code


ENTRY_REFUSED = "INVALID_DOSSIER_REQUEST"
"""The bus's stable code at the head of a refused entry's message, as the national portal's
own refusal of a dossier or progress body carries it."""


@contextmanager
def entry_of(index: int) -> Iterator[None]:
    """Every ProtocolError raised inside as one of `data[index]`: its message led by the stable
    code and the entry's place (`INVALID_DOSSIER_REQUEST: data[1].TrangThaiHoSo …`), the one
    place every per-entry check of a batch is named, so that a caller finds which entry of a
    batch none of which was sent is wrong. The checks' messages begin with the field's name."""
    try:
        yield
    except ProtocolError as error:
        message = f"{ENTRY_REFUSED}: data[{index}].{error}"
        raise ProtocolError(message, error.code) from None


def refuse_closed_codes(named: Mapping[str, str], on: date) -> None:
    """ProtocolError for an organ id (`dstcode`, `madonvi`: name → value) under a level-1
    code the 2025 merger closed, as the bus refuses one elsewhere (AGENCY_CODE_CLOSED, which
    the message starts with, as OpenCPS's `error_code` must be a number), naming the body
    that succeeds it."""
    for name, organ_id in named.items():
        try:
            refuse_closed([organ_id], on)
        except AgencyCodeClosed as closed:
            use = closed.extensions.get("successor_organ_id")  # a district body has none
            advice = f" Use {use}." if use is not None else ""
            message = f"{closed.code}: {name} {organ_id}: {closed.detail}{advice}"
            raise ProtocolError(message) from None


def reply(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error_code": code, "message": message, **extra}


REQUEST_REFUSED = "INVALID_REQUEST"
"""The bus's stable code at the head of a -2 refusing the request as a whole (its body, its
header, a field outside `data`'s entries), as `ENTRY_REFUSED` heads an entry's: OpenCPS's
`error_code` is a number shared by every bad request, its message free text (assigned)."""
_CODED = (f"{ENTRY_REFUSED}: ", f"{AgencyCodeClosed.code}: ")
"""The stable codes a check puts at the head of its own message (`entry_of`,
`refuse_closed_codes`): named, not guessed from a message's shape, as a field's name in
capitals (`CMND: …`) would look like one."""


def refusal(error: ProtocolError) -> dict[str, Any]:
    """The reply to `error`: a -2's message led by a stable code, `REQUEST_REFUSED` where the
    check named none (an entry's, a closed agency code's and a core's come with their own),
    so that a caller can tell refusals apart without parsing their prose."""
    message = str(error)
    if error.code == BAD_REQUEST and not message.startswith(_CODED):
        message = f"{REQUEST_REFUSED}: {message}"
    return reply(error.code, message)


def parse_object(body: bytes) -> dict[str, Any]:
    """The JSON object a request carries; bounded by the caller (`MAX_BODY`)."""
    document = request_object(body)
    if document is None:
        raise ProtocolError("The body is not a JSON object.")
    return document


def text(document: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string field (numbers are taken as OpenCPS writes them); empty counts as absent."""
    value = document.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        if required:
            raise ProtocolError(f"{name} is required.")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ProtocolError(f"{name} must be a string of at most {MAX_TEXT} characters.")
    return value


def required(document: Mapping[str, Any], name: str) -> str:
    value = text(document, name)
    if value is None:  # text() has raised already; this tells the type checker
        raise ProtocolError(f"{name} is required.")
    return value


@dataclass(frozen=True)
class Login:
    username: str
    password: str

    def __repr__(self) -> str:  # never the password
        return f"Login(username={self.username!r})"


def parse_login(body: bytes) -> Login:
    document = parse_object(body)
    return Login(required(document, "username"), required(document, "password"))


def procedure_row(procedure: Mapping[str, Any]) -> dict[str, Any]:
    """An item of `LayDanhSachTTHC`'s `result` (OpenCPS reads `MATTHC`, `TENTTHC`)."""
    return {**_procedure_names(procedure), **_field_names(procedure)}


def procedure_detail(procedure: Mapping[str, Any]) -> dict[str, Any]:
    """`LayThuTuc`'s `result[0]`: OpenCPS reads `TENTTHC` and `LINHVUCTHUCHIEN[0]`."""
    agency = procedure.get("agency") or {}
    return {
        **_procedure_names(procedure),
        "LINHVUCTHUCHIEN": [_field_names(procedure)],
        "COQUANTHUCHIEN": [{"MADONVI": agency.get("id"), "TENDONVI": agency.get("name")}],
        "CAPTHUCHIEN": procedure.get("level"),
        "THOIHANGIAIQUYET": procedure.get("processing_days"),
        "LEPHI": procedure.get("fee_vnd"),
    }


def _procedure_names(procedure: Mapping[str, Any]) -> dict[str, Any]:
    return {"MATTHC": procedure.get("code"), "TENTTHC": procedure.get("name")}


def _field_names(procedure: Mapping[str, Any]) -> dict[str, Any]:
    field = procedure.get("field") or {}
    return {"MALINHVUC": field.get("code"), "TENLINHVUC": field.get("name")}


def national_row(dossier: Mapping[str, Any]) -> dict[str, Any]:
    """`TraCuuHoSo`'s `result[0]`: the national view in the protocol's names, with its progress
    entries as `CapNhatTienDoHoSoMC` sends them (`TienTrinh`; assigned: OpenCPS reads only
    whether a row came back)."""
    procedure = dossier.get("procedure") or {}
    agency = dossier.get("agency") or {}
    status = dossier.get("status") or {}
    return {
        "MaHoSo": dossier.get("code"),
        "MaTTHC": procedure.get("code"),
        "TenTTHC": procedure.get("name"),
        "TrangThaiHoSo": str(status.get("code", "")),
        "DonViXuLy": agency.get("name"),
        "NgayDongBo": _native_time(dossier.get("synced_at")),
        "TienTrinh": [_entry_row(entry) for entry in dossier.get("history") or []],
    }


def _entry_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "NguoiXuLy": entry.get("actor"),
        "ChucDanh": entry.get("position"),
        "ThoiDiemXuLy": _native_time(entry.get("at")),
        "PhongBanXuLy": entry.get("department"),
        "NoiDungXuLy": entry.get("note"),
        "TrangThai": str((entry.get("status") or {}).get("code", "")),
        "NgayBatDau": _native_time(entry.get("started_at")) or "",
        "NgayKetThucTheoQuyDinh": _native_time(entry.get("due_at")) or "",
    }


def next_step(national: Mapping[str, Any]) -> int:
    """The position after every step the national view holds: its snapshot's and its
    entries' (a `CapNhatTienDoHoSoMC` entry takes a step of its own)."""
    steps = [int(entry.get("step", 0)) for entry in national.get("history") or []]
    return max([int(national.get("step", 0)), *steps]) + 1


def agency_row(agency: Mapping[str, Any]) -> dict[str, Any]:
    """An item of `LayDanhMucCoQuan`'s `result`."""
    return {
        "MADONVI": agency.get("id"),
        "TENDONVI": agency.get("name"),
        "CAPDONVI": CAPDONVI.get(str(agency.get("level")), ""),
    }


def field_row(field: Mapping[str, Any], *, sector: str) -> dict[str, Any]:
    """An item of `LayDanhMucLinhVuc`'s `result`. `MANGANH` (the sector owning the field) has
    no sourced values: it is the caller's `madonvi` (assigned), so that OpenCPS, which keeps
    only the fields whose `MANGANH` is its own `madonvi`, keeps them all."""
    return {"MALINHVUC": field.get("code"), "TENLINHVUC": field.get("name"), "MANGANH": sector}


def progress_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A `CapNhatTienDoHoSoMC` entry as the `progress` of `dvcqg record_progress`'s body.
    OpenCPS sends `ChucDanh`, `PhongBanXuLy`, `NgayBatDau` and `NgayKetThucTheoQuyDinh`
    empty. Checked against the operation's contract here, so that a bad entry of a list is
    refused before any is recorded."""
    progress = {
        "status": status_code(entry, "TrangThai"),
        "at": _time(entry, "ThoiDiemXuLy") or _missing("ThoiDiemXuLy"),
        "actor": required(entry, "NguoiXuLy"),
        "position": text(entry, "ChucDanh", required=False) or "",
        "department": text(entry, "PhongBanXuLy", required=False) or "",
        "note": text(entry, "NoiDungXuLy", required=False) or "",
        "started_at": _time(entry, "NgayBatDau"),
        "due_at": _time(entry, "NgayKetThucTheoQuyDinh"),
    }
    try:
        ProgressEntry.model_validate_json(json.dumps(progress))
    except ValidationError as error:
        where = ", ".join(str(detail["loc"][0]) for detail in error.errors(include_url=False))
        raise ProtocolError(f"{_NATIVE_NAMES.get(where, where)} is not valid.") from None
    return progress


def refuse_ahead(entries: Sequence[Mapping[str, Any]], latest: datetime) -> None:
    """ProtocolError for the first `progress_entry` dated after `latest`, named by its place in
    `data`: the national portal refuses it (`future_dated`), and a batch is checked whole before
    any of it is sent, so that none is recorded (`entry_of` names it)."""
    for index, entry in enumerate(entries):
        if datetime.fromisoformat(entry["at"]) > latest:
            with entry_of(index):
                raise ProtocolError(
                    "ThoiDiemXuLy is later than now in Vietnam: a step is recorded once it is "
                    "taken (future_dated). Nothing of the batch was recorded."
                )


_NATIVE_NAMES = {
    "status": "TrangThai",
    "at": "ThoiDiemXuLy",
    "actor": "NguoiXuLy",
    "position": "ChucDanh",
    "department": "PhongBanXuLy",
    "note": "NoiDungXuLy",
    "started_at": "NgayBatDau",
    "due_at": "NgayKetThucTheoQuyDinh",
}


def _missing(name: str) -> str:
    raise ProtocolError(f"{name} is required.")


def status_code(item: Mapping[str, Any], name: str) -> int:
    """A §4.1 status (`TrangThaiHoSo`, `TrangThai`): the strings "1" to "10"."""
    value = required(item, name)
    if not value.isdigit() or not 1 <= int(value) <= 10:
        raise ProtocolError(f"{name} must be a code from 1 to 10.")
    return int(value)


def _native_time(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return format_dvcqg_time(datetime.fromisoformat(value))
    except ValueError:
        return None


def _time(item: Mapping[str, Any], name: str) -> str | None:
    value = text(item, name, required=False)
    if value is None:
        return None
    try:
        return parse_dvcqg_time(value).isoformat()
    except ValueError as error:
        raise ProtocolError(f"{name}: {error}.") from None


_LENIENT_ORGAN_ID = re.compile(ORGAN_ID_LENIENT)


def organ_id(document: Mapping[str, Any], name: str) -> str:
    """An organ id (`madonvi`), refused as the request's (`refusal`: INVALID_REQUEST) when it
    is none. In the lenient form DVCQG payloads are
    seen with (two or three digits in the first groups, formats.codes), as the national
    portal's own contract takes it: the door is no stricter than the portal behind it."""
    value = document.get(name)
    if not isinstance(value, str) or not _LENIENT_ORGAN_ID.fullmatch(value):  # absent too
        raise ProtocolError(f"{name} must be an organ id (000.00.00.H01).")
    return value


def dossier_code(item: Mapping[str, Any]) -> str:
    code = required(item, "MaHoSo")
    if not _DOSSIER_CODE.fullmatch(code):
        raise ProtocolError("MaHoSo must be {agencyId}-{yyMMdd}-{NNNN}.")
    return code


def is_updating(document: Mapping[str, Any]) -> bool:
    """`isUpdating`: OpenCPS sends the strings "True"/"False"."""
    value = document.get("isUpdating", "False")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ProtocolError('isUpdating must be "True" or "False".')


def items(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = document.get("data")
    if not isinstance(data, list) or not data or len(data) > MAX_ITEMS:
        raise ProtocolError(f"data must be a list of 1 to {MAX_ITEMS} items.")
    if not all(isinstance(item, dict) for item in data):
        raise ProtocolError("Every item of data must be an object.")
    return data


def _list(item: Mapping[str, Any], name: str) -> list[Any]:
    """The lists OpenCPS sends (`TaiLieuNop`, `DanhSachLePhi`, …): read and bounded, not kept
    (the national view has no place for them)."""
    value = item.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ProtocolError(f"{name} must be a list of at most {MAX_ITEMS} items.")
    if not all(isinstance(entry, dict) for entry in value):
        raise ProtocolError(f"{name}: every item must be an object.")
    return value


LISTS = (
    "TaiLieuNop",
    "DanhSachLePhi",
    "DanhSachTepDinhKemKhac",
    "DanhSachHoSoBoSung",
    "DanhSachGiayToKetQua",
)


def sync_body(
    item: Mapping[str, Any], *, province_code: str, step: int, now: datetime
) -> dict[str, Any]:
    """A `DongBoHoSoMC` dossier as `dvcqg sync_dossier`'s body.

    `DonViXuLy` is the agency's name (OpenCPS `getGovAgencyName`); the agency's id is the head
    of `MaHoSo`. OpenCPS sends no `NgayNopHoSo`, so the filing time falls back to
    `NgayTiepNhan`. The progress entry the bus records with each change is the dossier's own
    status, at `now`, by the agency (assigned: the protocol sends it apart, with
    `CapNhatTienDoHoSoMC`)."""
    code = dossier_code(item)
    agency_id = code.rsplit("-", 2)[0]
    agency_name = required(item, "DonViXuLy")
    status = status_code(item, "TrangThaiHoSo")
    kind = _APPLICANT_KINDS.get(text(item, "LoaiDoiTuong", required=False) or "1")
    if kind is None:
        raise ProtocolError("LoaiDoiTuong must be 1, 2, 3 or 4.")
    channel = _CHANNELS.get(text(item, "KenhThucHien", required=False) or "2")
    if channel is None:
        raise ProtocolError("KenhThucHien must be 1, 2 or 3.")
    hinh_thuc = text(item, "HinhThuc", required=False)
    if hinh_thuc not in (None, "0", "1"):
        raise ProtocolError('HinhThuc must be "0" or "1".')
    for name in ("Email", "Fax", "SoDienThoai", "ThongTinKhac", "ThongTinTra", "GhiChu"):
        text(item, name, required=False)  # contact fields: checked, not kept (privacy)
    for name in LISTS:
        _list(item, name)
    submitted = _time(item, "NgayNopHoSo") or _time(item, "NgayTiepNhan")
    if submitted is None:
        raise ProtocolError("NgayNopHoSo or NgayTiepNhan is required.")
    field_code = text(item, "MaLinhVuc", required=False)
    field_name = text(item, "TenLinhVuc", required=False)
    summary = text(item, "TrichYeuHoSo", required=False) or text(item, "TenTTHC")
    return {
        "province_code": province_code,
        "step": step,
        "dossier": {
            "code": code,
            "procedure": {"code": text(item, "MaTTHC"), "name": text(item, "TenTTHC")},
            "field": {"code": field_code, "name": field_name}
            if field_code and field_name
            else None,
            "agency": {"id": agency_id, "name": agency_name},
            "channel": channel,
            "applicant": {
                "kind": kind,
                "full_name": text(item, "ChuHoSo"),
                "identification": _identification(item),
            },
            "summary": summary,
            "status": status,
            "submitted_at": submitted,
            "received_at": _time(item, "NgayTiepNhan"),
            "due_at": _time(item, "NgayHenTra"),
            "completed_at": _time(item, "NgayKetThucXuLy"),
            "returned_at": _time(item, "NgayTra"),
            "refused_at": _time(item, "NgayTuChoi"),
            "supplement_requested_at": _time(item, "NgayYeuCauBoSung"),
        },
        "progress": {"status": status, "at": now.isoformat(), "actor": agency_name},
    }


def _identification(item: Mapping[str, Any]) -> dict[str, str] | None:
    ids = _list(item, "DinhDanhCHS")
    if not ids:
        return None
    kind = _ID_TYPES.get(text(ids[0], "LoaiDinhDanh") or "")
    if kind is None:
        raise ProtocolError("DinhDanhCHS.LoaiDinhDanh must be 1 or 2.")
    return {"type": kind, "number": text(ids[0], "SoDinhDanh") or ""}
