"""The dates and times Vietnamese legacy systems write, converted losslessly to and from Python.

- `dd/MM/yyyy` dates: the citizen database (`NgayThangNamSinh`) and the criminal-record service
  write them so (DOMAIN.md §2.1, §5.2); the canonical side uses ISO 8601.
- `yyyyMMddHHmmss` times in Vietnam time: DVCQG and the portals modelled on it (DOMAIN.md §8.2,
  "DVCQG datetime").

Parsing is strict so that a swapped day and month, or a two-digit year, fails loudly instead of
becoming another valid date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

# Vietnam keeps UTC+7 all year (no daylight saving time), so a fixed offset is exact.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

# ASCII digits only: `\d` would also accept other scripts' digits, which `int()` then reads.
_DDMMYYYY = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_DVCQG_TIME = re.compile(r"[0-9]{14}")


def parse_ddmmyyyy(text: str) -> date:
    """Read `05/03/1987` as 5 March 1987; anything but exactly `dd/MM/yyyy` raises ValueError."""
    match = _DDMMYYYY.fullmatch(text)
    if match is None:
        raise ValueError(f"expected a date as dd/MM/yyyy (e.g. 05/03/1987), got {text!r}")
    day, month, year = (int(group) for group in match.groups())
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a calendar date: {error}") from None


def format_ddmmyyyy(d: date) -> str:
    """Write `d` as `dd/MM/yyyy`, zero-padding the year (`strftime('%Y')` does not on glibc)."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def parse_dvcqg_time(text: str) -> datetime:
    """`yyyyMMddHHmmss` as an aware datetime in Vietnam time; ValueError otherwise.

    The error names the expected shape and the length, never the value.
    """
    if not _DVCQG_TIME.fullmatch(text):
        raise ValueError(f"expected yyyyMMddHHmmss, got {len(text)} characters")
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VIETNAM_TIME)
    except ValueError:  # strptime's message repeats the value
        raise ValueError("expected yyyyMMddHHmmss, got 14 digits that are not a time") from None


def format_dvcqg_time(moment: datetime | None) -> str | None:
    """`yyyyMMddHHmmss` in Vietnam time; None stays None (an optional date left empty).

    A naive datetime raises ValueError: which instant it means would be a guess.
    """
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime, got a naive one")
    return f"{moment.astimezone(VIETNAM_TIME):%Y%m%d%H%M%S}"
