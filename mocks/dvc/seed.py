"""A province's demo dossiers: one in each `TrangThaiHoSo` (DOMAIN.md §8.7), same seed, same rows.

Era 2024 files them in June 2025 with the seeded province's bodies, as the seeds always did.
Era 2026 files them on both sides of 1 July 2025: those before with the old province's bodies
and codes (`…H33`), those after with today's (`…H01`, no district; `agencies.receiving_agency`),
each with a summary a citizen would write.

Applicants are citizens of the province's mock citizen database (`mocks.dancu.seed`), drawn from
the first `population` of them with the same seed, so each seeded applicant verifies through
the bus. Every dossier reaches its status by the lifecycle's own steps (`lifecycle.transition`,
`store.append_step`), so its dates and history are what the HTTP API would have written. The
timeline is fixed, not taken from the clock: seeding twice gives the same dossiers to the byte.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from formats.agency_codes import CLOSED_FROM
from formats.dates import VIETNAM_TIME, parse_ddmmyyyy
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.directory.admin_units import ADMIN_UNITS, Era
from mocks.directory.agencies import receiving_agency
from mocks.dvc.codes import DossierCode, InMemoryDossierCodeAllocator, next_dossier_code
from mocks.dvc.deadlines import add_working_days
from mocks.dvc.lifecycle import Action, DossierStatus, transition
from mocks.dvc.models import Dossier
from mocks.dvc.procedures import PROCEDURES, Procedure
from mocks.dvc.store import DossierStore, Filing, Step, append_step, new_dossier

logger = logging.getLogger(__name__)

SEED_START = date(2025, 6, 2)  # a Monday: the first seeded dossier is filed that morning
SEED_STARTS: dict[Era, date] = {
    "2024": SEED_START,
    # a Monday: six dossiers before 1 July 2025 (old bodies), four from that day (today's)
    "2026": date(2025, 6, 23),
}
APPLICANT_POOL = 40  # applicants come from the first this-many citizens (or the population)

_A = Action
# The steps that lead from 1 (new) to each status, in DVCQG code order (DOMAIN.md §8.4).
PATHS: dict[DossierStatus, tuple[Action, ...]] = {
    DossierStatus.NEW: (),
    DossierStatus.RECEIVED: (_A.RECEIVE,),
    DossierStatus.REFUSED: (_A.REFUSE,),
    DossierStatus.PROCESSING: (_A.RECEIVE, _A.START_PROCESSING),
    DossierStatus.SUPPLEMENT_REQUESTED: (_A.RECEIVE, _A.START_PROCESSING, _A.REQUEST_SUPPLEMENT),
    DossierStatus.FINANCIAL_OBLIGATION: (_A.RECEIVE, _A.START_PROCESSING, _A.REQUEST_PAYMENT),
    DossierStatus.WITHDRAWN: (_A.RECEIVE, _A.WITHDRAW),
    DossierStatus.STOPPED: (_A.RECEIVE, _A.START_PROCESSING, _A.STOP),
    DossierStatus.COMPLETED: (_A.RECEIVE, _A.START_PROCESSING, _A.COMPLETE),
    DossierStatus.RESULT_RETURNED: (
        _A.RECEIVE,
        _A.START_PROCESSING,
        _A.REQUEST_SUPPLEMENT,
        _A.SUPPLEMENT_RECEIVED,
        _A.COMPLETE,
        _A.RETURN_RESULT,
    ),
}

# Who takes each step: the one-stop desk, the specialist, the head of the office (mock people).
_DESK = Step("Nguyễn Thị Lan", "Cán bộ tiếp nhận", "Bộ phận Tiếp nhận và Trả kết quả")
_SPECIALIST = Step("Trần Văn Minh", "Chuyên viên", "Phòng chuyên môn")
_HEAD = Step("Lê Văn Hùng", "Phó Trưởng phòng", "Phòng chuyên môn")
_BY_ACTION = {
    _A.RECEIVE: _DESK,
    _A.REFUSE: _DESK,
    _A.SUPPLEMENT_RECEIVED: _DESK,
    _A.PAYMENT_RECEIVED: _DESK,
    _A.RETURN_RESULT: _DESK,
    _A.START_PROCESSING: _SPECIALIST,
    _A.REQUEST_SUPPLEMENT: _SPECIALIST,
    _A.REQUEST_PAYMENT: _SPECIALIST,
    _A.STOP: _HEAD,
    _A.COMPLETE: _HEAD,
}


@dataclass(frozen=True)
class PlannedDossier:
    status: DossierStatus
    path: tuple[Action, ...]
    applicant: CitizenRecord
    procedure: Procedure
    agency_id: str
    day: date
    filed_at: datetime
    phone: str
    era: Era = "2024"


def plan_dossiers(
    *, province_code: str, seed: int, population: int, era: Era = "2024"
) -> list[PlannedDossier]:
    """The demo dossiers, decided before anything is written: pure, so samples can name them."""
    rng = random.Random(f"dvc:{seed}:{province_code}")  # noqa: S311 - demo data, not secrets
    applicants = _adults(
        generate_citizens(
            province_code=province_code,
            seed=seed,
            count=min(population, APPLICANT_POOL),
            era=era,
        )
    )
    if not applicants:
        return []
    planned, day = [], SEED_STARTS[era]
    # Era 2026: the oldest dossiers are the finished ones, the newest still unreceived.
    paths = list(PATHS.items()) if era == "2024" else list(reversed(PATHS.items()))
    for index, (status, path) in enumerate(paths):
        procedure = PROCEDURES[rng.randrange(len(PROCEDURES))]
        applicant = applicants[index % len(applicants)]
        filed_at = datetime.combine(day, time(8, rng.randrange(60)), tzinfo=VIETNAM_TIME)
        planned.append(
            PlannedDossier(
                status=status,
                path=path,
                applicant=applicant,
                procedure=procedure,
                agency_id=receiving_agency(
                    province_code, procedure.code, era=era, on=day, home=_home(applicant)
                ).organ_id,
                day=day,
                filed_at=filed_at,
                phone=f"09{rng.randrange(10**8):08d}",
                era=era,
            )
        )
        day = add_working_days(day, 1)
    return planned


def seeded_dossier_codes(
    *, province_code: str, seed: int, population: int, era: Era = "2024"
) -> list[str]:
    """The codes `seed_dossiers` gives its dossiers in an empty database (one per agency-day)."""
    return [
        str(next_dossier_code(planned.agency_id, planned.day, None))
        for planned in plan_dossiers(
            province_code=province_code, seed=seed, population=population, era=era
        )
    ]


def seeded_dossiers(
    *, instance: str, province_code: str, seed: int, population: int, era: Era = "2024"
) -> list[Dossier]:
    """The dossiers `seed_dossiers` writes to an empty database, built in memory (no session).

    The national portal (`mocks.dvcqg`) starts out knowing these, as if each had been synced.
    """
    return [
        _build(instance, item, next_dossier_code(item.agency_id, item.day, None))
        for item in plan_dossiers(
            province_code=province_code, seed=seed, population=population, era=era
        )
    ]


async def seed_dossiers(
    store: DossierStore, *, province_code: str, seed: int, population: int, era: Era = "2024"
) -> int:
    """File the demo dossiers unless the instance has some already; how many were filed.

    Seeding is history, not a change: nothing is queued for the national portal, which knows
    these dossiers from the same seed (`seeded_dossiers`).
    """
    if await store.count():
        return 0
    planned = plan_dossiers(province_code=province_code, seed=seed, population=population, era=era)
    if not planned:
        logger.warning("no adult citizen to seed dossiers for province %s", province_code)
        return 0
    # Codes as `allocate_code` would issue them one by one, allocated in memory: one batch.
    codes = InMemoryDossierCodeAllocator(await store.issued_codes())
    dossiers = [
        _build(store.instance, item, codes.allocate(item.agency_id, item.day)) for item in planned
    ]
    await store.add_many(dossiers, issued=codes.issued)
    return len(planned)


def _build(instance: str, item: PlannedDossier, code: DossierCode) -> Dossier:
    """One planned dossier filed and taken along its path by the lifecycle's own steps."""
    applicant, procedure = item.applicant, item.procedure
    filing = Filing(
        procedure_code=procedure.code,
        agency_id=item.agency_id,
        applicant_name=applicant.ho_va_ten,
        applicant_birth_date=parse_ddmmyyyy(applicant.ngay_thang_nam_sinh),
        applicant_id_number=applicant.so_dinh_danh,
        summary=summary_of(item),
        email=None,
        phone=item.phone,
        form_data=_form_data(item),
        attachments=(),
    )
    dossier = new_dossier(instance, filing, code=code, at=item.filed_at)
    at = item.filed_at
    for action in item.path:
        at = _next_step_time(at)
        by = _actor(action, applicant)
        step = transition(DossierStatus(dossier.status), action, actor=by.actor, at=at)
        append_step(dossier, step, by, processing_days=procedure.processing_days)
    return dossier


