"""Canonical dossier sync to and from the national public-service portal's (DVCQG) own JSON.

DVCQG takes every call as `POST` of `{service: "<Name>", …}` to one integration endpoint and
answers `{error_code, message, result}`, `error_code` "0" meaning success (DOMAIN.md §2.3). A
canonical sync (`_dvcqg_contracts.SyncRequest`) becomes one `DongBoHoSoMC` call whose `HoSo`
carries the progress entry that caused the change in `TienTrinh`, as DOMAIN.md §8.4 proposes a
`HoSo` holds its `tienTrinh[]`. The real client makes three calls (`TraCuuHoSo`, then
`DongBoHoSoMC` with `isUpdating` set from the answer, then `CapNhatTienDoHoSoMC`); an adapter
makes one, so it always sends `isUpdating: "True"`, which the mock treats as insert-or-update.
Reads are `TraCuuHoSo` (an empty `result` means "not synced") and the mock's `LayDanhSachHoSo`.
A progress entry alone is `CapNhatTienDoHoSoMC` (`record_progress`), and the catalogues the
portal shares are `LayDanhMucCoQuan` and `LayDanhMucLinhVuc` (OpenCPS `doSyncGovernmentAgency`,
`doSyncServiceDomain`: `MADONVI`, `TENDONVI`, `CAPDONVI`; `MALINHVUC`, `TENLINHVUC`).

The `Idempotency-Key` header the gateway passes on is what the portal deduplicates on; this
adapter never sees it (no I/O, no headers), and reports the portal's verdict (`duplicate`).
The national view masks the applicant's identification number: the read operations are open to
any client holding the right, and dossier codes are sequential, so they are easy to guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from adapters._common import (
    EnvelopeAdapter,
    EnvelopeOperation,
    UnsupportedMediaType,
    refused_as,
    refused_as_malformed,
)
from adapters._dvc_requests import (
    InvalidDossierRequest,
    json_body,
    path_code,
    post_json,
    query_error,
    query_params,
    status_code,
)
from adapters._dvcqg_contracts import (
    MAX_PAGE_SIZE,
    AgencyList,
    AgencyQuery,
    FieldList,
    NationalDossier,
    NationalDossierPage,
    NationalDossierQuery,
    ProgressRequest,
    ProgressResult,
    SyncRequest,
    SyncResult,
)
from adapters._dvcqg_native import (
    DvcqgAnswerInvalid,
    count,
    dossier_to_canonical,
    mapping,
    mask_id_number,
    progress_to_native,
    snapshot_to_native,
    text,
)
from adapters.base import (
    CanonicalRequest,
    IdempotencyKeyReused,
    OperationContract,
    SystemRequest,
    TranslationError,
)
from adapters.dvc import DossierNotFound
from formats.agency_codes import CLOSED_FROM, AgencyCodeClosed, refuse_closed
from formats.cccd import InvalidCccd, parse_cccd
from formats.codes import ORGAN_ID_LENIENT

SYNC_DOSSIER = "sync_dossier"
GET_DOSSIER = "get_dossier"
LIST_DOSSIERS = "list_dossiers"
RECORD_PROGRESS = "record_progress"
LIST_AGENCIES = "list_agencies"
LIST_FIELDS = "list_fields"

INTEGRATION_PATH = "/api/integration"
"""The portal's one endpoint (`integration_endpoint` of OpenCPS's DVCQG config, §2.3)."""

# KetQua of a synced `HoSo` (mock addition) → canonical outcome.
_OUTCOMES = {
    "TAO_MOI": "created",
    "CAP_NHAT": "updated",
    "KHONG_DOI": "unchanged",
    "CU_HON": "stale",
}
_PROVINCE = re.compile(r"[0-9]{2}")
_ORGAN_ID = re.compile(ORGAN_ID_LENIENT)
CAPDONVI = {"province": "1", "district": "2", "commune": "3"}
"""An agency's level as `LayDanhMucCoQuan`'s `CAPDONVI` (assigned values; OpenCPS reads it as a
number, `GetterUtil.getInteger`)."""
_LEVELS = {code: level for level, code in CAPDONVI.items()}


class DossierOfAnotherProvince(TranslationError):
    code = "DOSSIER_OF_ANOTHER_PROVINCE"
    status = 409
    title = "The national portal holds this dossier code for another province"


class NotTheCallersProvince(TranslationError):
    code = "NOT_THE_CALLERS_PROVINCE"
    status = 403
    title = "A province syncs only its own dossiers to the national portal"


# --- requests --------------------------------------------------------------------------------


def _sync_request(request: CanonicalRequest, today: date) -> SystemRequest:
    sync = json_body(request, SyncRequest, "{province_code, step, dossier, progress}")
    identification = sync.dossier.applicant.identification
    if identification is not None and identification.type == "cccd":
        parse_cccd(identification.number, today=today)
    item = snapshot_to_native(sync.dossier, province_code=sync.province_code, step=sync.step)
    item["TienTrinh"] = [progress_to_native(sync.dossier.code, sync.step, sync.progress)]
    return _post({"service": "DongBoHoSoMC", "isUpdating": "True", "data": [item]})


def _lookup_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    return _post({"service": "TraCuuHoSo", "MaHoSo": path_code(request)})


def _query(
    request: CanonicalRequest, allowed: type[AgencyQuery | NationalDossierQuery]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The query's parameters `allowed` names (`query_params`: each once, any other ignored),
    and what is wrong with them; a `province` is a 2-digit code."""
    query, errors = query_params(request, allowed.model_fields)
    province = query.get("province")
    if province is not None and not _PROVINCE.fullmatch(province):
        errors.append(query_error("province", "A 2-digit province code, e.g. 91", "pattern"))
    return query, errors


