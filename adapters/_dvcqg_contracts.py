"""The canonical shapes of the `dvcqg` operations: what a provincial portal syncs, what it reads.

A sync is one status change of one dossier (DOMAIN.md §8.4, "Each transition appends a
`tienTrinh` entry"): the dossier as it now stands, the progress entry that caused the change,
and the entry's position in the dossier's history (`step`, 1 for the filing). The names follow
the `dvc` service's dossier (`procedure_code`, `agency`, `status`, `submitted_at`, …), so an
integrator meets one shape for a dossier wherever it is read. The body carries the minimum the
national portal is sent (DOMAIN.md §4.2): the applicant's kind, name and one identification,
no birth date, contact details, form data or files.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from adapters._common import StrictInput
from adapters._dvc_contracts import Status, StatusName
from formats.codes import (
    DOSSIER_CODE,
    ID_NUMBER,
    ID_NUMBER_DIGITS,
    ID_TYPES,
    ORGAN_ID_LENIENT,
    PROCEDURE_CODE,
)

MAX_STEP = 1000
"""Entries a dossier's history may hold: far more than any lifecycle takes, and a bound."""
MAX_PAGE_SIZE = 100
MAX_SUMMARY_LENGTH = 1000
MAX_NAME_LENGTH = 200
MAX_NOTE_LENGTH = 2000

PROVINCE_CODE = r"^[0-9]{2}$"

Channel = Literal["direct", "online", "postal"]
ApplicantKind = Literal["citizen", "business", "agency", "organisation"]
IdType = Literal["cccd", "cmnd"]

_Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"\S")]
_Text = Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH)]
_Long = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeAndName(StrictInput):
    code: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^\S+$")]
    name: _Long


class ProcedureRef(StrictInput):
    code: Annotated[str, StringConstraints(pattern=PROCEDURE_CODE)] = Field(
        description="MaTTHC, national or with the province's suffix (`1.004222.NNN.NN.NN.XNN`)."
    )
    name: _Long


class AgencyRef(StrictInput):
    id: Annotated[str, StringConstraints(pattern=ORGAN_ID_LENIENT)] = Field(
        description="QĐ 20/2020 organ id of the agency handling the dossier."
    )
    name: _Name


class Identification(StrictInput):
    """`DinhDanhCHS` (DOMAIN.md §4.2): LoaiDinhDanh 1 is a 12-digit CCCD, 2 a 9-digit CMND."""

    type: IdType
    number: Annotated[str, StringConstraints(pattern=ID_NUMBER)]

    @model_validator(mode="after")
    def _length_fits_type(self) -> Identification:
        if len(self.number) != ID_NUMBER_DIGITS[ID_TYPES[self.type]]:
            raise ValueError("a cccd has 12 digits, a cmnd 9")
        return self


class Applicant(StrictInput):
    """`ChuHoSo`, `LoaiDoiTuong` (1 citizen, 2 business, 3 state agency, 4 other; §4.2)."""

    kind: ApplicantKind
    full_name: _Name
    identification: Identification | None = None


class DossierSnapshot(StrictInput):
    """The dossier as it stands after the change (`DongBoHoSoMC`'s `HoSo`, DOMAIN.md §4.2)."""

    code: Annotated[str, StringConstraints(pattern=DOSSIER_CODE)] = Field(
        description="MaHoSo: {agencyId}-{yyMMdd}-{NNNN} (DOMAIN.md §4.5)."
    )
    procedure: ProcedureRef
    field: CodeAndName | None = Field(default=None, description="Lĩnh vực (MaLinhVuc).")
    agency: AgencyRef
    channel: Channel = Field(default="online", description="KenhThucHien: 1, 2 or 3.")
    applicant: Applicant
    summary: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_SUMMARY_LENGTH, pattern=r"\S")
    ]
    status: int = Field(ge=1, le=10, description="TrangThaiHoSo after the change, 1-10.")
    submitted_at: AwareDatetime
    received_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    supplement_requested_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = None
    refused_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _code_of_the_agency(self) -> DossierSnapshot:
        # Whose dossier it is: a client bound to an organisation syncs only its own
        # (services/dvcqg.toml), so the code may not name another agency than `agency`.
        if not self.code.startswith(self.agency.id + "-"):
            raise ValueError("code must begin with agency.id ({agencyId}-{yyMMdd}-{NNNN})")
        return self


class ProgressEntry(StrictInput):
    """The entry the change appended (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3)."""

    status: int = Field(ge=1, le=10, description="TrangThai: the status the step led to.")
    at: AwareDatetime = Field(description="ThoiDiemXuLy.")
    actor: _Name = Field(description="NguoiXuLy.")
    position: _Text = Field(default="", description="ChucDanh.")
    department: _Text = Field(default="", description="PhongBanXuLy.")
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE_LENGTH)] = Field(
        default="", description="NoiDungXuLy."
    )
    action: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] | None = Field(
        default=None, description="The portal's name for the step (submit, receive, …)."
    )
    started_at: AwareDatetime | None = Field(default=None, description="NgayBatDau.")
    due_at: AwareDatetime | None = Field(default=None, description="NgayKetThucTheoQuyDinh.")


