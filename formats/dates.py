"""The `dd/MM/yyyy` dates of Vietnamese legacy systems, converted losslessly to and from `date`.

The citizen database (`NgayThangNamSinh`) and the criminal-record service write dates this way
(DOMAIN.md §2.1, §5.2); the canonical side uses ISO 8601. Parsing is strict so that a swapped
day and month, or a two-digit year, fails loudly instead of becoming another valid date.
"""

from __future__ import annotations

import re
from datetime import date

# ASCII digits only: `\d` would also accept other scripts' digits, which `int()` then reads.
_DDMMYYYY = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")


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
