"""Canonical dossier operations to and from a public-service portal's (DVC) own JSON.

The portal speaks DVCQG's Vietnamese field names (DOMAIN.md §4.2, §4.3): `MaHoSo`,
`TrangThaiHoSo` as a string code, dates `yyyyMMddHHmmss` in Vietnam time, all in the NGSP
envelope `{error_code, message, data}` (DOMAIN.md §8.1). Clients of the bus get English keys,
ISO 8601 times with their offset, and statuses as `{"code": 4, "name": "processing"}`. Each
operation is one row of `_OPERATIONS`: how its request is built and checked, how a success reads,
and what each of the portal's error codes means for it. Bodies are checked and bounded here,
before any call; error details name fields, never the values sent (they are personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters._common import (
    EnvelopeAdapter,
    EnvelopeOperation,
    UnsupportedMediaType,
    refused_as,
    refused_as_malformed,
)
from adapters._dvc_answers import (
    STATUS_NAMES,
    DvcAnswerInvalid,
    dossier_to_canonical,
    procedure_to_canonical,
    read_page,
    status_of,
    text_list,
)
from adapters._dvc_contracts import (
    Dossier,
    DossierPage,
    DossierQuery,
    ProcedurePage,
    ProcedureQuery,
)
from adapters._dvc_requests import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_FORM_DEPTH,
    MAX_FORM_KEYS,
    MAX_PAGE_SIZE,
    MAX_SUMMARY_LENGTH,
    InvalidDossierRequest,
    NewDossier,
    TransitionRequest,
    check_form_data,
    create_request,
    dossiers_request,
    get_request,
    procedures_request,
    transition_request,
)
from adapters.base import OperationContract, TranslationError
from formats.cccd import InvalidCccd
from formats.ngsp import DATA_INCORRECT, DATA_TYPE_INVALID, RECORD_NOT_FOUND

LIST_PROCEDURES = "list_procedures"
CREATE_DOSSIER = "create_dossier"
GET_DOSSIER = "get_dossier"
LIST_DOSSIERS = "list_dossiers"
TRANSITION_DOSSIER = "transition_dossier"

# TruongKhongKhop: the portal's names of the claimed fields that differ → canonical names.
_MISMATCH = {"ChuHoSo": "full_name", "NgaySinhChuHoSo": "date_of_birth"}


class ApplicantNotVerified(TranslationError):
    """The citizen database does not hold the applicant as given; `mismatched_fields` says
    which claimed fields differ (names only, as `verify_citizen` reports them)."""

    code = "APPLICANT_NOT_VERIFIED"
    status = 422
    title = "The applicant does not match the citizen database"


class DossierNotFound(TranslationError):
    code = "DOSSIER_NOT_FOUND"
    status = 404
    title = "Dossier not found"


class ProcedureNotFound(TranslationError):
    """422, not 404: the URL exists; the procedure the body names does not (here)."""

    code = "PROCEDURE_NOT_FOUND"
    status = 422
    title = "The procedure is not offered by this province"


class IllegalTransition(TranslationError):
    code = "ILLEGAL_TRANSITION"
    status = 409
    title = "The action is not allowed in the dossier's status"


class UnknownAction(TranslationError):
    code = "UNKNOWN_ACTION"
    status = 422
    title = "No such action on dossiers"


class CitizenCheckUnavailable(TranslationError):
    """The portal could not reach the citizen database through its LGSP; nothing was filed."""

    code = "CITIZEN_CHECK_UNAVAILABLE"
    status = 502
    title = "The applicant could not be checked against the citizen database"


class SyncUnavailable(TranslationError):
    """The portal's LGSP did not take the change's sync to DVCQG, so the portal made no change."""

    code = "SYNC_UNAVAILABLE"
    status = 502
    title = "The change could not be handed over for the national portal"


class DossierNumbersExhausted(TranslationError):
    code = "DOSSIER_NUMBERS_EXHAUSTED"
    status = 503
    title = "The receiving agency has issued every dossier number of the day"


# --- the portal's error codes, per operation -------------------------------------------------


_dossier_not_found = refused_as(DossierNotFound, "The province has no dossier with this code.")
_sync_unavailable = refused_as(
    SyncUnavailable,
    "The portal could not hand the change's sync to its LGSP; nothing was changed. Try again "
    "later.",
)


def _procedure_not_found(data: Any) -> TranslationError:
    """`MaTTHCHienHanh`: the code was under a level-1 code the 2025 merger closed; these are
    the procedure's codes today."""
    current = data.get("MaTTHCHienHanh") if isinstance(data, Mapping) else None
    if current:
        codes = text_list(current, "MaTTHCHienHanh")
        return ProcedureNotFound(
            "The code's level-1 agency code was closed on 1 July 2025 (QĐ 09/2025/QĐ-TTg); "
            f"the procedure is {' or '.join(codes)} today.",
            current_codes=codes,
        )
    return ProcedureNotFound(
        "The province offers no procedure with this code; list_procedures gives the codes."
    )


