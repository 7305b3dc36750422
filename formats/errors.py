"""The error every codec and adapter raises for a value it cannot translate.

It lives here, below both sides, because a codec's refusal (`InvalidCccd`, `InvalidEdxml`)
reaches the bus's clients exactly as an adapter's does: the gateway renders either as an
RFC 9457 problem, and a mock reads its `rule` and `detail` to answer in its own envelope.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TranslationError(Exception):
    """A value that cannot be translated to or from a format, reported as a problem.

    Subclasses fix `code`, `status` and `title`; an instance carries the occurrence's `detail`
    and any extension members (RFC 9457 §3.2). Details name fields, never their values.
    """

    code: ClassVar[str] = "TRANSLATION_FAILED"
    status: ClassVar[int] = 502
    title: ClassVar[str] = "The owning system's answer could not be translated"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}  # such as `Preference-Applied` (RFC 7240 §3)
