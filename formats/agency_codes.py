"""Level-1 agency codes closed by the 2025 merger (QĐ 09/2025/QĐ-TTg, amending QĐ 20/2020).

When provinces merge, the new province keeps the level-1 code (mã cấp 1) of the merged province
whose name it takes; the others' codes are closed (vneconomy.vn on QĐ 09/2025; FIDELITY-2026.md
§1). A document dated on or after 1 July 2025 that names an organ under a closed code is
refused with the successor's code; older documents keep theirs.

Of the letter codes below only H30 (Hậu Giang) and H20 (Đồng Tháp) are sourced; H21 (Gia Lai)
is seen in Gia Lai's own iGate. The others follow the alphabetical order of the 63 old
provinces (INFERENCE) and are marked `assigned`.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from formats.errors import TranslationError

CLOSED_FROM = date(2025, 7, 1)
"""NQ 202/2025/QH15 takes effect: the merged provinces' own codes stop naming anyone."""


@dataclass(frozen=True)
class Closure:
    code: str
    province: str
    successor: str
    successor_province: str
    assigned: bool
    """True when either letter code is the bus's assignment, not a sourced one."""


CLOSED: Mapping[str, Closure] = MappingProxyType(
    {
        c.code: c
        for c in (
            Closure("H33", "Tỉnh Kiên Giang", "H01", "Tỉnh An Giang", assigned=True),
            Closure("H58", "Tỉnh Tiền Giang", "H20", "Tỉnh Đồng Tháp", assigned=True),
            Closure("H11", "Tỉnh Bình Thuận", "H36", "Tỉnh Lâm Đồng", assigned=True),
            Closure("H30", "Tỉnh Hậu Giang", "H14", "Thành phố Cần Thơ", assigned=True),
            Closure("H08", "Tỉnh Bình Định", "H21", "Tỉnh Gia Lai", assigned=True),
        )
    }
)


DISTRICT_UNITS: frozenset[str] = frozenset({"000.00.05"})
"""Unit numbers (the first three parts of an organ id) of district-level bodies: assigned, as
the bus's unit numbers are (the seeded UBND of the provincial city). The 2025 reform abolished
the districts and gave their work to the communes, which the sources do not say body by body
(FIDELITY-2026.md §1): no body of today succeeds one."""


def successor_of(organ_id: str, on: date) -> str | None:
    """The organ id of the body of today that succeeds `organ_id` if its code is closed on `on`:
    the same unit under the code that succeeds it; None for an open code or a district body."""
    closure = closure_of(organ_id, on)
    unit = organ_id.rpartition(".")[0]
    if closure is None or unit in DISTRICT_UNITS:
        return None
    return f"{unit}.{closure.successor}"


class AgencyCodeClosed(TranslationError):
    code = "AGENCY_CODE_CLOSED"
    status = 422
    title = "The organ id's level-1 code was closed by the 2025 merger"


def closure_of(organ_id: str, on: date) -> Closure | None:
    """The closure that makes `organ_id` unusable on `on`, if any."""
    if on < CLOSED_FROM:
        return None
    return CLOSED.get(organ_id.rpartition(".")[2])


def refuse_closed(
    organ_ids: Iterable[str], on: date, *, known: Container[str] | None = None
) -> None:
    """AgencyCodeClosed naming the first organ id under a closed code, and its successor
    (`successor_of`; a district body has none) where `known` (organ ids of today's bodies;
    None: any) holds it."""
    for organ_id in organ_ids:
        closure = closure_of(organ_id, on)
        if closure is None:
            continue
        successor = successor_of(organ_id, on)
        named = (
            {"successor_organ_id": successor}
            if successor is not None and (known is None or successor in known)
            else {}
        )
        raise AgencyCodeClosed(
            f"Since {CLOSED_FROM.isoformat()} {closure.province}'s code {closure.code} is closed "
            f"(QĐ 09/2025/QĐ-TTg): {closure.successor_province} succeeds it as "
            f"{closure.successor}. Documents dated before then keep their codes.",
            organ_id=organ_id,
            successor_code=closure.successor,
            **named,
            successor_province=closure.successor_province,
            assigned=closure.assigned,
        )
