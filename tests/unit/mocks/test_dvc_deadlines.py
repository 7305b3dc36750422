"""Due dates in working days: weekends, Vietnamese holidays, after-hours receipt, paused clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.dates import VIETNAM_TIME
from mocks.dvc.deadlines import (
    add_working_days,
    due_date,
    holidays,
    is_working_day,
    receipt_day,
    resume_due_date,
    working_days_left,
)

ICT = timezone(timedelta(hours=7))


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Vietnam time."""
    return datetime(year, month, day, hour, minute, tzinfo=ICT)


def closing(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 17, 0, tzinfo=ICT)


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        pytest.param(at(2025, 3, 3), 3, closing(2025, 3, 6), id="monday-3-days-thursday"),
        pytest.param(at(2025, 3, 7), 1, closing(2025, 3, 10), id="friday-skips-the-weekend"),
        pytest.param(at(2025, 3, 6), 7, closing(2025, 3, 17), id="seven-days-span-a-weekend"),
        pytest.param(at(2025, 3, 8, 9), 1, closing(2025, 3, 11), id="saturday-counts-from-monday"),
    ],
)
def test_due_date_counts_working_days_after_the_receipt_day(
    received: datetime, days: int, due: datetime
) -> None:
    assert due_date(received, days) == due


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        pytest.param(at(2025, 3, 7, 16, 59), 1, closing(2025, 3, 10), id="before-17h"),
        pytest.param(at(2025, 3, 7, 17, 0), 1, closing(2025, 3, 11), id="at-17h"),
        pytest.param(at(2025, 3, 7, 22, 30), 1, closing(2025, 3, 11), id="friday-night"),
        pytest.param(at(2025, 3, 10, 6, 0), 1, closing(2025, 3, 11), id="before-opening"),
    ],
)
def test_a_dossier_received_after_17h_counts_from_the_next_working_day(
    received: datetime, days: int, due: datetime
) -> None:
    assert due_date(received, days) == due


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(at(2025, 3, 5, 9), closing(2025, 3, 5), id="working-day-morning"),
        pytest.param(at(2025, 3, 5, 18), closing(2025, 3, 6), id="after-hours"),
        pytest.param(at(2025, 3, 8, 9), closing(2025, 3, 10), id="saturday"),
        pytest.param(at(2025, 1, 27, 9), closing(2025, 2, 3), id="during-tet"),
    ],
)
def test_a_same_day_procedure_is_due_when_the_receipt_day_closes(
    received: datetime, due: datetime
) -> None:
    assert due_date(received, 0) == due


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(at(2024, 2, 7), closing(2024, 2, 15), id="tet-2024"),
        pytest.param(at(2025, 1, 24), closing(2025, 2, 3), id="tet-2025"),
        pytest.param(at(2026, 2, 13), closing(2026, 2, 23), id="tet-2026"),
        pytest.param(at(2024, 4, 17), closing(2024, 4, 19), id="gio-to-2024"),
        pytest.param(at(2025, 4, 4), closing(2025, 4, 8), id="gio-to-2025-monday"),
        pytest.param(at(2026, 4, 24), closing(2026, 4, 28), id="gio-to-2026-sunday-replaced"),
        pytest.param(at(2024, 4, 26), closing(2024, 5, 2), id="30-4-2024-swapped-monday"),
        pytest.param(at(2025, 4, 29), closing(2025, 5, 5), id="30-4-2025-swapped-friday"),
        pytest.param(at(2024, 8, 30), closing(2024, 9, 4), id="2-9-2024"),
        pytest.param(at(2025, 8, 29), closing(2025, 9, 3), id="2-9-2025"),
        pytest.param(at(2026, 8, 28), closing(2026, 9, 3), id="2-9-2026-swapped-monday"),
        pytest.param(at(2025, 12, 31), closing(2026, 1, 5), id="1-1-2026-swapped-friday"),
    ],
)
def test_due_date_skips_the_announced_holidays(received: datetime, due: datetime) -> None:
    assert due_date(received, 1) == due


