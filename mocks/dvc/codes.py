"""Dossier numbers (`MaHoSo`): `{agencyId}-{yyMMdd}-{NNNN}`, issued per agency and day.

The shape is a FACT: Thanh Hóa's `GenerateMaHoSo.cs` builds
`$"{group.MaDinhDanh}-{yyMMdd}-{counter.PadLeft(4,'0')}"`, e.g. `000.00.01.H56-250315-0001`
(DOMAIN.md §4.5). The counter restarts each day; past 9999 it simply grows to five digits, which
the validation regex of DOMAIN.md §8.2 allows (`\\d{4,5}`). The agency id is the receiving
agency's strict QĐ 20/2020 organ id (DOMAIN.md §6.2, §8.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

# ASCII digits only: `\d` also matches other scripts' digits, which `int()` would then read.
ORGAN_ID = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
_DOSSIER_CODE = re.compile(r"([0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2})-([0-9]{6})-([0-9]{4,5})")
MAX_SEQUENCE = 99_999


class InvalidDossierCode(ValueError):
    """A `MaHoSo` that this mock could not have issued; the message says what is wrong."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code!r} is not a dossier code ({reason})")
        self.code = code
        self.reason = reason


class DossierSequenceExhausted(ValueError):
    """An agency has issued all 99,999 numbers of a day: five digits is all §8.2 allows."""


@dataclass(frozen=True)
class DossierCode:
    """A parsed `MaHoSo`; `str()` gives the canonical text back."""

    agency_id: str
    day: date
    sequence: int

    def __post_init__(self) -> None:
        if not ORGAN_ID.fullmatch(self.agency_id):
            raise ValueError(
                f"agency id {self.agency_id!r} is not a strict organ id like 000.00.01.H56"
            )
        if not 2000 <= self.day.year <= 2099:
            raise ValueError(f"yyMMdd covers 2000-2099 only, got {self.day.isoformat()}")
        if not 1 <= self.sequence <= MAX_SEQUENCE:
            raise ValueError(f"sequence must be 1..{MAX_SEQUENCE}, got {self.sequence}")

    def __str__(self) -> str:
        return f"{self.agency_id}-{self.day:%y%m%d}-{self.sequence:04d}"


def parse_dossier_code(code: str) -> DossierCode:
    """Read a `MaHoSo`, rejecting anything `str(DossierCode(...))` would not write."""
    match = _DOSSIER_CODE.fullmatch(code)
    if match is None:
        raise InvalidDossierCode(
            code, "expected {organ id}-{yyMMdd}-{4 or 5 digits}, e.g. 000.00.01.H56-250315-0001"
        )
    agency_id, yymmdd, tail = match.groups()
    try:
        day = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise InvalidDossierCode(code, f"{yymmdd} is not a calendar date as yyMMdd") from None
    if int(tail) == 0:
        raise InvalidDossierCode(code, "sequences start at 0001")
    if len(tail) == 5 and tail.startswith("0"):
        # Only a counter past 9999 takes a fifth digit, so 01234 would be written 1234.
        raise InvalidDossierCode(code, "a five-digit sequence cannot start with 0")
    return DossierCode(agency_id=agency_id, day=day, sequence=int(tail))


def next_dossier_code(agency_id: str, day: date, last_sequence: int | None) -> DossierCode:
    """The code after `last_sequence` (None: none issued yet) for `agency_id` on `day`.

    `day` is the local (Vietnam time) date of submission; see `deadlines.to_vietnam_time`.
    """
    last = last_sequence or 0
    if last < 0:
        raise ValueError(f"last sequence cannot be negative, got {last}")
    if last >= MAX_SEQUENCE:
        raise DossierSequenceExhausted(
            f"{agency_id} has issued all {MAX_SEQUENCE} dossier numbers of {day.isoformat()}"
        )
    return DossierCode(agency_id=agency_id, day=day, sequence=last + 1)


class DossierCodeAllocator(Protocol):
    """Issues the next `MaHoSo` of an agency's day; the app backs it with its database."""

    def allocate(self, agency_id: str, day: date) -> DossierCode: ...


class InMemoryDossierCodeAllocator:
    """A `DossierCodeAllocator` for tests and seeding: counters live as long as the object."""

    def __init__(self, issued: Mapping[tuple[str, date], int] | None = None) -> None:
        """`issued`: the last sequence of each (agency, day) so far (a database's counters)."""
        self._last: dict[tuple[str, date], int] = dict(issued or {})

    def allocate(self, agency_id: str, day: date) -> DossierCode:
        code = next_dossier_code(agency_id, day, self._last.get((agency_id, day)))
        self._last[agency_id, day] = code.sequence
        return code

    @property
    def issued(self) -> dict[tuple[str, date], int]:
        """The last sequence of each (agency, day): what a database's counters must say."""
        return dict(self._last)
