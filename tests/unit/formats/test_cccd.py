"""The CCCD number: structure per Nghị định 137/2015 Art. 13, the province table of Thông tư
59/2021/TT-BCA Phụ lục I, and errors that name the rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.cccd import PROVINCE_CODES, Cccd, InvalidCccd, check_cccd, make_cccd, parse_cccd

TODAY = date(2025, 6, 1)


def test_province_codes_are_the_63_legacy_codes() -> None:
    assert len(PROVINCE_CODES) == 63
    assert all(len(code) == 3 and code.startswith("0") for code in PROVINCE_CODES)
    assert PROVINCE_CODES["091"] == "Kiên Giang"
    assert PROVINCE_CODES["079"] == "Hồ Chí Minh"
    assert "003" not in PROVINCE_CODES


def test_an_unknown_province_code_cites_the_circular_in_force() -> None:
    # FIDELITY-2026.md §4 and its change 10: TT 59/2021 Phụ lục I, not TT 07/2016.
    with pytest.raises(InvalidCccd) as raised:
        check_cccd("999087000123", today=TODAY)

    assert "Thông tư 59/2021/TT-BCA Phụ lục I" in raised.value.detail
    assert "07/2016" not in raised.value.detail


def test_documented_example_is_a_man_born_1984_in_dong_thap() -> None:
    # DOMAIN.md §5.3: "087084000999 is a person born in Đồng Tháp (087)".
    assert parse_cccd("087084000999", today=TODAY) == Cccd(
        number="087084000999",
        province_code="087",
        gender="male",
        birth_year=1984,
        serial="000999",
    )


@pytest.mark.parametrize(
    ("digit", "gender", "birth_year"),
    [
        ("0", "male", 1987),
        ("1", "female", 1987),
        ("2", "male", 2087),
        ("3", "female", 2087),
    ],
)
def test_fourth_digit_gives_century_and_gender(digit: str, gender: str, birth_year: int) -> None:
    parsed = parse_cccd(f"091{digit}87000123", today=date(2100, 1, 1))

    assert (parsed.gender, parsed.birth_year) == (gender, birth_year)


@given(
    province_code=st.sampled_from(sorted(PROVINCE_CODES)),
    gender=st.sampled_from(["male", "female"]),
    birth_year=st.integers(1900, 2299),
    serial=st.integers(0, 999_999),
    today=st.dates(min_value=date(1900, 1, 1), max_value=date(2300, 12, 31)),
)
def test_make_then_parse_round_trips_or_refuses_a_future_birth_year(
    province_code: str, gender: str, birth_year: int, serial: int, today: date
) -> None:
    number = make_cccd(
        province_code=province_code, gender=gender, birth_year=birth_year, serial=serial
    )

    assert re.fullmatch(r"[0-9]{12}", number)
    if birth_year <= today.year:
        assert parse_cccd(number, today=today) == Cccd(
            number=number,
            province_code=province_code,
            gender=gender,  # type: ignore[arg-type]
            birth_year=birth_year,
            serial=f"{serial:06d}",
        )
    else:
        with pytest.raises(InvalidCccd) as raised:
            parse_cccd(number, today=today)
        assert raised.value.rule == "birth_year"


@given(number=st.from_regex(r"\A[0-9]{12}\Z"))
def test_any_twelve_digits_parse_back_to_themselves_or_fail_on_a_named_rule(number: str) -> None:
    known_province = number[:3] in PROVINCE_CODES
    born = 1900 + 100 * (int(number[3]) // 2) + int(number[4:6])
    if known_province and born <= TODAY.year:
        parsed = parse_cccd(number, today=TODAY)
        rebuilt = make_cccd(
            province_code=parsed.province_code,
            gender=parsed.gender,
            birth_year=parsed.birth_year,
            serial=int(parsed.serial),
        )
        assert rebuilt == number
    else:
        with pytest.raises(InvalidCccd) as raised:
            parse_cccd(number, today=TODAY)
        assert raised.value.rule == ("birth_year" if known_province else "province_code")
        assert number not in raised.value.detail


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "format"),
        ("09108700012", "format"),  # 11 digits
        ("0910870001234", "format"),  # 13 digits
        ("09108700012a", "format"),
        ("091 87000123", "format"),
        (" 091087000123", "format"),
        ("091087000123\n", "format"),
        ("０９１０８７０００１２３", "format"),  # full-width digits
        ("٠٩١٠٨٧٠٠٠١٢٣", "format"),  # Arabic-Indic digits: str.isdigit() says yes
        ("999087000123", "province_code"),
        ("003087000123", "province_code"),  # 003 is a gap in the list
        ("100087000123", "province_code"),
        ("091999000123", "birth_year"),  # digit 9 + 99: 2399
        ("091226000123", "birth_year"),  # digit 2 + 26: 2026, after TODAY
    ],
)
@pytest.mark.parametrize("check", [parse_cccd, check_cccd])
def test_bad_numbers_are_refused_naming_the_failed_rule(
    value: str, rule: str, check: Callable[..., object]
) -> None:
    with pytest.raises(InvalidCccd) as raised:
        check(value, today=TODAY)

    error = raised.value
    assert error.rule == rule
    assert error.extensions == {"rule": rule}
    assert (error.code, error.status, error.title) == ("INVALID_CCCD", 422, "Invalid CCCD number")
    assert error.detail
    if len(value) >= 12:
        assert value.strip() not in error.detail


def test_details_say_the_failed_rule_in_words() -> None:
    with pytest.raises(InvalidCccd) as province:
        parse_cccd("999087000123", today=TODAY)
    with pytest.raises(InvalidCccd) as future:
        parse_cccd("091226000123", today=TODAY)
    with pytest.raises(InvalidCccd) as short:
        parse_cccd("0910870001", today=TODAY)

    assert "'999' are not a province code" in province.value.detail
    assert "birth year 2026, which is after the current year 2025" in future.value.detail
    assert "exactly 12 digits 0-9; this value has 10 characters" in short.value.detail


def test_birth_in_the_current_year_is_accepted() -> None:
    assert parse_cccd("091325000123", today=TODAY).birth_year == 2025


@pytest.mark.parametrize(
    "arguments",
    [
        {"province_code": "91", "gender": "male", "birth_year": 1990, "serial": 1},
        {"province_code": "999", "gender": "male", "birth_year": 1990, "serial": 1},
        {"province_code": "091", "gender": "other", "birth_year": 1990, "serial": 1},
        {"province_code": "091", "gender": "male", "birth_year": 1899, "serial": 1},
        {"province_code": "091", "gender": "male", "birth_year": 2400, "serial": 1},
        {"province_code": "091", "gender": "male", "birth_year": 1990, "serial": -1},
        {"province_code": "091", "gender": "male", "birth_year": 1990, "serial": 1_000_000},
    ],
)
def test_make_cccd_refuses_arguments_it_cannot_encode(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        make_cccd(**arguments)  # type: ignore[arg-type]


def test_make_cccd_writes_the_documented_layout() -> None:
    number = make_cccd(province_code="052", gender="female", birth_year=2003, serial=42)

    assert number == "052303000042"


@given(number=st.from_regex(r"\A[0-9]{12}\Z") | st.text(max_size=14))
def test_checking_a_number_refuses_exactly_what_parsing_it_refuses(number: str) -> None:
    def refusal(check: Callable[..., object]) -> tuple[str, str] | None:
        try:
            check(number, today=TODAY)
        except InvalidCccd as refused:
            return refused.rule, refused.detail
        return None

    assert refusal(check_cccd) == refusal(parse_cccd)
    if refusal(parse_cccd) is None:
        assert check_cccd(number, today=TODAY) == parse_cccd(number, today=TODAY).birth_year


@given(
    number=st.text(
        st.characters(categories=("Nd", "No")) | st.sampled_from("0123456789"),
        min_size=12,
        max_size=12,
    )
)
def test_only_the_ascii_digits_0_to_9_make_a_number(number: str) -> None:
    """Superscripts, full-width and other scripts' digits are digits to `str.isdigit`, never
    to a CCCD number."""
    try:
        check_cccd(number, today=date(2400, 1, 1))
    except InvalidCccd as refused:
        malformed = refused.rule == "format"
    else:
        malformed = False

    assert malformed == (re.fullmatch(r"[0-9]{12}", number) is None)