def _list_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    query, errors = _query(request, NationalDossierQuery)
    province, status = query.get("province"), query.get("status")
    code = status_code(status) if status is not None else None
    if status is not None and code is None:
        errors.append(query_error("status", "Must be a status name or code 1-10", "enum"))
    paging = {"page": (1, 1_000_000, 1), "size": (1, MAX_PAGE_SIZE, 20)}
    numbers: dict[str, int] = {}
    for name, (low, high, default) in paging.items():
        raw = query.get(name)
        if raw is None:
            numbers[name] = default
        elif raw.isascii() and raw.isdigit() and low <= int(raw) <= high:
            numbers[name] = int(raw)
        else:
            errors.append(query_error(name, f"Must be a whole number {low}-{high}", "range"))
    if errors:
        raise InvalidDossierRequest("The query is not valid; see `errors`.", errors=errors)
    body: dict[str, Any] = {"service": "LayDanhSachHoSo", "Trang": numbers["page"]}
    body["SoBanGhi"] = numbers["size"]
    if province is not None:
        body["MaTinh"] = province
    if code is not None:
        body["TrangThaiHoSo"] = str(code)
    return _post(body)


def _progress_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    entry = json_body(request, ProgressRequest, "{step, progress}")
    native = progress_to_native(path_code(request), entry.step, entry.progress)
    return _post({"service": "CapNhatTienDoHoSoMC", "data": [native]})


def _agencies_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    query, errors = _query(request, AgencyQuery)
    if errors:
        raise InvalidDossierRequest("The query is not valid; see `errors`.", errors=errors)
    province = query.get("province")
    return _post({"service": "LayDanhMucCoQuan", **({"MaTinh": province} if province else {})})


def _fields_request(_request: CanonicalRequest, _today: date) -> SystemRequest:
    return _post({"service": "LayDanhMucLinhVuc"})


def _post(body: Mapping[str, Any]) -> SystemRequest:
    return post_json(INTEGRATION_PATH, body)


# --- answers ---------------------------------------------------------------------------------


def _sync_result(envelope: Mapping[str, Any]) -> dict[str, Any]:
    result = envelope.get("result")
    if not isinstance(result, list) or len(result) != 1:
        raise DvcqgAnswerInvalid("The national portal's result is not one synced dossier.")
    item = mapping(result[0], "result")
    outcome = _OUTCOMES.get(text(item, "KetQua"))
    if outcome is None:
        raise DvcqgAnswerInvalid(
            f"The national portal's KetQua is not one of {', '.join(_OUTCOMES)}."
        )
    duplicate = envelope.get("TrungLap")
    if not isinstance(duplicate, bool):
        raise DvcqgAnswerInvalid("The national portal's TrungLap is not a boolean.")
    return {
        "code": text(item, "MaHoSo"),
        "national_step": count(item, "ThuTu", low=1),
        "outcome": outcome,
        "progress_recorded": count(item, "SoTienTrinhMoi") > 0,
        "duplicate": duplicate,
    }


def _progress_result(envelope: Mapping[str, Any]) -> dict[str, Any]:
    item = mapping(_rows(envelope, exactly=1)[0], "result")
    recorded = item.get("DaGhiNhan")
    if not isinstance(recorded, bool):
        raise DvcqgAnswerInvalid("The national portal's DaGhiNhan is not a boolean.")
    return {"code": text(item, "MaHoSo"), "step": count(item, "ThuTu", low=1), "recorded": recorded}


