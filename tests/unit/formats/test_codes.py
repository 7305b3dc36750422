"""The identifier patterns of DOMAIN.md §8.2, on real-shaped and broken values."""

from __future__ import annotations

import re

import pytest

from formats.codes import DOSSIER_CODE, ORGAN_ID, ORGAN_ID_LENIENT, PROCEDURE_CODE


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (ORGAN_ID, "000.00.07.H33", True),
        (ORGAN_ID, "00.00.07.H33", False),  # the strict form has three digits first
        (ORGAN_ID, "000.00.07.h33", False),
        (ORGAN_ID, "000.00.07.H33\n", False),
        (ORGAN_ID_LENIENT, "00.000.07.H33", True),
        (ORGAN_ID_LENIENT, "0.00.07.H33", False),
        (DOSSIER_CODE, "000.00.07.H33-250602-0001", True),
        (DOSSIER_CODE, "000.00.07.H33-250602-10001", True),
        (DOSSIER_CODE, "000.00.07.H33-2506-0001", False),
        (DOSSIER_CODE, "000.00.07.H33-250602-٠٠٠١", False),  # Arabic-Indic digits
        (PROCEDURE_CODE, "1.001193", True),
        (PROCEDURE_CODE, "1.001193.000.00.00.H33", True),
        (PROCEDURE_CODE, "4.001193", False),
        (PROCEDURE_CODE, "1.001193.000.00.00", False),
    ],
)
def test_pattern(pattern: str, value: str, matches: bool) -> None:
    assert (re.fullmatch(pattern, value) is not None) is matches
