"""Dossier numbers `{agencyId}-{yyMMdd}-{NNNN}`: issue, parse, and refuse what we never issue."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mocks.dvc.codes import (
    MAX_SEQUENCE,
    DossierCode,
    DossierCodeAllocator,
    DossierSequenceExhausted,
    InMemoryDossierCodeAllocator,
    InvalidDossierCode,
    next_dossier_code,
    parse_dossier_code,
)

AGENCY = "000.00.01.H56"
DAY = date(2025, 3, 15)
# DOMAIN.md §8.2, the regex other systems will validate our codes with.
MA_HO_SO = re.compile(r"^(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})-(\d{6})-(\d{4,5})$")


def test_the_domain_example_parses_into_its_parts() -> None:
    code = parse_dossier_code("000.00.01.H56-250315-0001")  # DOMAIN.md §4.5

    assert code == DossierCode(agency_id=AGENCY, day=DAY, sequence=1)
    assert str(code) == "000.00.01.H56-250315-0001"


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (None, "000.00.01.H56-250315-0001"),
        (0, "000.00.01.H56-250315-0001"),
        (41, "000.00.01.H56-250315-0042"),
        (9998, "000.00.01.H56-250315-9999"),
        (9999, "000.00.01.H56-250315-10000"),
        (99998, "000.00.01.H56-250315-99999"),
    ],
)
def test_next_code_follows_the_last_sequence_and_grows_to_five_digits(
    last: int | None, expected: str
) -> None:
    code = next_dossier_code(AGENCY, DAY, last)

    assert str(code) == expected
    assert MA_HO_SO.fullmatch(expected)


def test_a_day_with_all_99999_numbers_issued_refuses_another() -> None:
    with pytest.raises(DossierSequenceExhausted, match="99999"):
        next_dossier_code(AGENCY, DAY, MAX_SEQUENCE)


def test_a_negative_last_sequence_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        next_dossier_code(AGENCY, DAY, -1)


@pytest.mark.parametrize("agency", ["00.00.01.H56", "000.00.01.h56", "000.000.01.H56", ""])
def test_codes_need_a_strict_organ_id(agency: str) -> None:
    with pytest.raises(ValueError, match="strict organ id"):
        next_dossier_code(agency, DAY, None)


def test_the_allocator_counts_per_agency_and_restarts_each_day() -> None:
    allocator: DossierCodeAllocator = InMemoryDossierCodeAllocator()
    other = "000.00.02.H56"

    issued = [
        allocator.allocate(AGENCY, DAY),
        allocator.allocate(AGENCY, DAY),
        allocator.allocate(other, DAY),
        allocator.allocate(AGENCY, date(2025, 3, 16)),
        allocator.allocate(AGENCY, DAY),
    ]

    assert [str(code) for code in issued] == [
        "000.00.01.H56-250315-0001",
        "000.00.01.H56-250315-0002",
        "000.00.02.H56-250315-0001",
        "000.00.01.H56-250316-0001",
        "000.00.01.H56-250315-0003",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "expected", id="empty"),
        pytest.param("000.00.01.H56-250315-001", "expected", id="three-digit-sequence"),
        pytest.param("000.00.01.H56-250315-123456", "expected", id="six-digit-sequence"),
        pytest.param("000.00.01.H56-2503150-0001", "expected", id="seven-digit-date"),
        pytest.param("000.00.01.h56-250315-0001", "expected", id="lower-case-letter"),
        pytest.param("00.00.01.H56-250315-0001", "expected", id="lenient-organ-id"),
        pytest.param("000.00.01.H56_250315_0001", "expected", id="underscores"),
        pytest.param(" 000.00.01.H56-250315-0001", "expected", id="leading-space"),
        pytest.param("000.00.01.H56-250315-0001\n", "expected", id="trailing-newline"),
        pytest.param("000.00.01.H56-250315-０００１", "expected", id="full-width-digits"),
        pytest.param("000.00.01.H56-250315-٠٠٠١", "expected", id="arabic-indic-digits"),
        pytest.param("000.00.01.H56-251315-0001", "calendar date", id="month-13"),
        pytest.param("000.00.01.H56-250230-0001", "calendar date", id="30-february"),
        pytest.param("000.00.01.H56-250315-0000", "start at 0001", id="zero-sequence"),
        pytest.param("000.00.01.H56-250315-00000", "start at 0001", id="zero-five-digits"),
        pytest.param("000.00.01.H56-250315-01234", "cannot start with 0", id="padded-five"),
    ],
)
def test_malformed_codes_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidDossierCode, match=reason) as caught:
        parse_dossier_code(text)
    assert caught.value.code == text


codes = st.builds(
    DossierCode,
    agency_id=st.from_regex(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}", fullmatch=True),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    sequence=st.integers(min_value=1, max_value=MAX_SEQUENCE),
)


@given(codes)
def test_codes_round_trip_through_text(code: DossierCode) -> None:
    text = str(code)

    assert MA_HO_SO.fullmatch(text)
    assert parse_dossier_code(text) == code


@given(st.from_regex(MA_HO_SO))
def test_any_text_the_domain_regex_accepts_is_parsed_or_refused_cleanly(text: str) -> None:
    try:
        code = parse_dossier_code(text)
    except InvalidDossierCode:
        return
    assert str(code) == text
