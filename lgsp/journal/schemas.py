"""The journal's admin API: which exchanges to list or count, and what comes back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from lgsp.masking import mask_request_id
from lgsp.path_patterns import PathPattern, UpperCase

MAX_LIST = 500
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _in_utc(value: datetime) -> datetime:
    """The instant as stored (UTC); an instant that has no UTC form is refused, not a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant is out of range once in UTC") from None


class JournalFilter(BaseModel):
    """Every field left out matches anything; the list endpoint takes them as query parameters."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    service: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    method: Annotated[Method | None, UpperCase] = None
    path: PathPattern | None = None
    """Relative to the instance's base (`/dancu/v1/citizens/*`): a glob, or a regular
    expression when it starts with `^` (searched with `re.search`), as fault rules take it."""
    status: int | None = Field(default=None, ge=100, le=599)
    request_id: (
        Annotated[
            str,
            Field(pattern=r"^[A-Za-z0-9._:*-]{1,128}$"),
            AfterValidator(mask_request_id),
        ]
        | None
    ) = None
    """As the bus keeps it: a citizen's number in it masked (either form finds the exchange)."""
    since: Annotated[AwareDatetime, AfterValidator(_in_utc)] | None = None
    """Only exchanges that started at or after this instant (with its offset: `…Z`, `…+07:00`)."""


class VerifyRequest(JournalFilter):
    """How many exchanges like this were received, against an expectation (WireMock's verify)."""

    body: Any = None
    """A JSON value the request body must contain: objects match when every given key
    matches (recursively), anything else when equal. With masking on, both sides are masked
    the same way before they are compared, so a CCCD or a name in `body` still matches."""
    count: int | None = Field(default=None, ge=0, le=1_000_000)
    """Exactly this many; or give `at_least` and/or `at_most`; none of them means at least 1."""
    at_least: int | None = Field(default=None, ge=0, le=1_000_000)
    at_most: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _one_expectation(self) -> Self:
        if self.count is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give either count, or at_least and/or at_most")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("at_least must not be greater than at_most")
        return self

    @property
    def bounds(self) -> tuple[int, int | None]:
        """(lowest, highest or None) number of matching exchanges that verifies."""
        if self.count is not None:
            return self.count, self.count
        if self.at_least is None and self.at_most is None:
            return 1, None
        return self.at_least or 0, self.at_most

    def describe(self) -> str:
        low, high = self.bounds
        if low == high:
            return f"exactly {low}"
        if high is None:
            return f"at least {low}"
        return f"at most {high}" if low == 0 else f"between {low} and {high}"


MAX_WAIT_SECONDS = 60.0
"""The longest one wait request holds its connection: long enough for any store-and-forward
round of the bus, short enough for proxies' idle timeouts (nginx's default is 60 s)."""


class WaitRequest(VerifyRequest):
    """A verify that waits: answered as soon as the expectation holds, else 408 at the end."""

    timeout_seconds: float = Field(default=10.0, gt=0, le=MAX_WAIT_SECONDS)


class Body(BaseModel):
    content_type: str | None
    body: str
    """As stored: UTF-8 text, masked unless the instance runs with `LGSP_JOURNAL_UNMASKED`."""
    truncated: bool
    """Not the whole body: it was longer than `LGSP_JOURNAL_MAX_BODY_BYTES` (the rest is not
    kept), or the call was refused before its body was read."""


class JournalEntryOut(BaseModel):
    id: int
    request_id: str
    occurred_at: datetime
    client_id: str | None
    service: str | None
    method: str
    path: str
    query: str
    status: int
    latency_us: int
    request: Body
    response: Body


class JournalPage(BaseModel):
    instance: str
    masked: bool
    """Whether bodies were masked when stored (the instance's setting)."""
    entries: list[JournalEntryOut]
    """Newest first."""


class VerifyResult(BaseModel):
    verified: Literal[True]
    count: int
    expected: str
