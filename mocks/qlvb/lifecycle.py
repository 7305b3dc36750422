"""Which edXML status a delivery may take next, and who may report it: a pure table.

The codes are a FACT (DOMAIN.md §3.6, two independent codebases agree). Which code may follow
which is published nowhere we found: the table below is INFERENCE, DOMAIN.md §8.3's reading
("01→02, 01→03→04→05→06, 03→05, any state before 06 →13, then 13→15 or 13→16") narrowed as
the project brief fixes it. Each delivery (one document, one recipient) has its own status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from formats.edxml import STATUS_CODES

Role = Literal["sender", "recipient"]

ARRIVED, REJECTED, ACCEPTED, ASSIGNED, PROCESSING, DONE = "01", "02", "03", "04", "05", "06"
RECALL_REQUESTED, RECALL_ACCEPTED, RECALL_REFUSED = "13", "15", "16"

# The recipient's side. `None` is a delivery whose arrival nobody has confirmed yet: the
# recipient's system reports 01 when it has taken the message (FACT: 01 is "Đã đến").
# INFERENCE: 02 (refused / sent by mistake) only straight after arrival; 04 (assigned) may be
# skipped; 02, 06 and 15 are final.
_RECIPIENT: Mapping[str | None, frozenset[str]] = MappingProxyType(
    {
        None: frozenset({ARRIVED}),
        ARRIVED: frozenset({REJECTED, ACCEPTED}),
        ACCEPTED: frozenset({ASSIGNED, PROCESSING}),
        ASSIGNED: frozenset({PROCESSING}),
        PROCESSING: frozenset({DONE}),
        RECALL_REQUESTED: frozenset({RECALL_ACCEPTED, RECALL_REFUSED}),
    }
)

# The sender's side: only a recall request (13, "Yêu cầu lấy lại"), in "any state before 06"
# (DOMAIN.md §8.3, INFERENCE), the unconfirmed delivery (None) included: the axis carries a
# status message whatever the recipient has reported, and recalling a document sent by mistake
# before the recipient confirmed it is the commonest recall there is. A refused delivery (02)
# is left out: the recipient gave it back already.
_SENDER: Mapping[str | None, frozenset[str]] = MappingProxyType(
    {
        status: frozenset({RECALL_REQUESTED})
        for status in (None, ARRIVED, ACCEPTED, ASSIGNED, PROCESSING)
    }
)

_TABLES: Mapping[Role, Mapping[str | None, frozenset[str]]] = MappingProxyType(
    {"sender": _SENDER, "recipient": _RECIPIENT}
)


@dataclass(frozen=True)
class DeliveryState:
    """A delivery's current code (None before 01) and, during a recall, the code it had."""

    status: str | None = None
    before_recall: str | None = None


class IllegalStatusTransition(Exception):
    """`code` may not follow `current` when reported by `role`; `allowed` says what may."""

    def __init__(self, current: str | None, code: str, role: Role, allowed: tuple[str, ...]):
        shown = "none yet" if current is None else f"{current} ({STATUS_CODES[current]})"
        hint = f"the {role} may report {', '.join(allowed)}" if allowed else "nothing may follow"
        super().__init__(f"status {code} cannot follow status {shown}: {hint}")
        self.current = current
        self.code = code
        self.role = role
        self.allowed = allowed


def allowed_codes(current: str | None, role: Role) -> tuple[str, ...]:
    """The codes `role` may report on a delivery in `current`, in code order."""
    return tuple(sorted(_TABLES[role].get(current, frozenset())))


def apply_status(state: DeliveryState, code: str, role: Role) -> DeliveryState:
    """The delivery's state after `role` reports `code`, or IllegalStatusTransition.

    A recall request remembers the status it interrupts; a refused recall (16) puts that
    status back, so the recipient carries on where it was (INFERENCE: §8.3 is silent on what
    follows 16; resuming is the only reading under which 16 means anything).
    """
    if code not in STATUS_CODES:
        raise ValueError(f"unknown edXML status code {code!r}")
    allowed = allowed_codes(state.status, role)
    if code not in allowed:
        raise IllegalStatusTransition(state.status, code, role, allowed)
    if code == RECALL_REQUESTED:
        return DeliveryState(status=code, before_recall=state.status)
    if code == RECALL_REFUSED:
        return DeliveryState(status=state.before_recall)
    return DeliveryState(status=code)
