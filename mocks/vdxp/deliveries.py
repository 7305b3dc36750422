"""Which status a central body may report on a ledger document: the province's rule, replayed.

A province's document system keeps each delivery's status and refuses a code that may not
follow it (409 ILLEGAL_STATUS, `mocks/qlvb/lifecycle.py`). A central body has no such system:
the axis is its exchange, so the axis applies the same table to it, replaying the document's
ledger statuses (the central recipient's own, the sender's recalls; for a central sender's
recall, every recipient's, which all pass through the axis) into each delivery's state. Were
it not refused here, the status would be recorded and forwarded, then dead-lettered by the
sender's province. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mocks.qlvb.lifecycle import (
    RECALL_REQUESTED,
    DeliveryState,
    IllegalStatusTransition,
    Role,
    allowed_codes,
    apply_status,
)
from mocks.vdxp.models import LedgerDocument, LedgerStatus

Acting = Callable[[LedgerStatus], frozenset[str]]
"""The closed bodies a recorded status's reporter reported for (`acting_for`)."""


def refuse_illegal_report(
    document: LedgerDocument,
    statuses: Sequence[LedgerStatus],
    parties: frozenset[str],
    code: str,
    acting: Acting,
) -> None:
    """IllegalStatusTransition unless `code`, reported by `parties` (a reporter and the bodies
    it acts for), may follow the state of the delivery it applies to, as a province's document
    system decides (`mocks.qlvb.store.plan_report`): a recipient's code its own delivery's, the
    sender's recall any delivery that can still be recalled (none: the first refuses)."""
    own = next((r for r in document.recipients if r in parties), None)
    if own is not None and (code != RECALL_REQUESTED or document.sender not in parties):
        apply_status(_state(document, statuses, own, acting), code, "recipient")
        return
    states = [_state(document, statuses, r, acting) for r in document.recipients]
    if states and not any(code in allowed_codes(s.status, "sender") for s in states):
        apply_status(states[0], code, "sender")


def _state(
    document: LedgerDocument, statuses: Sequence[LedgerStatus], recipient: str, acting: Acting
) -> DeliveryState:
    """The delivery to `recipient` after the ledger's statuses about it, in order; one the
    rule refuses (recorded before the axis checked) is left out, as its province refused it."""
    state = DeliveryState()
    for status in statuses:
        parties = {status.reporter, *acting(status)}
        recall = status.status_code == RECALL_REQUESTED and document.sender in parties
        role: Role | None = "sender" if recall else "recipient" if recipient in parties else None
        if role is None:
            continue
        try:
            state = apply_status(state, status.status_code, role)
        except IllegalStatusTransition:
            continue
    return state
