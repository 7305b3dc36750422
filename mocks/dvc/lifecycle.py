"""The dossier lifecycle as an explicit state machine over the DVCQG status codes.

The states are `TrangThaiHoSo` 1–10, a FACT read in code that talks to the national portal
(DOMAIN.md §4.1). Which state may follow which is not published anywhere we found: the table
below is DOMAIN.md §8.4's INFERENCE, kept exactly, and the action names are the mock's own.
Every transition appends a progress entry (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3) whose
`TrangThai` is the new code; `TransitionRecord` is what the app stores for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType


class DossierStatus(IntEnum):
    """`TrangThaiHoSo`; the values are the codes DVCQG expects (DOMAIN.md §4.1)."""

    NEW = 1  # Mới đăng ký
    RECEIVED = 2  # Được tiếp nhận
    REFUSED = 3  # Không được tiếp nhận
    PROCESSING = 4  # Đang xử lý
    SUPPLEMENT_REQUESTED = 5  # Yêu cầu bổ sung giấy tờ
    FINANCIAL_OBLIGATION = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7  # Công dân yêu cầu rút hồ sơ
    STOPPED = 8  # Dừng xử lý
    COMPLETED = 9  # Đã xử lý xong
    RESULT_RETURNED = 10  # Đã trả kết quả

    @property
    def vietnamese_name(self) -> str:
        """The name DVCQG gives the code, for `NoiDungXuLy` and screens."""
        return _VIETNAMESE_NAMES[self]

    @property
    def is_terminal(self) -> bool:
        return not _ALLOWED[self]


_VIETNAMESE_NAMES = MappingProxyType(
    {
        DossierStatus.NEW: "Mới đăng ký",
        DossierStatus.RECEIVED: "Được tiếp nhận",
        DossierStatus.REFUSED: "Không được tiếp nhận",
        DossierStatus.PROCESSING: "Đang xử lý",
        DossierStatus.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
        DossierStatus.FINANCIAL_OBLIGATION: "Yêu cầu thực hiện nghĩa vụ tài chính",
        DossierStatus.WITHDRAWN: "Công dân yêu cầu rút hồ sơ",
        DossierStatus.STOPPED: "Dừng xử lý",
        DossierStatus.COMPLETED: "Đã xử lý xong",
        DossierStatus.RESULT_RETURNED: "Đã trả kết quả",
    }
)


class Action(StrEnum):
    """What an officer or the citizen does to a dossier; the order is the one `allowed_actions`
    reports them in."""

    RECEIVE = "receive"
    REFUSE = "refuse"
    START_PROCESSING = "start_processing"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT_RECEIVED = "supplement_received"
    REQUEST_PAYMENT = "request_payment"
    PAYMENT_RECEIVED = "payment_received"
    COMPLETE = "complete"
    RETURN_RESULT = "return_result"
    STOP = "stop"
    WITHDRAW = "withdraw"


_S, _A = DossierStatus, Action

# DOMAIN.md §8.4 (INFERENCE, "consistent with the codes"), one row per arrow of its table. Also
# INFERENCE there: a supplement received or a fee paid sends the dossier back to 4 (and may move
# `NgayHenTra`, see deadlines.resume_due_date), and the citizen may withdraw only up to 4, not
# while a supplement or payment is awaited. 3, 7, 8 and 10 are terminal.
TRANSITIONS: MappingProxyType[tuple[DossierStatus, Action], DossierStatus] = MappingProxyType(
    {
        (_S.NEW, _A.RECEIVE): _S.RECEIVED,
        (_S.NEW, _A.REFUSE): _S.REFUSED,
        (_S.NEW, _A.WITHDRAW): _S.WITHDRAWN,
        (_S.RECEIVED, _A.START_PROCESSING): _S.PROCESSING,
        (_S.RECEIVED, _A.WITHDRAW): _S.WITHDRAWN,
        (_S.PROCESSING, _A.REQUEST_SUPPLEMENT): _S.SUPPLEMENT_REQUESTED,
        (_S.PROCESSING, _A.REQUEST_PAYMENT): _S.FINANCIAL_OBLIGATION,
        (_S.PROCESSING, _A.COMPLETE): _S.COMPLETED,
        (_S.PROCESSING, _A.STOP): _S.STOPPED,
        (_S.PROCESSING, _A.WITHDRAW): _S.WITHDRAWN,
        (_S.SUPPLEMENT_REQUESTED, _A.SUPPLEMENT_RECEIVED): _S.PROCESSING,
        (_S.SUPPLEMENT_REQUESTED, _A.STOP): _S.STOPPED,
        (_S.FINANCIAL_OBLIGATION, _A.PAYMENT_RECEIVED): _S.PROCESSING,
        (_S.FINANCIAL_OBLIGATION, _A.STOP): _S.STOPPED,
        (_S.COMPLETED, _A.RETURN_RESULT): _S.RESULT_RETURNED,
    }
)

_ALLOWED: MappingProxyType[DossierStatus, tuple[Action, ...]] = MappingProxyType(
    {
        status: tuple(action for action in Action if (status, action) in TRANSITIONS)
        for status in DossierStatus
    }
)


class UnknownAction(ValueError):
    """The name is no action at all (the app answers 422), as opposed to `IllegalTransition`."""

    def __init__(self, action: str) -> None:
        known = ", ".join(Action)
        super().__init__(f"unknown action {action!r} (known: {known})")
        self.action = action


class IllegalTransition(Exception):
    """The action exists but not in this status; the app maps it to 409 Conflict."""

    def __init__(
        self, current: DossierStatus, action: str, allowed_actions: tuple[str, ...]
    ) -> None:
        if allowed_actions:
            hint = "allowed: " + ", ".join(allowed_actions)
        else:
            hint = "the status is terminal, no action is allowed"
        super().__init__(
            f"cannot {action!r} a dossier in status {int(current)} ({current.name}); {hint}"
        )
        self.current = current
        self.action = action
        self.allowed_actions = allowed_actions


def allowed_actions(status: DossierStatus) -> list[str]:
    """The actions `status` accepts, in `Action` order; empty for a terminal status."""
    return [str(action) for action in _ALLOWED[status]]


def apply_transition(current: DossierStatus, action: str) -> DossierStatus:
    """The status after `action`, or `IllegalTransition` naming the actions that would do."""
    try:
        known = Action(action)
    except ValueError:
        raise UnknownAction(action) from None
    target = TRANSITIONS.get((current, known))
    if target is None:
        raise IllegalTransition(current, str(known), tuple(allowed_actions(current)))
    return target


@dataclass(frozen=True)
class TransitionRecord:
    """One step of a dossier's history, the source of its `tienTrinh` entry (DOMAIN.md §8.4)."""

    from_status: DossierStatus
    to_status: DossierStatus
    action: str
    actor: str
    note: str
    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("TransitionRecord.at must be timezone-aware")


def transition(
    current: DossierStatus, action: str, *, actor: str, at: datetime, note: str = ""
) -> TransitionRecord:
    """Apply `action` and describe the step, so that no status changes without a record."""
    return TransitionRecord(
        from_status=current,
        to_status=apply_transition(current, action),
        action=str(Action(action)),
        actor=actor,
        note=note,
        at=at,
    )
