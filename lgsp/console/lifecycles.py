"""The lifecycles the documents and dossiers screens draw: states, steps, and where each box
sits, as an SVG state diagram with the record's current state, the states it went through, and
the steps it may take now.

The graphs are the ones the mock systems enforce (`mocks/dvc/lifecycle.py`,
`mocks/qlvb/lifecycle.py`; the bus never imports the mocks, so a test holds the two equal):
dossier statuses are DVCQG's `TrangThaiHoSo` 1-10 (DOMAIN.md §4.1, FACT) with the steps of
DOMAIN.md §8.4 (INFERENCE); a document's delivery takes the edXML status codes (DOMAIN.md §3.6,
FACT) in the order of DOMAIN.md §8.3 (INFERENCE). The boxes' places are this module's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BOX_W, BOX_H = 150, 46


@dataclass(frozen=True)
class State:
    key: str
    label: str
    x: int
    y: int


@dataclass(frozen=True)
class Step:
    source: str
    target: str
    label: str
    by_sender: bool = False


@dataclass(frozen=True)
class Lifecycle:
    states: tuple[State, ...]
    steps: tuple[Step, ...]
    width: int
    height: int


DOSSIER = Lifecycle(
    states=(
        State("1", "1 · Mới đăng ký", 90, 60),
        State("2", "2 · Được tiếp nhận", 350, 60),
        State("4", "4 · Đang xử lý", 610, 60),
        State("9", "9 · Đã xử lý xong", 870, 60),
        State("10", "10 · Đã trả kết quả", 1130, 60),
        State("3", "3 · Không được tiếp nhận", 90, 220),
        State("7", "7 · Công dân rút hồ sơ", 350, 370),
        State("5", "5 · Yêu cầu bổ sung", 440, 220),
        State("6", "6 · Nghĩa vụ tài chính", 820, 220),
        State("8", "8 · Dừng xử lý", 760, 370),
    ),
    steps=(
        Step("1", "2", "receive"),
        Step("1", "3", "refuse"),
        Step("1", "7", "withdraw"),
        Step("2", "4", "start_processing"),
        Step("2", "7", "withdraw"),
        Step("4", "5", "request_supplement"),
        Step("4", "6", "request_payment"),
        Step("4", "9", "complete"),
        Step("4", "8", "stop"),
        Step("4", "7", "withdraw"),
        Step("5", "4", "supplement_received"),
        Step("5", "8", "stop"),
        Step("6", "4", "payment_received"),
        Step("6", "8", "stop"),
        Step("9", "10", "return_result"),
    ),
    width=1220,
    height=410,
)


def label_of(lifecycle: Lifecycle, key: str) -> str:
    """The state's name as the diagram shows it (`4 · Đang xử lý`), or the key itself."""
    return next((state.label for state in lifecycle.states if state.key == key), key)


UNCONFIRMED = "none"
"""A delivery whose arrival nobody has confirmed yet (status null in the API)."""

DELIVERY = Lifecycle(
    states=(
        State(UNCONFIRMED, "Chưa xác nhận", 90, 60),
        State("01", "01 · Đã đến", 300, 60),
        State("02", "02 · Từ chối", 300, 200),
        State("03", "03 · Tiếp nhận", 510, 60),
        State("04", "04 · Phân công", 720, 200),
        State("05", "05 · Đang xử lý", 930, 60),
        State("06", "06 · Hoàn thành", 1140, 60),
        State("13", "13 · Yêu cầu lấy lại", 620, 360),
        State("15", "15 · Đồng ý lấy lại", 380, 360),
        State("16", "16 · Từ chối lấy lại", 860, 360),
    ),
    steps=(
        Step(UNCONFIRMED, "01", "01"),
        Step("01", "02", "02"),
        Step("01", "03", "03"),
        Step("03", "04", "04"),
        Step("03", "05", "05"),
        Step("04", "05", "05"),
        Step("05", "06", "06"),
        Step("13", "15", "15"),
        Step("13", "16", "16"),
        *(
            Step(state, "13", "13", by_sender=True)
            for state in (UNCONFIRMED, "01", "03", "04", "05")
        ),
    ),
    width=1230,
    height=400,
)


@dataclass(frozen=True)
class Box:
    key: str
    label: str
    x: int
    y: int
    current: bool
    visited: bool


@dataclass(frozen=True)
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    lx: float
    ly: float
    taken: bool
    allowed: bool
    by_sender: bool


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]


def draw(
    lifecycle: Lifecycle,
    *,
    current: str,
    path: list[str],
    allowed: set[str] | None = None,
) -> Diagram:
    """Boxes and arrows; `path` is the states in the order the record took them, `allowed` the
    labels of the steps it may take from `current` (all of the graph's, when not given)."""
    where = {state.key: state for state in lifecycle.states}
    taken = set(zip(path, path[1:], strict=False))
    pairs = {(step.source, step.target) for step in lifecycle.steps}
    arrows = []
    for step in lifecycle.steps:
        a, b = where[step.source], where[step.target]
        # Two states joined both ways get two arrows side by side, not one on the other.
        shift = 7.0 if (step.target, step.source) in pairs else 0.0
        x1, y1, x2, y2 = _between(a, b, shift)
        from_current = step.source == current
        arrows.append(
            Arrow(
                x1=x1,
                y1=y1,
                x2=x2,
                y2=y2,
                label=step.label,
                # Beside the line, on the side its shift went: two opposite arrows' labels
                # do not fall on each other.
                lx=round((x1 + x2) / 2 + _normal(a, b)[0] * shift * 2, 1),
                ly=round((y1 + y2) / 2 + _normal(a, b)[1] * shift * 2 - 4, 1),
                taken=(step.source, step.target) in taken,
                allowed=from_current and (allowed is None or step.label in allowed),
                by_sender=step.by_sender,
            )
        )
    visited = set(path)
    boxes = [
        Box(s.key, s.label, s.x, s.y, current=s.key == current, visited=s.key in visited)
        for s in lifecycle.states
    ]
    return Diagram(lifecycle.width, lifecycle.height, boxes, arrows)


def _normal(a: State, b: State) -> tuple[float, float]:
    """The unit vector to the left of the way from `a` to `b`."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy) or 1.0
    return -dy / length, dx / length


def _between(a: State, b: State, shift: float) -> tuple[float, float, float, float]:
    """From `a`'s border to `b`'s, along the line between their centres (moved `shift` px to
    its left)."""
    dx, dy = b.x - a.x, b.y - a.y
    nx, ny = (value * shift for value in _normal(a, b))
    ta, tb = _exit(dx, dy), _exit(-dx, -dy)
    return (
        round(a.x + dx * ta + nx, 1),
        round(a.y + dy * ta + ny, 1),
        round(b.x - dx * tb + nx, 1),
        round(b.y - dy * tb + ny, 1),
    )


def _exit(dx: float, dy: float) -> float:
    """The fraction of (dx, dy) at which a line from a box's centre leaves the box."""
    tx = (BOX_W / 2) / abs(dx) if dx else math.inf
    ty = (BOX_H / 2) / abs(dy) if dy else math.inf
    return min(tx, ty)
