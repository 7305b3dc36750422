"""When a dossier is due (`NgayHenTra`, DOMAIN.md §4.2): working days of a Vietnamese public office.

A procedure's processing time is stated in working days (ngày làm việc), so the due date skips
weekends and the public holidays of the Labour Code 2019 (Bộ luật Lao động, Law 45/2019/QH14).
The rules the mock applies, all in Vietnam time (UTC+7 all year, no daylight saving time):

1. **Receipt.** A dossier received on a working day before 17:00 is received that day; one
   received at or after 17:00, or on a day off, is received on the next working day. That is
   how one-stop offices treat online filings outside office hours (INFERENCE from published
   procedure pages); the 17:00 cut-off is the mock's choice. (Civil-status and certification
   offices use a 15:00 cut-off for same-day procedures; not modelled.)
2. **Counting.** The day of receipt is not counted; the period starts the next day (Bộ luật
   Dân sự 2015 Art. 147). A dossier with N working days is due on the N-th working day after
   its receipt day, at 17:00, the close of the office day. N = 0 ("trong ngày") is due at 17:00
   on the receipt day itself.
3. **Supplement requests stop the clock** (`resume_due_date`): the working days left when the
   request was made are counted again from the day the supplement arrives.

Holidays: 2024–2026 follow the calendars announced for civil servants, swaps and make-up Saturdays
included (`_ANNOUNCED`). Other years get only the fixed-date holidays of Art. 112(1) with the
Art. 111(3) replacement day; Tết and Giỗ Tổ Hùng Vương follow the lunar calendar and are **not
modelled** outside 2024–2026 (Tết 2027 had not been announced when this table was written).
24/11, Ngày Văn hóa Việt Nam, is promised as a paid holiday but awaits an amendment of Art. 112
(Nghị quyết 30/NQ-CP, 2026); not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType

from formats.dates import VIETNAM_TIME

# Vietnam keeps UTC+7 all year, so a fixed offset is exact and no tz database is needed.
OFFICE_CLOSES = time(17, 0)

# Days off and make-up working Saturdays for civil servants, as announced each year. `off` ranges
# may include weekend days; `work` marks a Saturday worked in exchange for a swapped weekday.
# Sources: BLĐTBXH announcements as reported by the press for 2024 (Tết 8–14/2, 30/4 swap with
# Saturday 4/5, Quốc khánh 31/8–3/9); VietnamPlus and the press for 2025 (Tết 25/1–2/2; 30/4–4/5,
# Friday 2/5 worked on Saturday 26/4; Quốc khánh 30/8–2/9); for 2026: letter 12729/VPCP-KGVX of
# 25/12/2025 (1/1–4/1, Friday 2/1 worked on Saturday 10/1), the approved Tết plan (14/2–22/2),
# Thanh Niên of 23/2/2026 (Giỗ Tổ on Sunday 26/4, replacement Monday 27/4). The Quốc khánh 2026
# rows (29/8–2/9, Monday 31/8 worked on Saturday 22/8) are the Bộ Nội vụ proposal of October 2025
# as the press reported it; that it was adopted unchanged is UNVERIFIED.
_ANNOUNCED = """
2024-01-01             off  Tết Dương lịch
2024-02-08..2024-02-14 off  Tết Nguyên đán Giáp Thìn
2024-04-18             off  Giỗ Tổ Hùng Vương
2024-04-29             off  Ngày làm việc hoán đổi (làm bù thứ Bảy 04/5/2024)
2024-04-30..2024-05-01 off  Ngày Chiến thắng, Ngày Quốc tế Lao động
2024-05-04             work Làm bù cho thứ Hai 29/4/2024
2024-09-02..2024-09-03 off  Quốc khánh
2025-01-01             off  Tết Dương lịch
2025-01-25..2025-02-02 off  Tết Nguyên đán Ất Tỵ
2025-04-07             off  Giỗ Tổ Hùng Vương
2025-04-26             work Làm bù cho thứ Sáu 02/5/2025
2025-04-30..2025-05-01 off  Ngày Chiến thắng, Ngày Quốc tế Lao động
2025-05-02             off  Ngày làm việc hoán đổi (làm bù thứ Bảy 26/4/2025)
2025-09-01..2025-09-02 off  Quốc khánh
2026-01-01             off  Tết Dương lịch
2026-01-02             off  Ngày làm việc hoán đổi (làm bù thứ Bảy 10/01/2026)
2026-01-10             work Làm bù cho thứ Sáu 02/01/2026
2026-02-14..2026-02-22 off  Tết Nguyên đán Bính Ngọ
2026-04-26..2026-04-27 off  Giỗ Tổ Hùng Vương (chủ nhật) và ngày nghỉ bù
2026-04-30..2026-05-01 off  Ngày Chiến thắng, Ngày Quốc tế Lao động
2026-08-22             work Làm bù cho thứ Hai 31/8/2026
2026-08-31             off  Ngày làm việc hoán đổi (làm bù thứ Bảy 22/8/2026)
2026-09-01..2026-09-02 off  Quốc khánh
"""


def _parse_announced(table: str) -> tuple[dict[date, str], dict[date, str]]:
    """Read `_ANNOUNCED`: each row is `date[..date] off|work name`."""
    days_off: dict[date, str] = {}
    make_up: dict[date, str] = {}
    for row in table.strip().splitlines():
        span, kind, name = row.split(maxsplit=2)
        first, _, last = span.partition("..")
        start = date.fromisoformat(first)
        end = date.fromisoformat(last) if last else start
        target = days_off if kind == "off" else make_up
        while start <= end:
            target[start] = name
            start += timedelta(days=1)
    return days_off, make_up


_DAYS_OFF, _MAKE_UP_DAYS = _parse_announced(_ANNOUNCED)
ANNOUNCED_YEARS = frozenset(day.year for day in _DAYS_OFF)


@lru_cache(maxsize=64)
def _statutory_days_off(year: int) -> Mapping[date, str]:
    """Fixed-date holidays of BLLĐ 2019 Art. 112(1), for a year without an announced calendar.

    The day next to 2/9 is the Prime Minister's yearly choice; the mock takes 3/9 when 2/9 falls
    on a Monday, Thursday or Sunday and 1/9 otherwise, which reproduces every choice of 2021–2026.
    A holiday on a Saturday or Sunday gives the next working day off (Art. 111(3)).
    """
    national_day = date(year, 9, 2)
    next_to_it = national_day + timedelta(days=1 if national_day.weekday() in (0, 3, 6) else -1)
    statutory = {
        date(year, 1, 1): "Tết Dương lịch",
        date(year, 4, 30): "Ngày Chiến thắng",
        date(year, 5, 1): "Ngày Quốc tế Lao động",
        min(national_day, next_to_it): "Quốc khánh",
        max(national_day, next_to_it): "Quốc khánh",
    }
    days_off = dict(statutory)
    for holiday, name in sorted(statutory.items()):
        if holiday.weekday() >= 5:
            replacement = holiday + timedelta(days=1)
            while replacement.weekday() >= 5 or replacement in days_off:
                replacement += timedelta(days=1)
            days_off[replacement] = f"Nghỉ bù {name}"
    return MappingProxyType(days_off)


def holidays(year: int) -> Mapping[date, str]:
    """The days the calendar of `year` marks off, weekend days inside announced spans included."""
    if year in ANNOUNCED_YEARS:
        return MappingProxyType({d: n for d, n in _DAYS_OFF.items() if d.year == year})
    return _statutory_days_off(year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, less holidays and swapped days, plus announced make-up Saturdays."""
    if day in _MAKE_UP_DAYS:
        return True
    if day.weekday() >= 5:
        return False
    return day not in (_DAYS_OFF if day.year in ANNOUNCED_YEARS else _statutory_days_off(day.year))


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (`day` itself when `count` is 0)."""
    if count < 0:
        raise ValueError(f"a number of working days cannot be negative, got {count}")
    for _ in range(count):
        day = next_working_day(day)
    return day


def to_vietnam_time(moment: datetime) -> datetime:
    """`moment` in Vietnam time; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(VIETNAM_TIME)


