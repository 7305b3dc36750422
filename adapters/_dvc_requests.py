"""The canonical requests of the `dvc` adapter: checked, bounded, and written as the portal's.

Bounds keep one request from costing the portal (or the bus's audit) more than a real filing
would: a summary of at most 1,000 characters (the Thanh Hóa client cuts `TrichYeuHoSo` near
there, DOMAIN.md §4.2), at most 20 files of 5 MiB each, and a form of at most 50 keys nested at
most 5 deep. The portal mock checks forms with its own code, held to the same bounds by a test.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationError,
)

from adapters._common import (
    InvalidInput,
    StrictInput,
    UnsupportedMediaType,
    media_type,
    validation_errors,
)
from adapters._dvc_answers import STATUS_NAMES
from adapters.base import CanonicalRequest, SystemRequest
from formats.cccd import parse_cccd
from formats.codes import DOSSIER_CODE, ORGAN_ID, PROCEDURE_CODE
from formats.dates import format_ddmmyyyy

MAX_SUMMARY_LENGTH = 1000
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_FORM_KEYS = 50
MAX_FORM_DEPTH = 5
MAX_FORM_ITEMS = 200
MAX_FORM_STRING = 2000
MAX_PAGE_SIZE = 100
MAX_NAME_LENGTH = 200

_DOSSIER_CODE = re.compile(DOSSIER_CODE)
_ORGAN_ID = re.compile(ORGAN_ID)
_LEVELS = {"province": "tinh", "district": "huyen", "commune": "xa"}  # CapThucHien
_JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
_ACCEPT = {"Accept": "application/json"}

# A file name, not a path: no separators or control characters, not blank at the end.
_FILE_NAME = r"^[^/\\\x00-\x1f]*[^/\\\x00-\x1f\s]$"

_Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"\S")]
_Text = Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH)]
_Model = TypeVar("_Model", bound=BaseModel)


def check_form_data(value: Mapping[str, Any]) -> None:
    """Refuse (ValueError) a form nested past `MAX_FORM_DEPTH`, or larger than the bounds.

    Keys are counted at every level, list items too, so neither a wide object nor a long list
    gets past; depth counts objects and lists alike (`{"a": 1}` has depth 1).
    """
    keys = items = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping | list) and depth > MAX_FORM_DEPTH:
            raise ValueError(f"form data is nested more than {MAX_FORM_DEPTH} levels deep")
        if isinstance(node, Mapping):
            keys += len(node)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            items += len(node)
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str) and len(node) > MAX_FORM_STRING:
            raise ValueError(f"form data holds a string longer than {MAX_FORM_STRING} characters")
        if keys > MAX_FORM_KEYS:
            raise ValueError(f"form data has more than {MAX_FORM_KEYS} keys")
        if items > MAX_FORM_ITEMS:
            raise ValueError(f"form data has more than {MAX_FORM_ITEMS} list items")


def _bounded_form(value: dict[str, Any]) -> dict[str, Any]:
    check_form_data(value)
    return value


def _decoded_size(value: str) -> str:
    """Strict base64 (RFC 4648 §4, no line breaks) of at most `MAX_ATTACHMENT_BYTES`."""
    try:
        content = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("content_base64 is not base64") from None
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValueError(f"an attachment is larger than {MAX_ATTACHMENT_BYTES} bytes")
    return value


class InvalidDossierRequest(InvalidInput):
    """The body or query is not valid."""

    code = "INVALID_DOSSIER_REQUEST"
    title = "The request is not valid"


class Applicant(StrictInput):
    cccd: str
    full_name: _Name
    date_of_birth: date


class Contact(StrictInput):
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{8,15}$")] | None = None


class NewAttachment(StrictInput):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_FILE_NAME)]
    content_type: Annotated[str, StringConstraints(max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")]
    content_base64: Annotated[
        str,
        StringConstraints(max_length=-(-MAX_ATTACHMENT_BYTES // 3) * 4),
        AfterValidator(_decoded_size),
    ]


class NewDossier(StrictInput):
    """`create_dossier`'s body."""

    procedure_code: Annotated[str, StringConstraints(pattern=PROCEDURE_CODE)]
    applicant: Applicant
    summary: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_SUMMARY_LENGTH, pattern=r"\S")
    ]
    contact: Contact | None = None
    form_data: Annotated[dict[str, Any], AfterValidator(_bounded_form)] = Field(
        default_factory=dict
    )
    attachments: list[NewAttachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class TransitionRequest(StrictInput):
    """`transition_dossier`'s body; `action` is checked by the portal, which owns the lifecycle."""

    action: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
    actor: _Name
    position: _Text = ""
    department: _Text = ""
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


def procedures_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    """`/procedures?q&field&level&page&size` as `/api/thutuc?tuKhoa&maLinhVuc&capThucHien…`."""
    query = _query(request, {"q", "field", "level", "page", "size"})
    errors: list[dict[str, Any]] = []
    level = query.get("level")
    if level is not None and level not in _LEVELS:
        errors.append(query_error("level", "Must be province, district or commune", "enum"))
    for name in ("q", "field"):
        if len(query.get(name, "")) > 200:
            errors.append(query_error(name, "At most 200 characters", "string_too_long"))
    paging = _paging(query, errors)
    _raise_if(errors)
    params = {
        "tuKhoa": query.get("q"),
        "maLinhVuc": query.get("field"),
        "capThucHien": _LEVELS[level] if level is not None else None,
        **paging,
    }
    return _get("/api/thutuc", params)


def dossiers_request(request: CanonicalRequest, today: date) -> SystemRequest:
    """`/dossiers?applicant&agency&status&page&size` as
    `/api/hoso?soDinhDanh&maDonVi&trangThai&trang&soBanGhi`."""
    query = _query(request, {"applicant", "agency", "status", "page", "size"})
    errors: list[dict[str, Any]] = []
    status = query.get("status")
    code: int | None = None
    if status is not None:
        code = status_code(status)
        if code is None:
            errors.append(query_error("status", "Must be a status name or code 1-10", "enum"))
    paging = _paging(query, errors)
    agency = query.get("agency")
    if agency is not None and not _ORGAN_ID.fullmatch(agency):
        errors.append(query_error("agency", "An organ id, like 000.00.06.H01", "pattern"))
    _raise_if(errors)
    applicant = query.get("applicant")
    if applicant is not None:
        parse_cccd(applicant, today=today)
    params = {
        "soDinhDanh": applicant,
        "maDonVi": query.get("agency"),
        "trangThai": str(code) if code is not None else None,
        **paging,
    }
    return _get("/api/hoso", params)


def create_request(request: CanonicalRequest, today: date) -> SystemRequest:
    """The filing as the portal's `HoSo` JSON; the applicant's date of birth as dd/MM/yyyy."""
    new = json_body(request, NewDossier, "a JSON object with procedure_code, applicant and summary")
    parse_cccd(new.applicant.cccd, today=today)
    contact = new.contact
    body = {
        "MaTTHC": new.procedure_code,
        "ChuHoSo": new.applicant.full_name,
        "NgaySinhChuHoSo": format_ddmmyyyy(new.applicant.date_of_birth),
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": new.applicant.cccd}],
        "TrichYeuHoSo": new.summary,
        "Email": contact.email if contact is not None else None,
        "SoDienThoai": contact.phone if contact is not None else None,
        "DuLieuBieuMau": new.form_data,
        "TaiLieuNop": [
            {
                "TenTepDinhKem": item.name,
                "LoaiTep": item.content_type,
                "NoiDungBase64": item.content_base64,
            }
            for item in new.attachments
        ],
    }
    return post_json("/api/hoso", body)


def get_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    return _get(f"/api/hoso/{path_code(request)}", {})


def transition_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    code = path_code(request)
    step = json_body(request, TransitionRequest, "a JSON object with action and actor")
    body = {
        "HanhDong": step.action,
        "NguoiXuLy": step.actor,
        "ChucDanh": step.position,
        "PhongBanXuLy": step.department,
        "NoiDungXuLy": step.note,
    }
    return post_json(f"/api/hoso/{code}/tientrinh", body)


def query_params(
    request: CanonicalRequest, allowed: Collection[str]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The parameters of the query the operation takes, each given once (else `repeated`), and
    what is wrong with them. Any other parameter is ignored, as every REST service of the bus
    ignores one (`dancu`, `dmhc`, `qlvb` alike): a backend behind WSO2 gets the query as the
    client sent it, and browsers add their own (`_=…` to defeat a cache)."""
    errors, seen = [], {}
    for name, value in request.query:
        if name not in allowed:
            continue
        if name in seen:
            errors.append(query_error(name, "Given more than once", "repeated"))
        seen[name] = value
    return seen, errors


def _query(request: CanonicalRequest, allowed: set[str]) -> dict[str, str]:
    query, errors = query_params(request, allowed)
    _raise_if(errors)
    return query


def _paging(query: Mapping[str, str], errors: list[dict[str, Any]]) -> dict[str, str]:
    bounds = {"page": (1, 1_000_000), "size": (1, MAX_PAGE_SIZE)}
    found = {"page": "1", "size": "20"}
    for name, (low, high) in bounds.items():
        raw = query.get(name)
        if raw is None:
            continue
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            errors.append(query_error(name, f"Must be a whole number {low}-{high}", "range"))
        else:
            found[name] = str(int(raw))
    return {"trang": found["page"], "soBanGhi": found["size"]}


def status_code(value: str) -> int | None:
    if value.isascii() and value.isdigit() and int(value) in STATUS_NAMES:
        return int(value)
    return next((code for code, name in STATUS_NAMES.items() if name == value), None)


def path_code(request: CanonicalRequest) -> str:
    code = request.path_params.get("code", "")
    if not _DOSSIER_CODE.fullmatch(code):
        raise InvalidDossierRequest(
            "A dossier code looks like 000.00.06.H33-250602-0001.",
            errors=[{"loc": ["path", "code"], "msg": "Not a dossier code", "type": "pattern"}],
        )
    return code


def json_body(request: CanonicalRequest, model: type[_Model], shape: str) -> _Model:
    """The JSON body as `model`, or 415 / InvalidDossierRequest naming `shape`."""
    if media_type(request) != "application/json":
        raise UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json.",
            supported=["application/json"],
        )
    try:
        return model.model_validate_json(request.body)
    except ValidationError as error:
        raise InvalidDossierRequest(
            f"The body must be {shape}; see `errors`.", errors=validation_errors(error)
        ) from None


def query_error(name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": ["query", name], "msg": message, "type": kind}


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise InvalidDossierRequest("The query is not valid; see `errors`.", errors=errors)


def _get(path: str, params: Mapping[str, str | None]) -> SystemRequest:
    query = tuple((name, value) for name, value in params.items() if value is not None)
    return SystemRequest(method="GET", path=path, query=query, headers=_ACCEPT)


def post_json(path: str, body: Mapping[str, Any]) -> SystemRequest:
    content = json.dumps(body, ensure_ascii=False).encode()
    return SystemRequest(method="POST", path=path, body=content, headers=_JSON_HEADERS)