# What a citizen writes as the dossier's summary (TrichYeuHoSo), by procedure; era 2026.
# No template names the applicant: the journal and the console mask the applicant's name
# field, and a summary "… cho {name}" beside it showed the name whole (first-hour review
# 2026-12-07 #7). Free text cannot be masked field by field.
_SUMMARIES = {
    "1.001193": "Đăng ký khai sinh cho con",
    "1.000894": "Đăng ký kết hôn",
    "1.000656": "Đăng ký khai tử cho cha",
    "2.000635": "Cấp bản sao trích lục khai sinh",
    "2.000815": "Chứng thực bản sao bằng tốt nghiệp và học bạ",
    "2.000884": "Chứng thực chữ ký trên giấy ủy quyền",
    "1.004222": "Đăng ký thường trú tại {address}",
    "1.004194": "Đăng ký tạm trú tại {address}",
    "1.001612": "Đăng ký thành lập hộ kinh doanh tạp hóa tại {address}",
    "3.999001": "Cấp Phiếu lý lịch tư pháp số 1",
    "3.999002": "Cấp giấy phép xây dựng nhà ở riêng lẻ tại {address}",
    "3.999003": "Cấp giấy phép xây dựng nhà xưởng tại {address}",
    "3.999004": "Đăng ký thành lập doanh nghiệp tư nhân tại {address}",
    "3.999005": "Đổi giấy phép lái xe hạng B",
}