def _agencies_result(envelope: Mapping[str, Any]) -> dict[str, Any]:
    items = []
    for row in _rows(envelope):
        item = mapping(row, "result")
        level = _LEVELS.get(text(item, "CAPDONVI"))
        if level is None:
            raise DvcqgAnswerInvalid(f"The national portal's CAPDONVI is not one of {_LEVELS}.")
        items.append(
            {
                "id": text(item, "MADONVI"),
                "name": text(item, "TENDONVI"),
                "level": level,
                "province_code": text(item, "MATINH"),
            }
        )
    return {"items": items, **_province_read(envelope)}


def _fields_result(envelope: Mapping[str, Any]) -> dict[str, Any]:
    rows = [mapping(row, "result") for row in _rows(envelope)]
    return {"items": [{"code": text(r, "MALINHVUC"), "name": text(r, "TENLINHVUC")} for r in rows]}


def _rows(envelope: Mapping[str, Any], *, exactly: int | None = None) -> list[Any]:
    result = envelope.get("result")
    if not isinstance(result, list) or (exactly is not None and len(result) != exactly):
        raise DvcqgAnswerInvalid("The national portal's result is not the list expected.")
    return result


def _dossier_result(envelope: Mapping[str, Any]) -> dict[str, Any]:
    result = envelope.get("result")
    if not isinstance(result, list) or len(result) > 1:
        raise DvcqgAnswerInvalid("The national portal's result is not at most one dossier.")
    if not result:  # TraCuuHoSo: "not synced" is a success with nothing in it (§2.3)
        raise DossierNotFound("The national portal has no dossier with this code.")
    return dossier_to_canonical(result[0])


def _page_result(envelope: Mapping[str, Any]) -> dict[str, Any]:
    page = mapping(envelope.get("result"), "result")
    items = page.get("DanhSach")
    if not isinstance(items, list):
        raise DvcqgAnswerInvalid("The national portal's DanhSach is not a list.")
    return {
        "items": [dossier_to_canonical(item, full=False) for item in items],
        "page": count(page, "Trang", low=1),
        "size": count(page, "SoBanGhi", low=1),
        "total": count(page, "TongSo"),
        **_province_read(page),
    }


def _province_read(page: Mapping[str, Any]) -> dict[str, Any]:
    """Which era a `province` filter was read in, and the old codes it covered (mock
    additions `KyMaTinh`, `MaTinhCu`); nothing when no filter was given."""
    era, codes = page.get("KyMaTinh"), page.get("MaTinhCu")
    if era is None:
        return {}
    if era not in ("2026", "2024") or not (
        isinstance(codes, list) and all(isinstance(code, str) for code in codes)
    ):
        raise DvcqgAnswerInvalid("The national portal's KyMaTinh or MaTinhCu is not valid.")
    return {"province_era": era, "province_codes": codes}


_RULES: Mapping[str, tuple[list[str], str, str]] = {
    "future_dated": (
        ["body", "progress", "at"],
        "Later than now",
        "The progress entry is dated later than the national portal's clock (past the "
        "tolerance LGSP_DOCUMENT_CLOCK_SKEW_SECONDS): a step is recorded once it is taken.",
    ),
    "unknown_province": (
        ["query", "province"],
        "No province of either era has this code",
        'No province has this code, today\'s 34 or the 63 before 1 July 2025 (see "Two eras").',
    ),
}
"""The rules the portal names (`QuyTac`, mock addition) when it refuses a request as
malformed: where in the canonical request, the `errors` message, the detail."""


def _refused(where: str) -> Callable[[Any], TranslationError]:
    """The portal's "-1": the rule it names, said where it applies; else malformed at `where`."""
    malformed = refused_as_malformed(InvalidDossierRequest, "The national portal", where)

    def refused(payload: Any) -> TranslationError:
        rule = payload.get("QuyTac") if isinstance(payload, Mapping) else None
        if not isinstance(rule, str) or rule not in _RULES:
            return malformed(payload)
        loc, message, detail = _RULES[rule]
        return InvalidDossierRequest(detail, errors=[{"loc": loc, "msg": message, "type": rule}])

    return refused


def _closed(payload: Any) -> TranslationError:
    """The portal's "-7" (era 2026: a dossier dated since 1 July 2025 under an agency whose
    level-1 code the 2025 merger closed) as the bus refuses such an organ id everywhere
    (`refuse_closed`, on the day the portal read the dossier as dated), naming the body that
    succeeds it where the portal did."""
    found = payload if isinstance(payload, Mapping) else {}
    organ_id, day, named = (found.get(k) for k in ("MaDinhDanh", "NgayHoSo", "MaDinhDanhKeNhiem"))
    try:
        on = max(date.fromisoformat(str(day)), CLOSED_FROM)
    except ValueError:
        on = CLOSED_FROM
    if isinstance(organ_id, str) and _ORGAN_ID.fullmatch(organ_id):
        try:
            refuse_closed([organ_id], on, known={named} if isinstance(named, str) else ())
        except AgencyCodeClosed as closed:
            return closed
    return AgencyCodeClosed(
        "The national portal refused the dossier: its agency's level-1 code was closed by the "
        "2025 merger (QĐ 09/2025/QĐ-TTg)."
    )


