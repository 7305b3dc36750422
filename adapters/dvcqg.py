"""Canonical dossier sync to and from the national public-service portal's (DVCQG) own JSON.

DVCQG takes every call as `POST` of `{service: "<Name>", …}` to one integration endpoint and
answers `{error_code, message, result}`, `error_code` "0" meaning success (DOMAIN.md §2.3). A
canonical sync (`_dvcqg_contracts.SyncRequest`) becomes one `DongBoHoSoMC` call whose `HoSo`
carries the progress entry that caused the change in `TienTrinh`, as DOMAIN.md §8.4 proposes a
`HoSo` holds its `tienTrinh[]`. The real client makes three calls (`TraCuuHoSo`, then
`DongBoHoSoMC` with `isUpdating` set from the answer, then `CapNhatTienDoHoSoMC`); an adapter
makes one, so it always sends `isUpdating: "True"`, which the mock treats as insert-or-update.
Reads are `TraCuuHoSo` (an empty `result` means "not synced") and the mock's `LayDanhSachHoSo`.

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

from adapters._common import EnvelopeAdapter, EnvelopeOperation, UnsupportedMediaType
from adapters._dvc_requests import (
    InvalidDossierRequest,
    json_body,
    path_code,
    post_json,
    query_error,
    status_code,
)
from adapters._dvcqg_contracts import (
    MAX_PAGE_SIZE,
    NationalDossier,
    NationalDossierPage,
    NationalDossierQuery,
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
from formats.cccd import InvalidCccd, parse_cccd

SYNC_DOSSIER = "sync_dossier"
GET_DOSSIER = "get_dossier"
LIST_DOSSIERS = "list_dossiers"

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


def _list_request(request: CanonicalRequest, _today: date) -> SystemRequest:
    errors: list[dict[str, Any]] = []
    query: dict[str, str] = {}
    for name, value in request.query:
        if name not in NationalDossierQuery.model_fields:
            errors.append(query_error(name, "Unknown query parameter", "extra_forbidden"))
        elif name in query:
            errors.append(query_error(name, "Given more than once", "repeated"))
        query[name] = value
    province, status = query.get("province"), query.get("status")
    if province is not None and not _PROVINCE.fullmatch(province):
        errors.append(query_error("province", "A 2-digit province code, e.g. 91", "pattern"))
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


def _refused(where: str) -> Callable[[Any], TranslationError]:
    def refused(_result: Any) -> TranslationError:
        return InvalidDossierRequest(
            "The national portal refused the request as malformed.",
            errors=[{"loc": [where], "msg": "Refused by the national portal", "type": "refused"}],
        )

    return refused


def _key_reused(_result: Any) -> TranslationError:
    return IdempotencyKeyReused(
        "This Idempotency-Key was first sent with a different body; use a new key for a new "
        "change (the portal keys syncs as dvcqg:{code}:{step})."
    )


def _another_province(_result: Any) -> TranslationError:
    return DossierOfAnotherProvince(
        "The national portal holds this dossier code for another province; nothing was changed."
    )


def _not_callers_province(_result: Any) -> TranslationError:
    return NotTheCallersProvince(
        "The dossier (its province_code, or the agency its code begins with) is not of the "
        "province this call came from; nothing was changed."
    )


_OPERATIONS: Mapping[str, EnvelopeOperation] = {
    SYNC_DOSSIER: EnvelopeOperation(
        to_system=_sync_request,
        read=_sync_result,
        errors={
            (400, "-1"): _refused("body"),
            (422, "-4"): _key_reused,
            (409, "-5"): _another_province,
            (403, "-6"): _not_callers_province,
        },
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
}


class DvcqgAdapter(EnvelopeAdapter):
    """The `dvcqg` adapter. `today` decides which CCCD birth years lie in the future."""

    adapter = "dvcqg"
    system = "The national portal"
    payload = "result"
    invalid = DvcqgAnswerInvalid
    operations = _OPERATIONS


# The published contract: canonical shapes of each operation (see OperationContract).
CONTRACTS: Mapping[str, OperationContract] = {
    SYNC_DOSSIER: OperationContract(
        SyncResult,
        request=SyncRequest,
        errors=(
            InvalidDossierRequest,
            InvalidCccd,
            UnsupportedMediaType,
            IdempotencyKeyReused,
            DossierOfAnotherProvince,
            NotTheCallersProvince,
            DvcqgAnswerInvalid,
        ),
    ),
    GET_DOSSIER: OperationContract(
        NationalDossier, errors=(InvalidDossierRequest, DossierNotFound, DvcqgAnswerInvalid)
    ),
    LIST_DOSSIERS: OperationContract(
        NationalDossierPage,
        query=NationalDossierQuery,
        errors=(InvalidDossierRequest, DvcqgAnswerInvalid),
    ),
}

__all__ = [
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