def _not_verified(data: Any) -> TranslationError:
    """`TruongKhongKhop` names the claimed fields that differ; without it, both are unconfirmed."""
    named = data.get("TruongKhongKhop") if isinstance(data, Mapping) else None
    fields = [name for key, name in _MISMATCH.items() if not named or key in named]
    return ApplicantNotVerified(
        "The citizen database does not hold the applicant with these details.",
        mismatched_fields=fields,
    )


def _unknown_action(data: Any) -> TranslationError:
    known = text_list(_field(data, "DanhSachHanhDong"), "DanhSachHanhDong")
    return UnknownAction("There is no such action; see `known_actions`.", known_actions=known)


def _illegal_transition(data: Any) -> TranslationError:
    allowed = text_list(_field(data, "HanhDongHopLe"), "HanhDongHopLe")
    code = _field(data, "TrangThaiHoSo")
    if not isinstance(code, str) or not code.isdigit() or int(code) not in STATUS_NAMES:
        raise DvcAnswerInvalid("The portal's TrangThaiHoSo is not a code 1-10.")
    name = STATUS_NAMES[int(code)]
    hint = f"allowed: {', '.join(allowed)}" if allowed else "the status is final"
    return IllegalTransition(
        f"The dossier is {name}; {hint}.",
        status=status_of(int(code)),
        allowed_actions=allowed,
    )


def _check_unavailable(data: Any) -> TranslationError:
    """`CoSoDuLieu` `quoc_gia`: the applicant is not the province's resident, and the national
    population database the portal then asks through NDXP could not be reached."""
    national = isinstance(data, Mapping) and data.get("CoSoDuLieu") == "quoc_gia"
    if national:
        return CitizenCheckUnavailable(
            "The applicant is not in the province's citizen database, and the national "
            "population database (csdlqgdc, through NDXP) could not be reached; nothing was "
            "filed. Try again later.",
            register="national",
        )
    return CitizenCheckUnavailable(
        "The portal could not reach the citizen database through its LGSP; nothing was "
        "filed. Try again later."
    )


def _refused(where: str) -> Callable[[Any], TranslationError]:
    return refused_as_malformed(InvalidDossierRequest, "The DVC system", where)


def _field(data: Any, key: str) -> Any:
    if not isinstance(data, Mapping):
        raise DvcAnswerInvalid(f"The portal's error carries no {key}.")
    return data.get(key)


def _data(read: Callable[[Any], Any]) -> Callable[[Mapping[str, Any]], Any]:
    """The reader of a success envelope whose `data` `read` translates."""
    return lambda envelope: read(envelope.get("data"))


