"""The axis's check of a central body's status (`mocks/vdxp/deliveries.py`): the province's
table (`mocks/qlvb/lifecycle.py`), replayed from the ledger's statuses."""

from __future__ import annotations

import pytest

from mocks.qlvb.lifecycle import IllegalStatusTransition
from mocks.vdxp.deliveries import refuse_illegal_report
from mocks.vdxp.models import LedgerDocument, LedgerStatus

VPCP, A, B = "000.00.00.G22", "000.00.01.H33", "000.00.01.H58"


def _document() -> LedgerDocument:
    return LedgerDocument(document_id="d", sender=VPCP, recipients=[A, B])


def _trail(*reports: tuple[str, str]) -> list[LedgerStatus]:
    return [LedgerStatus(reporter=reporter, status_code=code) for reporter, code in reports]


def _check(statuses: list[LedgerStatus], reporter: str, code: str) -> None:
    refuse_illegal_report(
        _document(), statuses, frozenset({reporter}), code, lambda _status: frozenset()
    )


def test_a_central_sender_recalls_while_one_delivery_can_still_be_recalled() -> None:
    done = [(A, "01"), (A, "03"), (A, "05"), (A, "06")]

    _check(_trail(*done), VPCP, "13")  # B has reported nothing: it can be
    with pytest.raises(IllegalStatusTransition) as refused:
        _check(_trail(*done, (B, "01"), (B, "02")), VPCP, "13")

    assert (refused.value.current, refused.value.allowed) == ("06", ())


def test_a_status_the_rule_refuses_is_left_out_of_the_deliverys_state() -> None:
    recorded_before_the_check = _trail((A, "01"), (A, "06"))

    _check(recorded_before_the_check, A, "03")  # still at 01
    with pytest.raises(IllegalStatusTransition):
        _check(recorded_before_the_check, A, "05")
