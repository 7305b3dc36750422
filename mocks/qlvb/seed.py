"""A few documents between a province's agencies, in several statuses: same seed, same data.

Enough for a demo to show every branch of the status table (mocks/qlvb/lifecycle.py): done,
in progress, refused, a recall pending, a recall refused and resumed, one not yet confirmed.
Times are fixed (March 2025, Vietnam time), not the clock's, so two runs compare equal.
Statuses follow the rules `/updateStatus` applies (`store.plan_report`), in memory, and the
whole history is stored in one batch per table (a start seeds every province: issue 20 item 8).
An instance that has documents is not seeded again.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from formats.edxml import parse_edxml, render_edxml, render_status
from mocks.directory.agencies import AGENCIES, PROVINCES, Agency
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


async def seed_documents(store: DocumentStore, *, province_code: str, seed: int) -> int:
    """Store the planned documents with their statuses in an instance that has none; how many
    documents were stored."""
    history = planned_documents(store.instance, province_code=province_code, seed=seed)
    await store.add_history(history)
    return len(history)


def planned_documents(instance: str, *, province_code: str, seed: int) -> list[DocumentHistory]:
    """The seeded documents and the status messages each received, decided before anything
    is written: what `/sendEdoc` and `/updateStatus` would have been sent."""
    agencies = AGENCIES[province_code]
    place = PROVINCES[province_code].city
    rng = random.Random(f"qlvb:{seed}:{province_code}")  # noqa: S311 - demo data, not secrets
    history = []
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
            "attachments": [
                {
                    "content_id": f"seed-{day + 1}",
                    "attachment_name": "van-ban.pdf",
                    "content_type": "application/pdf",
                    "content_base64": base64.b64encode(_ATTACHMENT).decode("ascii"),
                }
            ]
            if day == 0
            else [],
        }
        edxml = render_edxml(document)
        new = describe_document(instance, edxml, parse_edxml(edxml))
        reports = []
        for step, (reporter, code) in enumerate(steps, start=1):
            organ = agencies[sender if reporter < 0 else recipients[reporter]].organ_id
            at = sent_at + timedelta(hours=step)
            staff = {"department": "Văn phòng", "staff": rng.choice(_STAFF)}
            stamp = at.replace(tzinfo=None).isoformat()  # edXML time is local, naive
            message = _status_message(document, new.document_id, organ, code, stamp, staff)
            report = Report(
                reporter=organ,
                code=code,
                description=_DESCRIPTIONS[code],
                timestamp=stamp,
                staff_info=staff,
                edxml=message,
            )
            reports.append((report, at))
        history.append(DocumentHistory(new, sent_at, reports))
    return history


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
            "response_for": {
                "organ_id": document["from"]["organ_id"],
                "code": f"{document['code']['code_number']}/{document['code']['code_notation']}",
                "promulgation_date": document["promulgation"]["date"],
                "document_id": document_id,
            },
            "from": {"organ_id": reporter, "organ_name": reporter},
            "status_code": code,
            "description": _DESCRIPTIONS[code],
            "timestamp": timestamp,
            "staff_info": staff,
        }
    )


def _organisation(agency: Agency) -> dict[str, Any]:
    return {"organ_id": agency.organ_id, "organ_name": agency.name}