def receipt_day(received_at: datetime) -> date:
    """The working day a dossier counts as received on (rule 1 in the module docstring)."""
    local = to_vietnam_time(received_at)
    if is_working_day(local.date()) and local.time() < OFFICE_CLOSES:
        return local.date()
    return next_working_day(local.date())


def _closing_time(day: date) -> datetime:
    return datetime.combine(day, OFFICE_CLOSES, tzinfo=VIETNAM_TIME)


def due_date(received_at: datetime, working_days: int) -> datetime:
    """`NgayHenTra`: 17:00 Vietnam time on the `working_days`-th working day after receipt."""
    return _closing_time(add_working_days(receipt_day(received_at), working_days))


def working_days_left(at: datetime, due: datetime) -> int:
    """Working days after the day `at` counts for, up to the day of `due`; 0 once overdue."""
    start, end = receipt_day(at), to_vietnam_time(due).date()
    left = 0
    while start < end:
        start = next_working_day(start)
        if start <= end:
            left += 1
    return left


def resume_due_date(due: datetime, *, paused_at: datetime, resumed_at: datetime) -> datetime:
    """The new `NgayHenTra` after a supplement request (`NgayHenTraMoi`, DOMAIN.md §4.2).

    The clock stops when the supplement is requested: the working days then left are counted
    again from the day the supplement is received. A dossier paused when already overdue has
    none left and falls due at the close of the day it resumes.
    """
    if to_vietnam_time(resumed_at) < to_vietnam_time(paused_at):
        raise ValueError("a dossier cannot resume before it was paused")
    return due_date(resumed_at, working_days_left(paused_at, due))
