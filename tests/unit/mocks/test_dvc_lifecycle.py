"""The dossier state machine: DVCQG codes as states, DOMAIN.md §8.4's table as transitions."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mocks.dvc.lifecycle import (
    Action,
    DossierStatus,
    IllegalTransition,
    TransitionRecord,
    UnknownAction,
    allowed_actions,
    apply_transition,
    transition,
)

S = DossierStatus
ICT = timezone(timedelta(hours=7))

# Written out again from DOMAIN.md §8.4 rather than imported, so that a change to the module's
# table must be made twice to pass.
EXPECTED: dict[tuple[DossierStatus, str], DossierStatus] = {
    (S.NEW, "receive"): S.RECEIVED,
    (S.NEW, "refuse"): S.REFUSED,
    (S.NEW, "withdraw"): S.WITHDRAWN,
    (S.RECEIVED, "start_processing"): S.PROCESSING,
    (S.RECEIVED, "withdraw"): S.WITHDRAWN,
    (S.PROCESSING, "request_supplement"): S.SUPPLEMENT_REQUESTED,
    (S.PROCESSING, "request_payment"): S.FINANCIAL_OBLIGATION,
    (S.PROCESSING, "stop"): S.STOPPED,
    (S.PROCESSING, "complete"): S.COMPLETED,
    (S.PROCESSING, "withdraw"): S.WITHDRAWN,
    (S.SUPPLEMENT_REQUESTED, "supplement_received"): S.PROCESSING,
    (S.SUPPLEMENT_REQUESTED, "stop"): S.STOPPED,
    (S.FINANCIAL_OBLIGATION, "payment_received"): S.PROCESSING,
    (S.FINANCIAL_OBLIGATION, "stop"): S.STOPPED,
    (S.COMPLETED, "return_result"): S.RESULT_RETURNED,
}
ACTIONS = [
    "receive",
    "refuse",
    "start_processing",
    "request_supplement",
    "supplement_received",
    "request_payment",
    "payment_received",
    "stop",
    "complete",
    "return_result",
    "withdraw",
]
TERMINAL = {S.REFUSED, S.WITHDRAWN, S.STOPPED, S.RESULT_RETURNED}
CLOSING_ACTIONS = {"refuse", "withdraw", "stop", "return_result"}


def test_states_are_the_ten_dvcqg_codes() -> None:
    assert [(s.name, int(s)) for s in DossierStatus] == [
        ("NEW", 1),
        ("RECEIVED", 2),
        ("REFUSED", 3),
        ("PROCESSING", 4),
        ("SUPPLEMENT_REQUESTED", 5),
        ("FINANCIAL_OBLIGATION", 6),
        ("WITHDRAWN", 7),
        ("STOPPED", 8),
        ("COMPLETED", 9),
        ("RESULT_RETURNED", 10),
    ]
    assert S.SUPPLEMENT_REQUESTED.vietnamese_name == "Yêu cầu bổ sung giấy tờ"
    assert S.RESULT_RETURNED.vietnamese_name == "Đã trả kết quả"


def test_the_action_vocabulary_is_exactly_the_documented_one() -> None:
    assert sorted(Action) == sorted(ACTIONS)


@pytest.mark.parametrize("status", list(DossierStatus))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_and_action_pair_moves_as_the_table_says_or_is_refused(
    status: DossierStatus, action: str
) -> None:
    allowed = sorted(a for (s, a) in EXPECTED if s == status)
    if (status, action) in EXPECTED:
        assert apply_transition(status, action) is EXPECTED[status, action]
    else:
        with pytest.raises(IllegalTransition) as caught:
            apply_transition(status, action)
        assert caught.value.current is status
        assert caught.value.action == action
        assert sorted(caught.value.allowed_actions) == allowed
        assert all(name in str(caught.value) for name in allowed)


@pytest.mark.parametrize("status", list(DossierStatus))
def test_allowed_actions_lists_each_legal_action_once(status: DossierStatus) -> None:
    actions = allowed_actions(status)

    assert sorted(actions) == sorted(a for (s, a) in EXPECTED if s == status)
    assert len(set(actions)) == len(actions)


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_statuses_accept_no_action(status: DossierStatus) -> None:
    assert status.is_terminal
    assert allowed_actions(status) == []
    with pytest.raises(IllegalTransition, match="terminal") as caught:
        apply_transition(status, "withdraw")
    assert caught.value.allowed_actions == ()


def test_only_refused_withdrawn_stopped_and_returned_are_terminal() -> None:
    assert {s for s in DossierStatus if s.is_terminal} == TERMINAL
    assert not S.COMPLETED.is_terminal  # the result still has to be handed over


def test_an_unknown_action_is_not_an_illegal_transition() -> None:
    with pytest.raises(UnknownAction, match="approve"):
        apply_transition(S.PROCESSING, "approve")


def test_a_terminal_status_is_reachable_from_every_status() -> None:
    # No dossier can be stuck for ever: breadth-first search backwards from the terminal states.
    reaches_end = set(TERMINAL)
    queue = deque(TERMINAL)
    while queue:
        target = queue.popleft()
        for (source, _), reached in EXPECTED.items():
            if reached is target and source not in reaches_end:
                reaches_end.add(source)
                queue.append(source)
    assert reaches_end == set(DossierStatus)


@given(st.data())
def test_walks_of_legal_actions_stay_in_the_states_and_end_only_by_closing_actions(
    data: st.DataObject,
) -> None:
    status = S.NEW
    for _ in range(40):
        actions = allowed_actions(status)
        if not actions:
            break
        action = data.draw(st.sampled_from(actions))
        reached = apply_transition(status, action)
        assert reached in DossierStatus
        assert reached.is_terminal == (action in CLOSING_ACTIONS)
        status = reached
    if status.is_terminal:
        for action in ACTIONS:
            with pytest.raises(IllegalTransition):
                apply_transition(status, action)


def test_transition_records_the_step_it_applies() -> None:
    at = datetime(2025, 3, 3, 9, 30, tzinfo=ICT)

    record = transition(S.PROCESSING, "request_supplement", actor="cb.tuphap", at=at, note="Thiếu")

    assert record == TransitionRecord(
        from_status=S.PROCESSING,
        to_status=S.SUPPLEMENT_REQUESTED,
        action="request_supplement",
        actor="cb.tuphap",
        note="Thiếu",
        at=at,
    )


def test_transition_refuses_an_illegal_step_without_a_record() -> None:
    at = datetime(2025, 3, 3, 9, 30, tzinfo=ICT)

    with pytest.raises(IllegalTransition):
        transition(S.NEW, "complete", actor="cb.tuphap", at=at)


def test_transition_record_needs_an_aware_time() -> None:
    naive = datetime(2025, 3, 3, 9, 30)  # noqa: DTZ001 - the point of the test

    with pytest.raises(ValueError, match="timezone-aware"):
        TransitionRecord(S.NEW, S.RECEIVED, "receive", "cb", "", naive)
