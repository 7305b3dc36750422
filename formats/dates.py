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
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

# Vietnam keeps UTC+7 all year (no daylight saving time), so a fixed offset is exact.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

# ASCII digits only: `\d` would also accept other scripts' digits, which `int()` then reads.
_DDMMYYYY = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_DVCQG_TIME = re.compile(r"[0-9]{14}")
REMEMBERED_DATES = 1 << 15
"""How many dates `ddmmyyyy_to_iso` keeps: more than the 24,837 days of the seeded birth years
(1940-2007), some 8 MB at most."""


def parse_ddmmyyyy(text: str) -> date:
    """Read `05/03/1987` as 5 March 1987; anything but exactly `dd/MM/yyyy` raises ValueError."""
    match = _DDMMYYYY.fullmatch(text)
    if match is None:
        raise ValueError(f"expected a date as dd/MM/yyyy (e.g. 05/03/1987), got {text!r}")
    day, month, year = match.groups()  # no generator: this runs on every citizen record
    try:
        return date(int(year), int(month), int(day))
    except ValueError as error:
        raise ValueError(f"{text!r} is not a calendar date: {error}") from None


@lru_cache(maxsize=REMEMBERED_DATES)
def ddmmyyyy_to_iso(text: str) -> str:
    """`parse_ddmmyyyy(text).isoformat()`, remembered: every citizen answer carries a date of
    birth, and its regex, three `int`s and `date` cost a third of reading the record, fifteen times
    a remembered one (issue 21). A refused text is not remembered: it raises ValueError again."""
    return parse_ddmmyyyy(text).isoformat()


class DayClock:
    """Today's date in `zone` (a fixed offset, as `VIETNAM_TIME` or UTC), as a callable.

    A CCCD check asks for today on every citizen lookup, in the adapter and again in the
    system; `datetime.now(zone).date()` builds two objects each time, where this reads the
    clock and builds a date only when the day has changed (issue 21).
    """

    __slots__ = ("_clock", "_day", "_ends", "_offset", "_zone")

    def __init__(self, zone: timezone, *, clock: Callable[[], float] = time.time) -> None:
        self._zone = zone
        self._clock = clock
        offset = zone.utcoffset(None)
        self._offset = offset.total_seconds()
        self._ends = float("-inf")  # the POSIX time at which `_day` is over
        self._day = date.min

    def __call__(self) -> date:
        now = self._clock()
        if now >= self._ends:
            self._day = datetime.fromtimestamp(now, self._zone).date()
            local_midnight = (now + self._offset) // 86_400 * 86_400
            self._ends = local_midnight + 86_400 - self._offset
        return self._day


def now_in_vietnam() -> datetime:
    """The systems' clock when none is passed in: they stamp times in Vietnam time."""
    return datetime.now(VIETNAM_TIME)


def format_ddmmyyyy(d: date) -> str:
    """Write `d` as `dd/MM/yyyy`, zero-padding the year (`strftime('%Y')` does not on glibc)."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def latest_allowed(now: datetime, skew_seconds: float) -> datetime:
    """The latest moment a record may say it happened at, in Vietnam time: `now` plus the
    `skew_seconds` two systems' clocks may differ by. Nothing is dated ahead of it: a document,
    a status message, a dossier's progress (the `future_dated` rule)."""
    return (now + timedelta(seconds=skew_seconds)).astimezone(VIETNAM_TIME)


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
