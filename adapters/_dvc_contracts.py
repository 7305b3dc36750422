"""The canonical shapes of the `dvc` operations, for the published OpenAPI contract.

The adapter builds plain JSON (`_dvc_answers.py`); these models describe it, with extra fields
forbidden, and the tests validate real answers against them so the document cannot drift.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters._dvc_requests import MAX_PAGE_SIZE

StatusName = Literal[
    "new",
    "received",
    "refused",
    "processing",
    "supplement_requested",
    "financial_obligation",
    "withdrawn",
    "stopped",
    "completed",
    "result_returned",
]
Level = Literal["province", "district", "commune"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Status(_Out):
    """`TrangThaiHoSo` (DOMAIN.md §4.1): DVCQG's code and our name for it."""

    code: int = Field(ge=1, le=10)
    name: StatusName


class CodeAndName(_Out):
    code: str
    name: str


class AgencyRef(_Out):
    id: str = Field(description="QĐ 20/2020 organ id (`NNN.NN.NN.XNN`).")
    name: str


class Procedure(_Out):
    code: str = Field(
        description="The province's MaTTHC: the national one, a dot, the level-1 organ id of "
        "the province's bodies (`1.001193.NNN.NN.NN.XNN`)."
    )
    national_code: str = Field(description="The national MaTTHC, e.g. 1.001193.")
    name: str
    field: CodeAndName = Field(description="Lĩnh vực (MaLinhVuc, TenLinhVuc).")
    level: Level
    online_service: Literal["full", "partial"]
    processing_days: int = Field(ge=0, description="Working days; 0 means the same day.")
    fee_vnd: int = Field(ge=0)
    agency: AgencyRef = Field(description="The agency that receives and decides the dossiers.")
    assigned: list[Literal["code", "national_code", "field.code", "agency.id"]] = Field(
        default_factory=list,
        description="The fields of this answer whose codes the mock assigned, not taken from "
        "a public source: 3.999xxx national codes, unverified letter codes, Z00- field codes, "
        "unit numbers below the province. Empty from a real portal.",
    )


class ProcedurePage(_Out):
    items: list[Procedure]
    page: int = Field(ge=1)
    size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    total: int = Field(ge=0, description="Matches in all pages.")


class ApplicantRef(_Out):
    cccd: str = Field(pattern=r"^[0-9]{12}$")
    full_name: str


class ContactOut(_Out):
    email: str | None
    phone: str | None


class AttachmentOut(_Out):
    id: int
    name: str
    content_type: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of the decoded content.")


class HistoryEntry(_Out):
    """One progress entry (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3)."""

    action: str = Field(description="`submit` for the filing, then the transition's action.")
    status: Status = Field(description="The status after the step.")
    actor: str
    position: str
    department: str
    note: str
    at: AwareDatetime
    started_at: AwareDatetime = Field(description="When the previous step ended.")
    due_at: AwareDatetime | None = Field(description="The deadline in force after the step.")


class DossierSummary(_Out):
    code: str = Field(description="MaHoSo: {agencyId}-{yyMMdd}-{NNNN} (DOMAIN.md §4.5).")
    procedure_code: str
    procedure_name: str
    field: CodeAndName
    status: Status
    allowed_actions: list[str] = Field(description="The actions the status allows now.")
    applicant: ApplicantRef
    summary: str
    contact: ContactOut
    form_data: dict[str, Any]
    agency: AgencyRef
    submitted_at: AwareDatetime
    received_at: AwareDatetime | None
    due_at: AwareDatetime | None = Field(description="Working-day deadline, set on receipt.")
    supplement_requested_at: AwareDatetime | None
    completed_at: AwareDatetime | None
    returned_at: AwareDatetime | None
    refused_at: AwareDatetime | None


class Dossier(DossierSummary):
    attachments: list[AttachmentOut]
    history: list[HistoryEntry]


class DossierPage(_Out):
    items: list[DossierSummary]
    page: int = Field(ge=1)
    size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    total: int = Field(ge=0)


class ProcedureQuery(_Out):
    q: str | None = Field(default=None, max_length=200, description="Words of name or code.")
    field: str | None = Field(default=None, max_length=200, description="Field code or name.")
    level: Level | None = None
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


class DossierQuery(_Out):
    applicant: str | None = Field(default=None, description="The applicant's CCCD number.")
    agency: str | None = Field(
        default=None,
        description="The receiving agency's id (a client bound to an organisation sees only "
        "its own).",
    )
    status: StatusName | None = Field(default=None, description="Or its code, 1-10.")
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
