"""A few documents between a province's agencies, in several statuses: same seed, same data.

Enough for a demo to show every branch of the status table (mocks/qlvb/lifecycle.py): done,
in progress, refused, a recall pending, a recall refused and resumed, one not yet confirmed.
Times are fixed (March 2025, Vietnam time; in era 2026 from April to December 2025, on both
sides of the merger), not the clock's, so two runs compare equal.
Statuses follow the rules `/updateStatus` applies (`store.plan_report`), in memory, and the
whole history is stored in one batch per table (a start seeds every province: issue 20 item 8).
An instance that has documents is not seeded again.

Every document between agencies is signed (FIDELITY-2026.md §2): each seeded document is signed
as its sender and each status message as its reporter, with the keys this system was handed
(`SystemConfig.signing_identities`), as `/sendEdoc` and `/updateStatus` sign what is composed
here (`?sign=sender`); an agency whose key the system does not hold stays unsigned.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from formats.edxml import parse_edxml, render_edxml, render_status, response_for
from mocks.directory.admin_units import Era
from mocks.directory.agencies import (
    AGENCIES,
    PROVINCES,
    TODAYS_AGENCIES,
    TODAYS_PROVINCES,
    Agency,
)
from mocks.qlvb.signing import Identity, signed_as
from mocks.qlvb.store import DocumentHistory, DocumentStore, Report, describe_document

_VIETNAM = timezone(timedelta(hours=7))
_START = datetime(2025, 3, 3, 8, 0, tzinfo=_VIETNAM)

# Agency positions in mocks/directory/agencies.py's list: 0 UBND tỉnh, 1 Sở Tư pháp, 2 Sở Xây dựng,
# 3 Sở Tài chính, 4 Công an tỉnh, 5 UBND thành phố, 6 UBND phường, 7 Công an phường.
# (sender, recipients, notation, type name, subject, [(reporter, code), ...]); reporter -1 is
# the sender, otherwise an index into the recipients.
_PLAN: tuple[tuple[int, tuple[int, ...], str, str, str, tuple[tuple[int, str], ...]], ...] = (
    (0, (1, 3, 2), "UBND-VP", "Công văn",
     "V/v triển khai kế hoạch chuyển đổi số năm 2025",
     ((0, "01"), (0, "03"), (0, "04"), (0, "05"), (0, "06"), (1, "01"), (1, "03"), (1, "05"))),
    (1, (0,), "BC-STP", "Báo cáo",
     "Báo cáo kết quả công tác tư pháp quý I năm 2025", ((0, "01"), (0, "03"))),
    (2, (5,), "SXD-QHKT", "Công văn",
     "V/v góp ý đồ án điều chỉnh quy hoạch chung thành phố", ((0, "01"), (0, "02"))),
    (3, (6,), "STC-NS", "Công văn",
     "V/v hướng dẫn quyết toán ngân sách xã năm 2024", ((0, "01"), (0, "03"), (-1, "13"))),
    (4, (7,), "CAT-PV01", "Công văn",
     "V/v tăng cường bảo đảm an ninh trật tự dịp lễ 30/4 và 1/5",
     ((0, "01"), (0, "03"), (0, "04"), (-1, "13"), (0, "16"))),
    (5, (0,), "TTr-UBND", "Tờ trình",
     "Tờ trình về việc phê duyệt chủ trương đầu tư dự án chỉnh trang đô thị", ()),
)  # fmt: skip

_DESCRIPTIONS = {
    "01": "Văn bản đã đến",
    "02": "Gửi nhầm đơn vị, đề nghị chuyển đúng cơ quan có thẩm quyền",
    "03": "Đã tiếp nhận văn bản",
    "04": "Đã phân công phòng chuyên môn xử lý",
    "05": "Đang xử lý",
    "06": "Đã hoàn thành xử lý",
    "13": "Đề nghị lấy lại văn bản để chỉnh sửa nội dung",
    "16": "Văn bản đã được triển khai, không đồng ý lấy lại",
}
_SIGNERS = ("Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Minh Tuấn", "Phạm Thị Lan", "Võ Văn Phúc")
_STAFF = ("Đặng Thị Hoa", "Huỳnh Văn Nam", "Bùi Thị Thu", "Ngô Quốc Bảo")
# A few bytes that start like a PDF, so that a demo shows an attachment end to end.
_ATTACHMENT = b"%PDF-1.4\n% mock attachment for the QLVB seed\n%%EOF\n"


@dataclass(frozen=True)
class PlannedReport:
    """A status trace one agency sends back about a seeded document."""

    reporter: str  # organ id
    code: str
    at: datetime
    staff: str


@dataclass(frozen=True)
class PlannedDocument:
    """A seeded document as its sender renders it, and the traces that follow it."""

    document: dict[str, Any]
    sent_at: datetime
    reports: tuple[PlannedReport, ...]


def plan_documents(*, province_code: str, seed: int, era: Era = "2024") -> list[PlannedDocument]:
    """The seeded documents, decided before anything is written (pure, same seed, same plan).

    Era 2024 keeps the seeds' March 2025 documents. Era 2026 dates them on both sides of
    1 July 2025, each between the bodies of its day (`_PLAN_2026`), with the senders' address
    and contacts and signers as each kind of body signs."""
    rng = random.Random(f"qlvb:{seed}:{province_code}")  # noqa: S311 - demo data, not secrets
    if era == "2026":
        return [_planned_2026(province_code, entry, rng) for entry in _PLAN_2026]
    agencies = AGENCIES[province_code]
    place = PROVINCES[province_code].city
    planned = []
    for day, (sender, recipients, notation, type_name, subject, steps) in enumerate(_PLAN):
        sent_at = _START + timedelta(days=day)
        document = {
            "from": _organisation(agencies[sender]),
            "to": [_organisation(agencies[i]) for i in recipients],
            "code": {"code_number": str(rng.randint(100, 999)), "code_notation": notation},
            "promulgation": {"place": place, "date": sent_at.date().isoformat()},
            "document_type": {"type": 1, "type_detail": 0, "type_name": type_name},
            "subject": subject,
            "content": subject,
            "signer": {"position": "Giám đốc", "full_name": rng.choice(_SIGNERS)},
            "other_info": {"priority": 0},
            "business": {"business_doc_type": 0, "paper": 0},
            "attachments": [_attachment(day)] if day == 0 else [],
        }
        reports = _reports(agencies, sender, recipients, steps, sent_at, rng)
        planned.append(PlannedDocument(document, sent_at, reports))
    return planned


async def seed_documents(
    store: DocumentStore,
    *,
    province_code: str,
    seed: int,
    era: Era = "2024",
    identities: Mapping[str, Identity] | None = None,
) -> int:
    """Store the planned documents with their statuses in an instance that has none, in one
    batch per table (`DocumentStore.add_history`), each signed by its agency when `identities`
    holds its key; the number of documents stored."""
    history = [
        _history(store.instance, planned, identities or {})
        for planned in plan_documents(province_code=province_code, seed=seed, era=era)
    ]
    await store.add_history(history)
    return len(history)


def _history(
    instance: str, planned: PlannedDocument, identities: Mapping[str, Identity]
) -> DocumentHistory:
    """A planned document as `/sendEdoc` stores it, and the status messages that followed,
    each signed as its sender or reporter (`signed_as`)."""
    sender = planned.document["from"]["organ_id"]
    edxml = signed_as(identities, sender, render_edxml(planned.document))
    new = describe_document(instance, edxml, parse_edxml(edxml))
    reports = []
    for planned_report in planned.reports:
        stamp = planned_report.at.replace(tzinfo=None).isoformat()  # edXML: local, naive
        staff = {"department": "Văn phòng", "staff": planned_report.staff}
        message = signed_as(
            identities,
            planned_report.reporter,
            _status_message(
                planned.document,
                new.document_id,
                planned_report.reporter,
                planned_report.code,
                stamp,
                staff,
            ),
        )
        report = Report(
            reporter=planned_report.reporter,
            code=planned_report.code,
            description=_DESCRIPTIONS[planned_report.code],
            timestamp=stamp,
            staff_info=staff,
            edxml=message,
        )
        reports.append((report, planned_report.at))
    return DocumentHistory(new, planned.sent_at, reports)


def _status_message(
    document: dict[str, Any],
    document_id: str,
    reporter: str,
    code: str,
    timestamp: str,
    staff: dict[str, Any],
) -> bytes:
    """The edXML status message a seeded report stands for (DOMAIN.md §3.4), as kept."""
    return render_status(
        {
            "response_for": response_for(document, document_id),
            "from": {"organ_id": reporter, "organ_name": reporter},
            "status_code": code,
            "description": _DESCRIPTIONS[code],
            "timestamp": timestamp,
            "staff_info": staff,
        }
    )


def _attachment(day: int) -> dict[str, Any]:
    return {
        "content_id": f"seed-{day + 1}",
        "attachment_name": "van-ban.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(_ATTACHMENT).decode("ascii"),
    }


# Era 2026: (date, directory, sender, recipients, notation, type name, subject, steps). The
# directory is "old" (the seeded province's bodies, before 1 July 2025: 0 UBND tỉnh, 1 Sở Tư
# pháp, 2 Sở Xây dựng, 3 Sở Tài chính, 4 Công an tỉnh, 5 UBND thành phố, 6 UBND phường,
# 7 Công an phường) or "today" (today's province's: the same without the district, so 5 UBND
# phường, 6 Công an phường). Reports are dated after the period they report on.
_PLAN_2026: tuple[
    tuple[date, str, int, tuple[int, ...], str, str, str, tuple[tuple[int, str], ...]], ...
] = (
    (date(2025, 4, 3), "old", 1, (0,), "BC-STP", "Báo cáo",
     "Báo cáo kết quả công tác tư pháp quý I năm 2025", ((0, "01"), (0, "03"))),
    (date(2025, 6, 16), "old", 0, (1, 3, 2), "UBND-VP", "Công văn",
     "V/v chuẩn bị bàn giao hồ sơ, tài liệu khi sắp xếp đơn vị hành chính",
     ((0, "01"), (0, "03"), (0, "04"), (0, "05"), (0, "06"), (1, "01"), (1, "03"))),
    (date(2025, 6, 20), "old", 5, (0,), "TTr-UBND", "Tờ trình",
     "Tờ trình về việc bàn giao trụ sở, tài sản khi kết thúc hoạt động của chính quyền "
     "cấp huyện", ((0, "01"), (0, "03"))),
    (date(2025, 7, 8), "today", 2, (5,), "SXD-QLXD", "Công văn",
     "V/v rà soát giấy phép xây dựng nhà ở riêng lẻ đã cấp trước ngày 01/7/2025",
     ((0, "01"), (0, "02"))),
    (date(2025, 7, 15), "today", 0, (3, 5), "UBND-KT", "Công văn",
     "V/v hướng dẫn quyết toán ngân sách cấp xã sau sắp xếp đơn vị hành chính",
     ((0, "01"), (0, "03"), (-1, "13"), (0, "16"))),
    (date(2025, 10, 3), "today", 1, (0,), "BC-STP", "Báo cáo",
     "Báo cáo kết quả công tác tư pháp quý III năm 2025", ((0, "01"), (0, "03"))),
    (date(2025, 11, 10), "today", 4, (6,), "CAT-PC06", "Công văn",
     "V/v triển khai cấp Phiếu lý lịch tư pháp trên ứng dụng VNeID",
     ((0, "01"), (0, "03"), (0, "04"), (0, "05"), (0, "06"))),
    (date(2025, 12, 1), "today", 5, (0,), "TTr-UBND", "Tờ trình",
     "Tờ trình về việc đề nghị bổ sung kinh phí chỉnh trang đô thị năm 2026", ()),
)  # fmt: skip


def _planned_2026(
    province_code: str,
    entry: tuple[date, str, int, tuple[int, ...], str, str, str, tuple[tuple[int, str], ...]],
    rng: random.Random,
) -> PlannedDocument:
    day, directory, sender, recipients, notation, type_name, subject, steps = entry
    agencies = AGENCIES[province_code] if directory == "old" else TODAYS_AGENCIES[province_code]
    sent_at = datetime.combine(day, time(8, rng.randrange(60)), tzinfo=_VIETNAM)
    document = {
        "from": _organisation(agencies[sender], contact=True),
        "to": [_organisation(agencies[i], contact=True) for i in recipients],
        "code": {"code_number": str(rng.randint(100, 999)), "code_notation": notation},
        "promulgation": {"place": _place(province_code, agencies[sender]), "date": day.isoformat()},
        "document_type": {"type": 1, "type_detail": 0, "type_name": type_name},
        "subject": subject,
        "content": subject,
        "signer": signer_for(agencies[sender], type_name, rng.choice(_SIGNERS)),
        "other_info": {"priority": 0},
        "business": {"business_doc_type": 0, "paper": 0},
        "attachments": [_attachment(0)] if entry is _PLAN_2026[0] else [],
    }
    reports = _reports(agencies, sender, recipients, steps, sent_at, rng)
    return PlannedDocument(document, sent_at, reports)


def _reports(
    agencies: tuple[Agency, ...],
    sender: int,
    recipients: tuple[int, ...],
    steps: tuple[tuple[int, str], ...],
    sent_at: datetime,
    rng: random.Random,
) -> tuple[PlannedReport, ...]:
    """A planned document's statuses, an hour apart; reporter -1 is the sender, i the i-th
    recipient."""
    return tuple(
        PlannedReport(
            reporter=agencies[sender if reporter < 0 else recipients[reporter]].organ_id,
            code=code,
            at=sent_at + timedelta(hours=step),
            staff=rng.choice(_STAFF),
        )
        for step, (reporter, code) in enumerate(steps, start=1)
    )


def signer_for(agency: Agency, type_name: str, full_name: str) -> dict[str, str]:
    """Who signs for a body, and with what competence (Nghị định 30/2020/NĐ-CP, Phụ lục I):
    the Chủ tịch for the People's Committee (TM.) on a Tờ trình, a Phó Chủ tịch on his behalf
    (KT.) otherwise; a department's or the police's head, or a deputy (KT.) on a Công văn."""
    if agency.name.startswith("Ủy ban nhân dân"):
        if type_name == "Tờ trình":
            return {
                "competence": "TM. ỦY BAN NHÂN DÂN",
                "position": "Chủ tịch",
                "full_name": full_name,
            }
        return {"competence": "KT. CHỦ TỊCH", "position": "Phó Chủ tịch", "full_name": full_name}
    if agency.level == "commune":  # Công an phường
        return {"competence": "", "position": "Trưởng Công an phường", "full_name": full_name}
    if type_name == "Công văn":
        return {"competence": "KT. GIÁM ĐỐC", "position": "Phó Giám đốc", "full_name": full_name}
    return {"competence": "", "position": "Giám đốc", "full_name": full_name}


def _place(province_code: str, agency: Agency) -> str:
    """Where a document is issued, as its header writes it ("An Giang, ngày …")."""
    if agency.era == "2024":
        return PROVINCES[province_code].city
    province = TODAYS_PROVINCES[province_code]
    if agency.level == "commune":
        return agency.name.split(" phường ", 1)[-1].split(" xã ", 1)[-1]
    return province.name.removeprefix("Tỉnh ").removeprefix("Thành phố ")


def _organisation(agency: Agency, *, contact: bool = False) -> dict[str, Any]:
    """An edXML organisation; `contact` adds its address, e-mail and telephone, as real
    senders fill them in (the SDK samples; FIDELITY-2026.md §5)."""
    organisation = {"organ_id": agency.organ_id, "organ_name": agency.name}
    if contact:
        organisation |= {
            "organ_add": agency.address,
            "email": agency.email,
            "telephone": agency.telephone,
        }
    return organisation