def summary_of(item: PlannedDossier) -> str:
    """Era 2026 writes what a citizen would; era 2024 keeps the seeds' text."""
    procedure = item.procedure
    if item.era == "2024" or procedure.code not in _SUMMARIES:
        return f"{procedure.name} (hồ sơ mẫu, trạng thái {int(item.status)})"
    home = item.applicant.thuong_tru
    ward = home.ten_phuong_xa  # the ward as it was named on the day of filing
    if item.day >= CLOSED_FROM and (today := ADMIN_UNITS.successors(home.ma_phuong_xa)):
        ward = today[0].name
    address = f"{home.chi_tiet}, {ward}"
    return _SUMMARIES[procedure.code].format(address=address)


def _form_data(item: PlannedDossier) -> dict[str, str]:
    """What the e-form holds beside the summary: era 2026 the applicant's choice of how the
    result comes back (by day, so that both appear), era 2024 the seeds' marker as it was."""
    if item.era == "2024":
        return {"GhiChu": "Dữ liệu mẫu"}
    by_post = item.day.toordinal() % 3 == 0
    return {"HinhThucNhanKetQua": "Qua dịch vụ bưu chính" if by_post else "Trực tiếp"}


def _home(applicant: CitizenRecord) -> tuple[Era, str]:
    """The applicant's commune of residence as the seed records it (a code of before the
    merger): a commune-level dossier goes to its bodies (`agencies.receiving_agency`)."""
    return "2024", applicant.thuong_tru.ma_phuong_xa


def _adults(citizens: list[CitizenRecord]) -> list[CitizenRecord]:
    coming_of_age = SEED_START.replace(year=SEED_START.year - 18)
    return [c for c in citizens if parse_ddmmyyyy(c.ngay_thang_nam_sinh) <= coming_of_age]


def _actor(action: Action, applicant: CitizenRecord) -> Step:
    if action is Action.WITHDRAW:  # the citizen withdraws their own dossier
        return Step(applicant.ho_va_ten, "Chủ hồ sơ", "")
    return _BY_ACTION[action]


def _next_step_time(at: datetime) -> datetime:
    """The next working day at 09:30: one step a day, inside office hours."""
    return datetime.combine(
        add_working_days(at.date(), 1), time(9, 30), tzinfo=VIETNAM_TIME
    ) + timedelta(minutes=at.minute)