_OPERATIONS: Mapping[str, EnvelopeOperation] = {
    LIST_PROCEDURES: EnvelopeOperation(
        to_system=procedures_request,
        read=_data(lambda data: read_page(data, procedure_to_canonical)),
        errors={(400, DATA_TYPE_INVALID): _refused("query")},
    ),
    CREATE_DOSSIER: EnvelopeOperation(
        to_system=create_request,
        read=_data(dossier_to_canonical),
        success=201,
        errors={
            (400, DATA_TYPE_INVALID): _refused("body"),
            (404, RECORD_NOT_FOUND): _procedure_not_found,
            (422, DATA_INCORRECT): _not_verified,
            (502, "502"): _check_unavailable,
            (504, "504"): _check_unavailable,
            (503, "503"): refused_as(DossierNumbersExhausted, "Try again tomorrow (Vietnam time)."),
        },
    ),
    GET_DOSSIER: EnvelopeOperation(
        to_system=get_request,
        read=_data(dossier_to_canonical),
        errors={(404, RECORD_NOT_FOUND): _dossier_not_found},
    ),
    LIST_DOSSIERS: EnvelopeOperation(
        to_system=dossiers_request,
        read=_data(
            lambda data: read_page(data, lambda item: dossier_to_canonical(item, full=False))
        ),
        errors={(400, DATA_TYPE_INVALID): _refused("query")},
    ),
    TRANSITION_DOSSIER: EnvelopeOperation(
        to_system=transition_request,
        read=_data(dossier_to_canonical),
        errors={
            (400, DATA_TYPE_INVALID): _refused("body"),
            (404, RECORD_NOT_FOUND): _dossier_not_found,
            (409, "409"): _illegal_transition,
            (422, DATA_INCORRECT): _unknown_action,
            (502, "502"): _sync_unavailable,
            (504, "504"): _sync_unavailable,
        },
    ),
}


class DvcAdapter(EnvelopeAdapter):
    """The `dvc` adapter. `today` decides which CCCD birth years lie in the future."""

    adapter = "dvc"
    system = "The DVC system"
    payload = "data"
    invalid = DvcAnswerInvalid
    operations = _OPERATIONS


# The published contract: canonical shapes of each operation (see OperationContract). Every
# operation may be refused as malformed, and may get an answer from the portal it cannot read.
_EVERY_ERRORS = (InvalidDossierRequest, DvcAnswerInvalid)
CONTRACTS: Mapping[str, OperationContract] = {
    LIST_PROCEDURES: OperationContract(ProcedurePage, query=ProcedureQuery, errors=_EVERY_ERRORS),
    CREATE_DOSSIER: OperationContract(
        Dossier,
        status=201,
        request=NewDossier,
        errors=(
            *_EVERY_ERRORS,
            InvalidCccd,
            UnsupportedMediaType,
            ProcedureNotFound,
            ApplicantNotVerified,
            CitizenCheckUnavailable,
            DossierNumbersExhausted,
        ),
    ),
    GET_DOSSIER: OperationContract(Dossier, errors=(*_EVERY_ERRORS, DossierNotFound)),
    LIST_DOSSIERS: OperationContract(
        DossierPage, query=DossierQuery, errors=(*_EVERY_ERRORS, InvalidCccd)
    ),
    TRANSITION_DOSSIER: OperationContract(
        Dossier,
        request=TransitionRequest,
        errors=(
            *_EVERY_ERRORS,
            UnsupportedMediaType,
            DossierNotFound,
            IllegalTransition,
            SyncUnavailable,
            UnknownAction,
        ),
    ),
}

__all__ = [
    "CONTRACTS",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "MAX_FORM_DEPTH",
    "MAX_FORM_KEYS",
    "MAX_PAGE_SIZE",
    "MAX_SUMMARY_LENGTH",
    "ApplicantNotVerified",
    "CitizenCheckUnavailable",
    "DossierNotFound",
    "DossierNumbersExhausted",
    "DvcAdapter",
    "DvcAnswerInvalid",
    "IllegalTransition",
    "InvalidDossierRequest",
    "ProcedureNotFound",
    "SyncUnavailable",
    "UnknownAction",
    "check_form_data",
    "dossier_to_canonical",
    "procedure_to_canonical",
]