class SyncRequest(StrictInput):
    """`sync_dossier`'s body: one status change of one dossier."""

    province_code: Annotated[str, StringConstraints(pattern=PROVINCE_CODE)] = Field(
        description="Legacy 2-digit code of the province whose portal holds the dossier."
    )
    step: int = Field(
        ge=1, le=MAX_STEP, description="The entry's position in the history; 1 is the filing."
    )
    dossier: DossierSnapshot
    progress: ProgressEntry

    @model_validator(mode="after")
    def _entry_caused_the_status(self) -> SyncRequest:
        if self.progress.status != self.dossier.status:
            raise ValueError("progress.status must be the status the dossier is now in")
        return self


class SyncResult(_Out):
    code: str
    national_step: int = Field(description="The step the national snapshot now reflects.")
    outcome: Literal["created", "updated", "unchanged", "stale"] = Field(
        description="created/updated: the snapshot was stored; unchanged: it was already at "
        "this step; stale: a later step was synced first, so only the entry was kept."
    )
    progress_recorded: bool = Field(description="False when the entry was already kept.")
    duplicate: bool = Field(
        description="This Idempotency-Key was processed before: the first answer, replayed."
    )


class IdentificationOut(_Out):
    type: IdType
    number_masked: str = Field(description="First 3 and last 2 digits, as the bus logs them.")


class ApplicantOut(_Out):
    kind: ApplicantKind
    full_name: str
    identification: IdentificationOut | None


class ProcedureOut(_Out):
    code: str
    name: str


class CodeAndNameOut(_Out):
    code: str
    name: str


class AgencyOut(_Out):
    id: str
    name: str


class HistoryEntry(_Out):
    step: int = Field(ge=1)
    status: Status
    action: str | None
    actor: str
    position: str
    department: str
    note: str
    at: AwareDatetime
    started_at: AwareDatetime | None
    due_at: AwareDatetime | None


class NationalDossierSummary(_Out):
    code: str
    province_code: str
    step: int = Field(ge=1, description="The step of the province's history the view reflects.")
    status: Status
    procedure: ProcedureOut
    field: CodeAndNameOut | None
    agency: AgencyOut
    channel: Channel
    applicant: ApplicantOut
    summary: str
    submitted_at: AwareDatetime
    received_at: AwareDatetime | None
    due_at: AwareDatetime | None
    supplement_requested_at: AwareDatetime | None
    completed_at: AwareDatetime | None
    returned_at: AwareDatetime | None
    refused_at: AwareDatetime | None
    synced_at: AwareDatetime = Field(description="When the national portal last changed it.")


class NationalDossier(NationalDossierSummary):
    history: list[HistoryEntry] = Field(description="Every entry received, in step order.")


class _ProvinceRead(_Out):
    """How a `province` filter was read: the dossiers and the agencies read a code alike."""

    province_era: Literal["2026", "2024"] | None = Field(
        default=None,
        description="With `province`: the era the code was read in. In era 2026 a code of "
        "today (92 Cần Thơ) is today's province; a retired one (93) the old province.",
    )
    province_codes: list[str] | None = Field(
        default=None,
        description="With `province`: the old province codes it covered (92 → 92, 93, 94).",
    )


class NationalDossierPage(_ProvinceRead):
    items: list[NationalDossierSummary]
    page: int = Field(ge=1)
    size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    total: int = Field(ge=0)


_PROVINCE_FILTER = (
    "A province's 2-digit code: in era 2026 today's code covers the old provinces merged into "
    "it, a retired one names the old province; a code of neither era is refused (422 "
    "INVALID_DOSSIER_REQUEST, errors[].type unknown_province)."
)


class NationalDossierQuery(_Out):
    province: str | None = Field(default=None, pattern=PROVINCE_CODE, description=_PROVINCE_FILTER)
    status: StatusName | None = Field(default=None, description="Or its code, 1-10.")
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


class ProgressRequest(StrictInput):
    """`record_progress`'s body: one entry of a dossier the portal already holds
    (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3), at its position in the history."""

    step: int = Field(
        ge=1, le=MAX_STEP, description="The entry's position in the history; 1 is the filing."
    )
    progress: ProgressEntry


class ProgressResult(_Out):
    code: str
    step: int = Field(ge=1)
    recorded: bool = Field(description="False when an entry of this step was already kept.")


AgencyLevel = Literal["province", "district", "commune"]


class CatalogAgency(_Out):
    id: str = Field(description="MADONVI: the organ id (mã định danh, QĐ 20/2020).")
    name: str = Field(description="TENDONVI.")
    level: AgencyLevel = Field(description="CAPDONVI.")
    province_code: str = Field(description="The legacy code of the seeded province it serves.")


class AgencyList(_ProvinceRead):
    items: list[CatalogAgency]


class AgencyQuery(_Out):
    province: str | None = Field(default=None, pattern=PROVINCE_CODE, description=_PROVINCE_FILTER)


class CatalogField(_Out):
    code: str = Field(description="MALINHVUC.")
    name: str = Field(description="TENLINHVUC.")


class FieldList(_Out):
    items: list[CatalogField]