@pytest.mark.parametrize(
    "saturday", [date(2024, 5, 4), date(2025, 4, 26), date(2026, 1, 10), date(2026, 8, 22)]
)
def test_make_up_saturdays_are_working_days(saturday: date) -> None:
    assert saturday.weekday() == 5
    assert is_working_day(saturday)
    friday = saturday - timedelta(days=1)
    assert due_date(datetime.combine(friday, time(10), tzinfo=ICT), 1) == datetime.combine(
        saturday, time(17), tzinfo=ICT
    )


def test_years_without_an_announced_calendar_keep_the_statutory_fixed_dates() -> None:
    # 2027: 1/1 Friday; 1/5 a Saturday, replaced by Monday 3/5 (BLLĐ 2019 Art. 111(3)).
    assert due_date(at(2026, 12, 31), 1) == closing(2027, 1, 4)
    assert due_date(at(2027, 4, 29), 1) == closing(2027, 5, 4)
    assert not is_working_day(date(2027, 9, 3))  # 2/9 is a Thursday: the Friday joins it


@pytest.mark.parametrize(
    ("year", "months", "days_off"),
    [
        # 2/9/2023 was a Saturday: Friday 1/9 was the adjacent day and Monday 4/9 the replacement.
        pytest.param(2023, (9,), [(9, 1), (9, 2), (9, 4)], id="2023-national-day"),
        # 30/4/2022 and 1/5/2022 were a Saturday and a Sunday: Monday 2/5 and Tuesday 3/5 were off.
        pytest.param(2022, (4, 5), [(4, 30), (5, 1), (5, 2), (5, 3)], id="2022-replacement-days"),
        # 2/9/2029 is a Sunday; the mock's rule adds Monday 3/9, then replaces Sunday with Tuesday.
        pytest.param(2029, (9,), [(9, 2), (9, 3), (9, 4)], id="2029-national-day-on-sunday"),
    ],
)
def test_the_fallback_reproduces_the_replacement_days(
    year: int, months: tuple[int, ...], days_off: list[tuple[int, int]]
) -> None:
    assert {d for d in holidays(year) if d.month in months} == {
        date(year, month, day) for month, day in days_off
    }


def test_tet_is_not_modelled_outside_the_announced_years() -> None:
    # Documents a limitation: the lunar new year 2027 (6/2) had no announced schedule.
    assert is_working_day(date(2027, 2, 8))


def test_a_due_date_is_always_at_17h_vietnam_time() -> None:
    due = due_date(at(2025, 7, 1), 5)

    assert due.utcoffset() == timedelta(hours=7)
    assert due.timetz() == time(17, tzinfo=VIETNAM_TIME)


def test_the_fixed_offset_agrees_with_the_time_zone_database() -> None:
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    for month in range(1, 13):
        moment = datetime(2026, month, 15, 12, tzinfo=saigon)
        assert moment.utcoffset() == VIETNAM_TIME.utcoffset(None)


@pytest.mark.parametrize(
    "received",
    [
        # 23:30 in New York on the day DST began is 10:30 on Monday 10/3 in Vietnam.
        pytest.param(datetime(2025, 3, 9, 23, 30, tzinfo=ZoneInfo("America/New_York")), id="ny"),
        pytest.param(datetime(2025, 3, 10, 3, 30, tzinfo=UTC), id="utc"),
        pytest.param(datetime(2025, 3, 10, 4, 30, tzinfo=ZoneInfo("Europe/Paris")), id="paris"),
    ],
)
def test_the_receipt_instant_decides_not_the_callers_time_zone(received: datetime) -> None:
    assert receipt_day(received) == date(2025, 3, 10)
    assert due_date(received, 1) == closing(2025, 3, 11)


