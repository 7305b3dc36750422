"""Canonical citizen operations to and from a provincial citizen database's legacy JSON.

The system answers in the NGSP envelope `{error_code, message, data}` (DOMAIN.md §2.1, §8.1)
with the national database's field names (DOMAIN.md §5.2, §8.5); clients of the bus get plain
English keys, ISO dates and "male"/"female" instead. Each operation is one row of `_OPERATIONS`:
how its request is built, and what the envelope's codes mean for it.

`verify_citizen` checks a claim `{cccd, full_name, date_of_birth}` and answers `{"match": true}`
or `{"match": false, "mismatched_fields": ["full_name", "date_of_birth"]}`, never a recorded
value. The system compares (it owns the data: names after NFC, case folding and collapsed
spaces, diacritics significant); this adapter only validates and translates. Every non-match
names both fields, whichever the system says differ, and an unknown number is answered alike
(even if a system answers RECORD_NOT_FOUND): naming the field that differs let a caller who
knew the name find a date of birth in at most 366 calls, the year being in the number
(SECURITY-PROBE-2026-12 F15), and numbers cannot be enumerated. Guessing the whole claim is
bounded by the gateway's per-client verify rate (`LGSP_VERIFY_RATE_PER_MINUTE`).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from types import MappingProxyType
from typing import Annotated, Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from adapters._common import (
    FieldReader,
    InvalidInput,
    NgspAdapter,
    StrictInput,
    UnsupportedMediaType,
    media_type,
    refused_as,
    refused_as_malformed,
    validation_errors,
)
from adapters.base import (
    AnswerInvalid,
    CanonicalRequest,
    CanonicalResponse,
    OperationContract,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
from formats.cccd import InvalidCccd, check_cccd
from formats.dates import ddmmyyyy_to_iso, format_ddmmyyyy
from formats.ngsp import DATA_TYPE_INVALID, RECORD_NOT_FOUND, SUCCESS

GET_CITIZEN = "get_citizen"
VERIFY_CITIZEN = "verify_citizen"
GET_HOUSEHOLD = "get_household"

# GioiTinh: 1 Nam, 2 Nữ (DOMAIN.md §8.5, the BHXH convention the citizen database shares).
# "3 Khác" exists there too but has no canonical value yet, so it is refused as unexpected.
_GENDERS = {"1": "male", "2": "female"}

# ChuHo.QuanHe, the member's relation to the head of household (DOMAIN.md §5.2). The register
# knows many more (Cháu, Anh, Em, Con dâu, …): those are "other", not an error.
_RELATIONSHIPS = {
    "Chủ hộ": "head",
    "Vợ": "spouse",
    "Chồng": "spouse",
    "Con": "child",
    "Cha": "parent",
    "Mẹ": "parent",
}

# Legacy field names in TruongKhongKhop and their canonical names, in reporting order.
_VERIFIED_FIELDS = {"HoVaTen": "full_name", "NgayThangNamSinh": "date_of_birth"}

MAX_NAME_LENGTH = 200

# NoiDangKyKhaiSinh and an address's `legacy` block (mock additions): canonical name, legacy name.
_BIRTH_REGISTRATION = {
    "province_code": "MaTinhCu",
    "province": "TenTinhCu",
    "successor_code": "MaTinhHienNay",
    "successor": "TenTinhHienNay",
}
_LEGACY_UNITS = {
    "province_code": "MaTinhThanh",
    "province": "TenTinhThanh",
    "district_code": "MaQuanHuyen",
    "district": "TenQuanHuyen",
    "commune_code": "MaPhuongXa",
    "commune": "TenPhuongXa",
}


class CitizenNotFound(TranslationError):
    code = "CITIZEN_NOT_FOUND"
    status = 404
    title = "Citizen not found"


class UpstreamAnswerInvalid(AnswerInvalid):
    code = "UPSTREAM_INVALID_RESPONSE"
    title = "The citizen database gave an answer that could not be read"


_RECORD = FieldReader("The citizen record's", UpstreamAnswerInvalid)


class InvalidVerificationRequest(InvalidInput):
    """The claim is not `{cccd, full_name, date_of_birth}` as strings; `errors` lists why."""

    code = "INVALID_VERIFICATION_REQUEST"
    title = "The verification request is not valid"


class CitizenClaim(StrictInput):
    """The canonical verification body: exactly these fields, strings, the date in ISO 8601."""

    cccd: str
    # `\S`: a blank name is no claim at all. Letters are compared by the system, not here.
    full_name: Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH, pattern=r"\S")]
    date_of_birth: date


@dataclass(frozen=True)
class _Operation:
    """One catalog operation: its system request, and what each envelope code means for it."""

    to_system: Callable[[CanonicalRequest, date], SystemRequest]
    read_data: Callable[[Any], Any]  # the `data` of a success envelope → canonical content
    not_found: Callable[[CanonicalRequest], Any]  # error_code "201": raise, or the answer
    refused: Callable[[Any], TranslationError]  # error_code "302", given the envelope's data


def citizen_to_canonical(record: Mapping[str, Any]) -> dict[str, Any]:
    """One `CongDan` record (a success envelope's `data`) in canonical form, or
    UpstreamAnswerInvalid naming the bad field, or saying there is no record at all.

    Error details name fields, never their values: the values are personal data. A record read
    whole in one go (`_citizen_at_once`) is the answer; one it cannot take is read again field
    by field (`_citizen_by_field`), which gives the same answer or names the first fault.
    """
    try:
        return _citizen_at_once(record)
    except (KeyError, TypeError, ValueError):  # a `data` that is no object among them
        return _citizen_by_field(_record(record))


_PERSON_FIELDS = itemgetter("NgayThangNamSinh", "GioiTinh", "SoDinhDanh", "HoVaTen", "ThuongTru")
_ADDRESS_TEXTS = itemgetter(
    "MaTinhThanh", "TenTinhThanh", "MaPhuongXa", "TenPhuongXa", "ChiTiet", "QuocGia"
)


def _citizen_at_once(record: Mapping[str, Any]) -> dict[str, Any]:
    """`_citizen_by_field`'s answer for a record it takes, read with a few C calls where it
    makes some forty Python ones (issue 21: most of the adapter's share of the hop); KeyError,
    TypeError or ValueError for any record it would refuse, and for some it takes."""
    born, gender, cccd, name, address = _PERSON_FIELDS(record)
    province_code, province, commune_code, commune, street, country = _ADDRESS_TEXTS(address)
    # TypeError unless every one is a string (the district's two may both be left out).
    "".join((born, gender, cccd, name, province_code, province, commune_code, commune, street))
    district_code, district = address.get("MaQuanHuyen"), address.get("TenQuanHuyen")
    given = district_code is not None or district is not None
    "".join((country, district_code, district) if given else (country,))
    citizen = {
        "cccd": cccd,
        "full_name": name,
        "date_of_birth": ddmmyyyy_to_iso(born),
        "gender": _GENDERS[gender],
    }
    born_in = record.get("NoiDangKyKhaiSinh")
    if born_in is not None:
        citizen["birth_registration"] = _texts_at_once(born_in, _BIRTH_REGISTRATION)
    permanent: dict[str, Any] = {
        "province_code": province_code,
        "province": province,
        "district_code": district_code,
        "district": district,
        "commune_code": commune_code,
        "commune": commune,
        "street": street,
        "country": country,
    }
    legacy = address.get("legacy")
    if legacy is not None:
        permanent["legacy"] = _texts_at_once(legacy, _LEGACY_UNITS)
    citizen["permanent_address"] = permanent
    return citizen


def _texts_at_once(block: Any, fields: Mapping[str, str]) -> dict[str, str]:
    """`_block` of a block it takes; KeyError or TypeError for any other."""
    texts = {canonical: block[legacy] for canonical, legacy in fields.items()}
    "".join(texts.values())
    return texts


def _citizen_by_field(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record read field by field, each checked as it is read: the first fault is named."""
    address = record.get("ThuongTru")
    if not isinstance(address, Mapping):
        raise UpstreamAnswerInvalid("The citizen record has no ThuongTru (permanent address).")
    citizen = _person(record)
    # The province a CCCD's prefix names (that of the birth registration, unchanged by the
    # merger) and today's successor, when the system gives them (a mock addition of era 2026).
    born = _block(
        record.get("NoiDangKyKhaiSinh"),
        _BIRTH_REGISTRATION,
        "The citizen record's NoiDangKyKhaiSinh is not an object.",
    )
    if born is not None:
        citizen["birth_registration"] = born
    permanent: dict[str, Any] = {
        "province_code": _RECORD.text(address, "MaTinhThanh"),
        "province": _RECORD.text(address, "TenTinhThanh"),
        # The district level was abolished on 1 July 2025 (DOMAIN.md §6.1, §8.5: legacy
        # only), so newer records may lack it.
        "district_code": _RECORD.optional_text(address, "MaQuanHuyen"),
        "district": _RECORD.optional_text(address, "TenQuanHuyen"),
        "commune_code": _RECORD.text(address, "MaPhuongXa"),
        "commune": _RECORD.text(address, "TenPhuongXa"),
        "street": _RECORD.text(address, "ChiTiet"),
        "country": _RECORD.text(address, "QuocGia"),
    }
    # The units a record was made in before 1 July 2025, when the address is given in today's
    # (a mock addition; absent in the records' own era).
    legacy = _block(
        address.get("legacy"), _LEGACY_UNITS, "The address's legacy block is not an object."
    )
    if legacy is not None:
        permanent["legacy"] = legacy
    citizen["permanent_address"] = permanent
    return citizen


def _block(block: object, fields: Mapping[str, str], not_an_object: str) -> dict[str, Any] | None:
    """An optional block of the record, each field required once it is there (canonical name:
    the system's), or None when the system left it out."""
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise UpstreamAnswerInvalid(not_an_object)
    return {canonical: _RECORD.text(block, legacy) for canonical, legacy in fields.items()}


def household_to_canonical(household: Mapping[str, Any]) -> dict[str, Any]:
    """A household `{MaHo, ThanhVien[]}` in canonical form, members in the system's order.

    The head is the one every member's `ChuHo.SoDinhDanh` names; members that disagree make
    the answer unreadable rather than silently picking one.
    """
    members = household.get("ThanhVien")
    if not isinstance(members, list) or not members:
        raise UpstreamAnswerInvalid("The household has no ThanhVien (members).")
    if not all(isinstance(member, Mapping) for member in members):
        raise UpstreamAnswerInvalid("A household member is not a record.")
    heads = {_RECORD.text(_head_of(member), "SoDinhDanh") for member in members}
    if len(heads) != 1:
        raise UpstreamAnswerInvalid("The household's members name different heads (ChuHo).")
    return {
        "household_id": _RECORD.text(household, "MaHo"),
        "head_cccd": heads.pop(),
        "members": [
            {
                **_person(member),
                "relationship": _RELATIONSHIPS.get(
                    unicodedata.normalize("NFC", _RECORD.text(_head_of(member), "QuanHe")), "other"
                ),
            }
            for member in members
        ],
    }


def verification_to_canonical(result: Any) -> dict[str, Any]:
    """`{TonTai, TruongKhongKhop}` as `{match, mismatched_fields}`; no recorded value passes.

    The real `KetQuaXacThucResponse` has `TonTai` alone (DOMAIN.md §5.1). A non-match reports
    both fields as unconfirmed, as for an unknown number, whichever `TruongKhongKhop` names: the
    system's list is checked, not passed on (F15).
    """
    if not isinstance(result, Mapping) or not isinstance(result.get("TonTai"), bool):
        raise UpstreamAnswerInvalid("The verification answer has no boolean TonTai.")
    fields = result.get("TruongKhongKhop")
    if fields is not None and (
        not isinstance(fields, list) or not all(field in _VERIFIED_FIELDS for field in fields)
    ):
        raise UpstreamAnswerInvalid(
            "The verification answer's TruongKhongKhop is not a list of "
            f"{', '.join(_VERIFIED_FIELDS)}."
        )
    if fields is not None and result["TonTai"] == bool(fields):
        raise UpstreamAnswerInvalid("The verification answer's TonTai and TruongKhongKhop differ.")
    if result["TonTai"]:
        return {"match": True}
    return _no_match_for_unknown()


def _lookup_request(template: str) -> Callable[[CanonicalRequest, date], SystemRequest]:
    """A GET of `template` with the path's CCCD, refused before any call if malformed."""
    before, after = template.split("{cccd}")

    def to_system(request: CanonicalRequest, today: date) -> SystemRequest:
        cccd = request.path_params.get("cccd", "")
        check_cccd(cccd, today=today)
        # By position, with one read-only header mapping: a third cheaper (issue 21).
        return SystemRequest("GET", before + cccd + after, (), b"", _ACCEPT_JSON)

    return to_system


_ACCEPT_JSON: Mapping[str, str] = MappingProxyType({"Accept": "application/json"})


def _verification_request(request: CanonicalRequest, today: date) -> SystemRequest:
    """The claim as `XacThucThongTinCongDan` JSON (DOMAIN.md §5.1), the date as dd/MM/yyyy."""
    if media_type(request) != "application/json":
        raise UnsupportedMediaType(
            "Send the claim as JSON with Content-Type: application/json.",
            supported=["application/json"],
        )
    try:
        claim = CitizenClaim.model_validate_json(request.body)
    except ValidationError as error:
        raise InvalidVerificationRequest(
            "The body must be a JSON object with exactly the strings cccd, full_name and "
            "date_of_birth (YYYY-MM-DD); see `errors`.",
            errors=validation_errors(error),
        ) from None
    check_cccd(claim.cccd, today=today)
    body = {
        "SoDinhDanh": claim.cccd,
        "HoVaTen": claim.full_name,
        "NgayThangNamSinh": format_ddmmyyyy(claim.date_of_birth),
    }
    return SystemRequest(
        method="POST",
        path="/api/congdan/xac-thuc",
        body=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )


def _record(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise UpstreamAnswerInvalid("The citizen database answered OK without a record.")
    return data


def _no_match_for_unknown(_request: CanonicalRequest | None = None) -> dict[str, Any]:
    """The answer for any claim that does not match, a number the system does not know
    included: that of a claim wrong in every field."""
    return {"match": False, "mismatched_fields": list(_VERIFIED_FIELDS.values())}


def _citizen_not_found(request: CanonicalRequest) -> NoReturn:
    """Not found here; `registered_in` (the CCCD's province of registration, two digits) lets
    the gateway say where else to ask. A code is no personal data; the number is not repeated."""
    cccd = str(request.path_params.get("cccd", ""))
    extensions = {"registered_in": cccd[1:3]} if cccd[:3].isdigit() else {}
    raise CitizenNotFound(
        "No citizen with this CCCD number is recorded in this citizen database.", **extensions
    )


_malformed_number = refused_as(
    InvalidCccd, "The citizen database refused the CCCD number as malformed.", rule="format"
)


_OPERATIONS: Mapping[str, _Operation] = {
    GET_CITIZEN: _Operation(
        to_system=_lookup_request("/api/congdan/{cccd}"),
        read_data=citizen_to_canonical,
        not_found=_citizen_not_found,
        refused=_malformed_number,
    ),
    GET_HOUSEHOLD: _Operation(
        to_system=_lookup_request("/api/congdan/{cccd}/ho"),
        read_data=lambda data: household_to_canonical(_record(data)),
        not_found=_citizen_not_found,
        refused=_malformed_number,
    ),
    VERIFY_CITIZEN: _Operation(
        to_system=_verification_request,
        read_data=verification_to_canonical,
        # A system that does say RECORD_NOT_FOUND still must not let callers enumerate.
        not_found=_no_match_for_unknown,
        refused=refused_as_malformed(
            InvalidVerificationRequest, "The citizen database", "body", what="claim"
        ),
    ),
}


class DancuAdapter(NgspAdapter[_Operation]):
    """The `dancu` adapter. It keeps no clock of its own: `today` decides future birth years.

    Its codes read unlike `EnvelopeAdapter`'s: RECORD_NOT_FOUND may be an answer, not an error,
    and the system may report either code under HTTP 200.
    """

    adapter = "dancu"
    system = "The citizen database"
    payload = "data"
    invalid = UpstreamAnswerInvalid
    operations = _OPERATIONS

    def to_canonical(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> CanonicalResponse:
        operation, envelope, error_code = self._answer(request, response)
        # NGSP-style services often report an error in the envelope under HTTP 200, so the
        # envelope's code decides; the mock also sets the matching HTTP status.
        if response.status == 200 and error_code == SUCCESS:
            return CanonicalResponse(200, operation.read_data(envelope.get("data")))
        if response.status in (200, 404) and error_code == RECORD_NOT_FOUND:
            return CanonicalResponse(200, operation.not_found(request))
        if response.status in (200, 400) and error_code == DATA_TYPE_INVALID:
            raise operation.refused(envelope.get("data"))
        raise self._unexpected(response, error_code)


def _person(record: Mapping[str, Any]) -> dict[str, Any]:
    """The identity fields every citizen-shaped record shares."""
    try:
        date_of_birth = ddmmyyyy_to_iso(_RECORD.text(record, "NgayThangNamSinh"))
    except ValueError:
        raise UpstreamAnswerInvalid(
            "The citizen record's NgayThangNamSinh is not a dd/MM/yyyy date."
        ) from None
    gender = _GENDERS.get(_RECORD.text(record, "GioiTinh"))
    if gender is None:
        raise UpstreamAnswerInvalid("The citizen record's GioiTinh is neither 1 (Nam) nor 2 (Nữ).")
    return {
        "cccd": _RECORD.text(record, "SoDinhDanh"),
        "full_name": _RECORD.text(record, "HoVaTen"),
        "date_of_birth": date_of_birth,
        "gender": gender,
    }


def _head_of(member: Mapping[str, Any]) -> Mapping[str, Any]:
    head = member.get("ChuHo")
    if not isinstance(head, Mapping):
        raise UpstreamAnswerInvalid("A household member has no ChuHo (head of household).")
    return head


# --- The published contract: canonical shapes of each operation (see OperationContract) ---


class LegacyAddress(BaseModel):
    """The units of a record made before 1 July 2025, with its district."""

    model_config = ConfigDict(extra="forbid")

    province_code: str
    province: str
    district_code: str
    district: str
    commune_code: str
    commune: str


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province_code: str = Field(
        description="2-digit province code of the bus's era: today's (era 2026, e.g. 91 An "
        "Giang) or the record's (era 2024, e.g. 91 Kiên Giang)."
    )
    province: str
    district_code: str | None = Field(description="Null in post-2025 records (no districts).")
    district: str | None
    commune_code: str
    commune: str
    street: str
    country: str
    legacy: LegacyAddress | None = Field(
        default=None,
        description="Era 2026: the units the record was made in before 1 July 2025 (a mock "
        "addition); absent in era 2024.",
    )


class _Person(BaseModel):
    """Who a citizen is, as both a citizen's record and a household's member list show it."""

    model_config = ConfigDict(extra="forbid")

    cccd: str = Field(pattern=r"^\d{12}$")
    full_name: str
    date_of_birth: date
    gender: Literal["male", "female"]


class BirthRegistration(BaseModel):
    """The province a CCCD's 3-digit prefix names (0 + its old code), and today's successor."""

    model_config = ConfigDict(extra="forbid")

    province_code: str = Field(description="The old code the prefix carries, e.g. 91.")
    province: str = Field(description="e.g. Tỉnh Kiên Giang.")
    successor_code: str = Field(description="Today's province, e.g. 91.")
    successor: str = Field(description="e.g. Tỉnh An Giang.")


class Citizen(_Person):
    birth_registration: BirthRegistration | None = Field(
        default=None,
        description="Era 2026 (a mock addition): the CCCD prefix keeps the province of the "
        "birth registration; this names it and the province of today that succeeds it.",
    )
    permanent_address: Address


class VerificationResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: bool
    mismatched_fields: list[Literal["full_name", "date_of_birth"]] | None = Field(
        default=None,
        description="Present when `match` is false: every verified field, whichever differ "
        "(which one differs is not said); never the recorded values.",
    )


class HouseholdMember(_Person):
    relationship: Literal["head", "spouse", "child", "parent", "other"]


class Household(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: str
    head_cccd: str
    members: list[HouseholdMember]


CONTRACTS: Mapping[str, OperationContract] = {
    GET_CITIZEN: OperationContract(Citizen, errors=(InvalidCccd, CitizenNotFound)),
    GET_HOUSEHOLD: OperationContract(Household, errors=(InvalidCccd, CitizenNotFound)),
    VERIFY_CITIZEN: OperationContract(
        VerificationResult,
        request=CitizenClaim,
        errors=(InvalidCccd, InvalidVerificationRequest, UnsupportedMediaType),
    ),
}