_WRITE_REFUSALS: Mapping[tuple[int, str], Callable[[Any], TranslationError]] = {
    (400, "-1"): _refused("body"),
    (422, "-4"): refused_as(
        IdempotencyKeyReused,
        "This Idempotency-Key was first sent with a different body; use a new key for a new "
        "change (the portal keys syncs as dvcqg:{code}:{step}).",
    ),
    (409, "-5"): refused_as(
        DossierOfAnotherProvince,
        "The national portal holds this dossier code for another province; nothing was changed.",
    ),
    (403, "-6"): refused_as(
        NotTheCallersProvince,
        "The dossier (its province_code, or the agency its code begins with) is not of the "
        "province this call came from; nothing was changed.",
    ),
}
"""How the portal refuses a write: a sync or a progress entry."""

_OPERATIONS: Mapping[str, EnvelopeOperation] = {
    SYNC_DOSSIER: EnvelopeOperation(
        to_system=_sync_request,
        read=_sync_result,
        errors={**_WRITE_REFUSALS, (422, "-7"): _closed},
    ),
    GET_DOSSIER: EnvelopeOperation(
        to_system=_lookup_request,
        read=_dossier_result,
        errors={(400, "-1"): _refused("path")},
    ),
    LIST_DOSSIERS: EnvelopeOperation(
        to_system=_list_request,
        read=_page_result,
        errors={(400, "-1"): _refused("query")},
    ),
    RECORD_PROGRESS: EnvelopeOperation(
        to_system=_progress_request,
        read=_progress_result,
        errors={
            **_WRITE_REFUSALS,
            (404, "-2"): refused_as(
                DossierNotFound, "The national portal has no dossier with this code."
            ),
        },
    ),
    LIST_AGENCIES: EnvelopeOperation(
        to_system=_agencies_request,
        read=_agencies_result,
        errors={(400, "-1"): _refused("query")},
    ),
    LIST_FIELDS: EnvelopeOperation(to_system=_fields_request, read=_fields_result),
}


class DvcqgAdapter(EnvelopeAdapter):
    """The `dvcqg` adapter. `today` decides which CCCD birth years lie in the future."""

    adapter = "dvcqg"
    system = "The national portal"
    payload = "result"
    invalid = DvcqgAnswerInvalid
    operations = _OPERATIONS


# The published contract: canonical shapes of each operation (see OperationContract). Every
# operation may get an answer from the portal it cannot read; every one that takes input may be
# refused as malformed, and a write may also be refused as `_WRITE_REFUSALS` reads.
_READ_ERRORS = (InvalidDossierRequest, DvcqgAnswerInvalid)
_WRITE_ERRORS = (
    *_READ_ERRORS,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    DossierOfAnotherProvince,
    NotTheCallersProvince,
)
CONTRACTS: Mapping[str, OperationContract] = {
    SYNC_DOSSIER: OperationContract(
        SyncResult, request=SyncRequest, errors=(*_WRITE_ERRORS, InvalidCccd, AgencyCodeClosed)
    ),
    GET_DOSSIER: OperationContract(NationalDossier, errors=(*_READ_ERRORS, DossierNotFound)),
    LIST_DOSSIERS: OperationContract(
        NationalDossierPage, query=NationalDossierQuery, errors=_READ_ERRORS
    ),
    RECORD_PROGRESS: OperationContract(
        ProgressResult, request=ProgressRequest, errors=(*_WRITE_ERRORS, DossierNotFound)
    ),
    LIST_AGENCIES: OperationContract(AgencyList, query=AgencyQuery, errors=_READ_ERRORS),
    LIST_FIELDS: OperationContract(FieldList, errors=(DvcqgAnswerInvalid,)),
}

__all__ = [
    "CAPDONVI",
    "CONTRACTS",
    "INTEGRATION_PATH",
    "DossierOfAnotherProvince",
    "DvcqgAdapter",
    "DvcqgAnswerInvalid",
    "IdempotencyKeyReused",
    "NotTheCallersProvince",
    "mask_id_number",
    "progress_to_native",
    "snapshot_to_native",
]