def test_both_readings_of_an_ambiguous_local_time_are_honoured() -> None:
    # 01:30 on 2/11/2025 happens twice in New York: 12:30 and 13:30 in Vietnam, both on Sunday.
    new_york = ZoneInfo("America/New_York")
    first = datetime(2025, 11, 2, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)

    assert first.astimezone(ICT).hour == 12
    assert second.astimezone(ICT).hour == 13
    assert due_date(first, 1) == due_date(second, 1) == closing(2025, 11, 4)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2025, 3, 3, 10, 0)  # noqa: DTZ001 - the point of the test

    with pytest.raises(ValueError, match="timezone-aware"):
        due_date(naive, 1)


def test_a_negative_processing_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        due_date(at(2025, 3, 3), -1)


def test_a_supplement_request_stops_the_clock() -> None:
    due = due_date(at(2025, 3, 3), 5)  # Monday 3/3 -> Monday 10/3
    assert due == closing(2025, 3, 10)

    # Paused on Wednesday 5/3 with Thursday..Monday (3 days) left; resumed Tuesday 11/3.
    resumed = resume_due_date(due, paused_at=at(2025, 3, 5), resumed_at=at(2025, 3, 11))

    assert resumed == closing(2025, 3, 14)


def test_pausing_and_resuming_the_same_day_keeps_the_due_date() -> None:
    due = due_date(at(2025, 3, 3), 5)

    assert resume_due_date(due, paused_at=at(2025, 3, 5, 9), resumed_at=at(2025, 3, 5, 15)) == due


def test_an_overdue_dossier_resumes_due_at_the_close_of_that_day() -> None:
    due = due_date(at(2025, 3, 3), 1)

    resumed = resume_due_date(due, paused_at=at(2025, 3, 10), resumed_at=at(2025, 3, 12))

    assert working_days_left(at(2025, 3, 10), due) == 0
    assert resumed == closing(2025, 3, 12)


def test_working_days_left_ignores_a_due_day_that_is_a_day_off() -> None:
    # Friday 7/3 after hours counts from Monday 10/3; nothing is left before Sunday 9/3.
    assert working_days_left(at(2025, 3, 7, 18), closing(2025, 3, 9)) == 0
    assert working_days_left(at(2025, 3, 6), closing(2025, 3, 9)) == 1


def test_a_dossier_cannot_resume_before_it_was_paused() -> None:
    due = due_date(at(2025, 3, 3), 5)

    with pytest.raises(ValueError, match="before it was paused"):
        resume_due_date(due, paused_at=at(2025, 3, 5), resumed_at=at(2025, 3, 4))


moments = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by design
    max_value=datetime(2027, 12, 1),  # noqa: DTZ001
    timezones=st.sampled_from([ICT, UTC, ZoneInfo("Europe/Paris")]),
)


@given(received=moments, days=st.integers(min_value=0, max_value=40))
def test_a_due_date_is_a_working_day_exactly_n_working_days_after_receipt(
    received: datetime, days: int
) -> None:
    due = due_date(received, days)

    assert due > received
    assert due.utcoffset() == timedelta(hours=7)
    assert due.time() == time(17)
    assert is_working_day(due.date())
    start = receipt_day(received)
    between = [start + timedelta(days=i) for i in range(1, (due.date() - start).days + 1)]
    assert sum(is_working_day(d) for d in between) == days
    assert add_working_days(start, days) == due.date()


@given(first=moments, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_a_later_receipt_is_never_due_earlier(first: datetime, gap: timedelta) -> None:
    assert due_date(first, 3) <= due_date(first + gap, 3)


@given(received=moments, days=st.integers(min_value=0, max_value=30), pause=moments)
def test_an_instant_pause_before_the_due_day_changes_nothing(
    received: datetime, days: int, pause: datetime
) -> None:
    due = due_date(received, days)
    if receipt_day(pause) > due.date():
        return  # overdue: covered by its own test
    assert resume_due_date(due, paused_at=pause, resumed_at=pause) == due
