"""Legacy `dd/MM/yyyy` dates and DVCQG times: lossless round trips, and nothing else accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.dates import (
    VIETNAM_TIME,
    DayClock,
    ddmmyyyy_to_iso,
    format_ddmmyyyy,
    format_dvcqg_time,
    now_in_vietnam,
    parse_ddmmyyyy,
    parse_dvcqg_time,
)


@given(st.dates())
def test_format_then_parse_round_trips_every_date(d: date) -> None:
    text = format_ddmmyyyy(d)

    assert len(text) == 10
    assert parse_ddmmyyyy(text) == d
    assert ddmmyyyy_to_iso(text) == ddmmyyyy_to_iso(text) == d.isoformat()  # read, remembered


def test_day_comes_before_month() -> None:
    assert parse_ddmmyyyy("05/03/1987") == date(1987, 3, 5)
    assert format_ddmmyyyy(date(1987, 3, 5)) == "05/03/1987"


def test_small_years_are_zero_padded() -> None:
    assert format_ddmmyyyy(date(99, 1, 2)) == "02/01/0099"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5/3/1987",
        "05/03/87",
        "1987-03-05",
        "05-03-1987",
        "05.03.1987",
        " 05/03/1987",
        "05/03/1987 ",
        "05/03/1987\n",
        "05/03/19870",
        "０５/０３/１９８７",  # full-width digits
        "31/02/1987",  # no such day
        "00/01/1987",
        "01/13/1987",
        "01/01/0000",
    ],
)
def test_anything_but_a_real_ddmmyyyy_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="dd/MM/yyyy|not a calendar date"):
        parse_ddmmyyyy(text)
    for _ in range(2):  # a refusal is not remembered as an answer
        with pytest.raises(ValueError, match="dd/MM/yyyy|not a calendar date"):
            ddmmyyyy_to_iso(text)


def test_refusal_says_what_was_expected() -> None:
    with pytest.raises(ValueError, match=r"expected a date as dd/MM/yyyy"):
        parse_ddmmyyyy("1987-03-05")


# --- DVCQG times: yyyyMMddHHmmss in Vietnam time ---------------------------------------------


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(microsecond=0))
)
def test_dvcqg_time_round_trips_to_the_same_instant(moment: datetime) -> None:
    text = format_dvcqg_time(moment)

    assert text is not None
    assert len(text) == 14
    assert parse_dvcqg_time(text) == moment
    assert parse_dvcqg_time(text).utcoffset() == timedelta(hours=7)


def test_dvcqg_time_of_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_dvcqg_time(datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 - the naive input is the point


def test_dvcqg_time_keeps_an_empty_date_empty() -> None:
    assert format_dvcqg_time(None) is None


@pytest.mark.parametrize(
    "text", ["2026030209000", "202603020900000", "2026-03-02 09:00", "20261302090000"]
)
def test_malformed_dvcqg_time_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(ValueError, match="yyyyMMddHHmmss") as raised:
        parse_dvcqg_time(text)

    assert text not in str(raised.value)


@given(moment=st.floats(min_value=0, max_value=8e9), zone=st.sampled_from([UTC, VIETNAM_TIME]))
def test_the_day_clock_gives_the_date_of_the_moment_in_its_zone(moment: float, zone: Any) -> None:
    assert DayClock(zone, clock=lambda: moment)() == datetime.fromtimestamp(moment, zone).date()


def test_the_day_clock_turns_at_midnight_in_its_zone_and_not_before() -> None:
    midnight = datetime(2026, 12, 7, tzinfo=VIETNAM_TIME).timestamp()  # 17:00 UTC the day before
    now = [midnight - 0.5]
    today = DayClock(VIETNAM_TIME, clock=lambda: now[0])

    assert today() == date(2026, 12, 6)
    now[0] = midnight - 0.001
    assert today() == date(2026, 12, 6)
    now[0] = midnight
    assert today() == date(2026, 12, 7)
    now[0] = midnight + 86_399.9
    assert today() == date(2026, 12, 7)
    now[0] = midnight + 86_400
    assert today() == date(2026, 12, 8)


def test_now_in_vietnam_is_the_present_at_utc_plus_seven() -> None:
    before = datetime.now(UTC)
    now = now_in_vietnam()

    assert now.utcoffset() == timedelta(hours=7)
    assert before <= now <= datetime.now(UTC)
