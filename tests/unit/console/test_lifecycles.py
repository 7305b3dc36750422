"""The console's state diagrams draw the lifecycles the mock systems enforce, and lay them out
readably (the bus never imports the mocks: these tests hold the copies equal)."""

from __future__ import annotations

import pytest

from lgsp.console.lifecycles import (
    BOX_H,
    BOX_W,
    DELIVERY,
    DOSSIER,
    UNCONFIRMED,
    Lifecycle,
    draw,
)
from mocks.dvc.lifecycle import TRANSITIONS
from mocks.qlvb.lifecycle import allowed_codes


def test_the_dossier_diagram_has_every_transition_of_the_portal() -> None:
    drawn = {(s.source, s.label, s.target) for s in DOSSIER.steps}
    enforced = {(str(a.value), str(act), str(b.value)) for (a, act), b in TRANSITIONS.items()}

    assert drawn == enforced


def test_the_delivery_diagram_has_every_status_step_of_the_document_system() -> None:
    drawn = {(s.source, s.target, s.by_sender) for s in DELIVERY.steps}
    states = [None, "01", "02", "03", "04", "05", "06", "13", "15", "16"]
    enforced = {
        (UNCONFIRMED if state is None else state, code, role == "sender")
        for state in states
        for role in ("sender", "recipient")
        for code in allowed_codes(state, role)
    }

    assert drawn == enforced


@pytest.mark.parametrize("lifecycle", [DOSSIER, DELIVERY], ids=["dossier", "delivery"])
def test_no_two_boxes_overlap_and_all_fit(lifecycle: Lifecycle) -> None:
    states = lifecycle.states
    for i, a in enumerate(states):
        assert BOX_W / 2 <= a.x <= lifecycle.width - BOX_W / 2, a
        assert BOX_H / 2 <= a.y <= lifecycle.height - BOX_H / 2, a
        for b in states[i + 1 :]:
            assert abs(a.x - b.x) >= BOX_W or abs(a.y - b.y) >= BOX_H, (a, b)


def test_a_drawing_marks_the_path_taken_and_the_steps_allowed_now() -> None:
    diagram = draw(DOSSIER, current="4", path=["1", "2", "4"], allowed={"complete", "stop"})

    current = [box.key for box in diagram.boxes if box.current]
    visited = {box.key for box in diagram.boxes if box.visited}
    taken = {arrow.label for arrow in diagram.arrows if arrow.taken}
    allowed = {arrow.label for arrow in diagram.arrows if arrow.allowed}

    assert current == ["4"]
    assert visited == {"1", "2", "4"}
    assert taken == {"receive", "start_processing"}
    assert allowed == {"complete", "stop"}


def test_an_arrow_starts_and_ends_on_its_boxes_borders() -> None:
    diagram = draw(DOSSIER, current="1", path=["1"])
    receive = next(arrow for arrow in diagram.arrows if arrow.label == "receive")

    assert (receive.x1, receive.x2) == (90 + BOX_W / 2, 350 - BOX_W / 2)
    assert receive.y1 == receive.y2 == 60
