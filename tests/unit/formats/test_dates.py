"""Legacy `dd/MM/yyyy` dates: a lossless round trip, and nothing else accepted."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.dates import format_ddmmyyyy, parse_ddmmyyyy


@given(st.dates())
def test_format_then_parse_round_trips_every_date(d: date) -> None:
    text = format_ddmmyyyy(d)

    assert len(text) == 10
    assert parse_ddmmyyyy(text) == d


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


def test_refusal_says_what_was_expected() -> None:
    with pytest.raises(ValueError, match=r"expected a date as dd/MM/yyyy"):
        parse_ddmmyyyy("1987-03-05")
