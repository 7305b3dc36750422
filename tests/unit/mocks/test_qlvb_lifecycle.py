"""The edXML status table of a delivery: every (status, code, reporter role) triple."""

from __future__ import annotations

import itertools

import pytest

from formats.edxml import STATUS_CODES
from mocks.qlvb.lifecycle import (
    DeliveryState,
    IllegalStatusTransition,
    Role,
    allowed_codes,
    apply_status,
)

# Written out again from the brief (DOMAIN.md §8.3's INFERENCE, narrowed), not imported, so
# that a change to the module's table must be made twice to pass.
RECIPIENT: dict[str | None, set[str]] = {
    None: {"01"},
    "01": {"02", "03"},
    "03": {"04", "05"},
    "04": {"05"},
    "05": {"06"},
    "13": {"15", "16"},
}
SENDER: dict[str | None, set[str]] = {s: {"13"} for s in (None, "01", "03", "04", "05")}
EXPECTED: dict[Role, dict[str | None, set[str]]] = {"recipient": RECIPIENT, "sender": SENDER}
STATES: list[str | None] = [None, *STATUS_CODES]
ROLES: list[Role] = ["recipient", "sender"]


def before_recall(status: str | None) -> str | None:
    """A delivery in 13 always remembers what it interrupted; use 04 for the table."""
    return "04" if status == "13" else None


@pytest.mark.parametrize(
    ("status", "code", "role"),
    list(itertools.product(STATES, STATUS_CODES, ROLES)),
    ids=lambda value: str(value),
)
def test_every_status_code_and_role_is_allowed_exactly_as_the_table_says(
    status: str | None, code: str, role: Role
) -> None:
    state = DeliveryState(status, before_recall(status))
    allowed = code in EXPECTED[role].get(status, set())

    if allowed:
        after = apply_status(state, code, role)
        assert after.status == {"13": "13", "16": "04"}.get(code, code)
    else:
        with pytest.raises(IllegalStatusTransition) as caught:
            apply_status(state, code, role)
        assert caught.value.current == status
        assert caught.value.code == code
        assert caught.value.allowed == tuple(sorted(EXPECTED[role].get(status, set())))


@pytest.mark.parametrize(("status", "role"), list(itertools.product(STATES, ROLES)))
def test_allowed_codes_are_listed_in_code_order(status: str | None, role: Role) -> None:
    assert allowed_codes(status, role) == tuple(sorted(EXPECTED[role].get(status, set())))


@pytest.mark.parametrize("interrupted", ["01", "03", "04", "05"])
def test_recall_remembers_the_status_and_a_refused_recall_resumes_it(interrupted: str) -> None:
    requested = apply_status(DeliveryState(interrupted), "13", "sender")
    refused = apply_status(requested, "16", "recipient")

    assert requested == DeliveryState("13", before_recall=interrupted)
    assert refused == DeliveryState(interrupted)


def test_an_accepted_recall_is_final() -> None:
    accepted = apply_status(DeliveryState("13", before_recall="05"), "15", "recipient")

    assert accepted == DeliveryState("15")
    assert allowed_codes("15", "recipient") == ()
    assert allowed_codes("15", "sender") == ()


@pytest.mark.parametrize("final", ["02", "06", "15"])
def test_final_statuses_accept_nothing_from_anyone(final: str) -> None:
    assert allowed_codes(final, "recipient") == allowed_codes(final, "sender") == ()


def test_the_illegal_transition_message_names_the_status_and_what_may_follow() -> None:
    with pytest.raises(
        IllegalStatusTransition, match=r"01 \(ARRIVED\).*recipient may report 02, 03"
    ):
        apply_status(DeliveryState("01"), "06", "recipient")


def test_an_unknown_code_is_not_a_transition_at_all() -> None:
    with pytest.raises(ValueError, match="unknown edXML status code"):
        apply_status(DeliveryState("01"), "07", "recipient")
