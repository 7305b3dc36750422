from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgsp.audit.recorder import _journal_path, _relative_path
from lgsp.journal.capture import stored_path
from lgsp.masking import MAX_AUDIT_TEXT, audit_text

CCCD = "091048993438"
_BASES = [
    "",
    "/lgsp/kiengiang",
    "/x12345",
    f"/lgsp/{CCCD}",
    "/a%3091048993438",
    "/x&#48;91048993438/y",
]
_PATH_TEXT = st.text(alphabet=st.sampled_from(list("/0123456789%3&#;xX8éa٣\x00\t\ud800")))
_PATHS = (
    _PATH_TEXT
    | _PATH_TEXT.map(lambda text: "/" + text)  # a relative path proper, as a base's apps see
    | st.sampled_from(
        [
            f"/dancu/v1/citizens/{CCCD}",
            f"/c/%30{CCCD[1:]}",
            f"/c/&#48;{CCCD[1:]}",
            f"/c/{CCCD}\x00",
            "/c/" + "9" * 3000,
            "6789012",  # after `/x12345`: a run of 12 digits across the base's end
        ]
    )
)


@given(base=st.sampled_from(_BASES), below=_PATHS, masked=st.booleans())
def test_the_journal_path_is_the_relative_path_stored(base: str, below: str, masked: bool) -> None:
    """Cut from the audit record's path (masked once), the journal's path is what masking the
    path below the base gives: whatever the base, the digits, their spellings, control
    characters and lengths (issue 21)."""
    path = base + below
    scope = {"path": path, "root_path": base}

    journal = _journal_path(scope, audit_text(path), masked=masked)

    assert journal == stored_path(_relative_path(scope), masked=masked)


@pytest.mark.parametrize("length", [MAX_AUDIT_TEXT - 40, MAX_AUDIT_TEXT + 1])
def test_a_path_the_audit_record_cuts_is_masked_whole_for_the_journal(length: int) -> None:
    base = "/lgsp/kiengiang"
    path = f"{base}/dancu/{CCCD}/" + "x" * (length - len(base) - 21)
    scope = {"path": path, "root_path": base}

    journal = _journal_path(scope, audit_text(path), masked=True)

    assert journal == f"/dancu/091*******38/{'x' * (length - len(base) - 21)}"
