"""The procedure catalogue: well-formed codes, and a search that ignores case and diacritics."""

from __future__ import annotations

import re
import unicodedata

import pytest

from mocks.dvc.procedures import (
    BY_CODE,
    MAX_PAGE_SIZE,
    PROCEDURES,
    Procedure,
    search_procedures,
)

MA_TTHC = re.compile(r"[1-3]\.[0-9]{6}")  # DOMAIN.md §8.2, without a provincial suffix
MA_LINH_VUC = re.compile(r"[A-Z][0-9]{2}-[A-Z]{2}[0-9]{2}")


def names(procedures: tuple[Procedure, ...]) -> list[str]:
    return [procedure.name for procedure in procedures]


def test_the_catalogue_is_well_formed() -> None:
    assert 8 <= len(PROCEDURES) <= 15
    assert len(BY_CODE) == len(PROCEDURES)
    for procedure in PROCEDURES:
        assert MA_TTHC.fullmatch(procedure.code), procedure.code
        assert MA_LINH_VUC.fullmatch(procedure.field.code), procedure.field.code
        assert procedure.name == unicodedata.normalize("NFC", procedure.name)
        assert procedure.online_service in ("partial", "full")
        assert procedure.level in ("province", "district", "commune")
        assert procedure.processing_days >= 0
        assert procedure.fee_vnd >= 0


def test_mock_assigned_codes_are_kept_apart_from_real_ones() -> None:
    for procedure in PROCEDURES:
        assert procedure.code.startswith("3.999") != procedure.code_sourced, procedure.code


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("1.001193", "Đăng ký khai sinh"),
        ("1.000894", "Đăng ký kết hôn"),
        ("2.000635", "Cấp bản sao Trích lục hộ tịch"),
        ("1.004222", "Đăng ký thường trú"),
        ("1.001612", "Đăng ký thành lập hộ kinh doanh"),
    ],
)
def test_sourced_national_codes_name_their_procedure(code: str, name: str) -> None:
    assert BY_CODE[code].name == name
    assert BY_CODE[code].code_sourced


@pytest.mark.parametrize(
    "query",
    [
        "khai sinh",
        "Khai Sinh",
        "đăng ký khai sinh",
        "ĐĂNG KÝ KHAI SINH",
        "dang ky khai sinh",
        unicodedata.normalize("NFD", "Đăng ký khai sinh"),
        "  khai   sinh ",
        "1.001193",
    ],
)
def test_search_finds_birth_registration_however_the_query_is_written(query: str) -> None:
    assert names(search_procedures(query).items) == ["Đăng ký khai sinh"]


def test_search_without_diacritics_matches_names_with_them() -> None:
    found = names(search_procedures("trich luc ho tich").items)

    assert found == ["Cấp bản sao Trích lục hộ tịch"]


def test_every_word_of_the_query_must_match() -> None:
    assert search_procedures("khai sinh kết hôn").total == 0
    assert set(names(search_procedures("đăng ký").items)) >= {
        "Đăng ký khai sinh",
        "Đăng ký kết hôn",
        "Đăng ký thường trú",
    }


def test_an_empty_query_lists_the_whole_catalogue_in_order() -> None:
    for query in (None, "", "   "):
        page = search_procedures(query, size=MAX_PAGE_SIZE)
        assert page.items == PROCEDURES
        assert page.total == len(PROCEDURES)


@pytest.mark.parametrize("field", ["Z00-HT01", "Hộ tịch", "ho tich"])
def test_search_filters_by_field_code_or_name(field: str) -> None:
    page = search_procedures(None, field=field)

    assert page.total == 4
    assert {procedure.field.name for procedure in page.items} == {"Hộ tịch"}


def test_search_filters_by_agency_level() -> None:
    page = search_procedures("giấy phép xây dựng", level="province")

    assert names(page.items) == ["Cấp giấy phép xây dựng mới đối với công trình cấp I, cấp II"]


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level must be one of"):
        search_procedures(None, level="ward")


def test_pages_split_the_results_without_gaps_or_repeats() -> None:
    size = 3
    first = search_procedures(None, page=1, size=size)
    pages = [search_procedures(None, page=n, size=size) for n in range(1, first.pages + 1)]

    assert first.pages == -(-len(PROCEDURES) // size)
    assert tuple(p for page in pages for p in page.items) == PROCEDURES
    assert all(page.total == len(PROCEDURES) for page in pages)


def test_a_page_past_the_end_is_empty_but_keeps_the_total() -> None:
    page = search_procedures("khai sinh", page=2, size=10)

    assert page.items == ()
    assert page.total == 1


def test_the_largest_page_size_is_accepted() -> None:
    assert search_procedures(None, size=MAX_PAGE_SIZE).size == 100


@pytest.mark.parametrize(
    ("page", "size", "message"),
    [(1, 101, "page size"), (1, 0, "page size"), (0, 10, "pages start at 1")],
)
def test_out_of_bounds_paging_is_refused(page: int, size: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        search_procedures(None, page=page, size=size)
