"""Era 2026 seeds records on both sides of 1 July 2025: those before with the old province's
bodies and codes, those after with today's; era 2024 keeps the seeds' bodies and codes, a
commune-level dossier at the applicant's own commune in both."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from mocks.dancu.names import KHMER_FAMILY_NAMES
from mocks.dancu.seed import generate_citizens
from mocks.directory.admin_units import ADMIN_UNITS
from mocks.directory.agencies import AGENCIES, find_agency
from mocks.dvc.seed import plan_dossiers, seeded_dossiers, summary_of
from mocks.qlvb.seed import PlannedDocument, plan_documents

MERGER = date(2025, 7, 1)
SEEDED = ["91", "82", "60", "93", "52"]
OLD_LETTER = {"91": "H33", "82": "H58", "60": "H11", "93": "H30", "52": "H08"}
NEW_LETTER = {"91": "H01", "82": "H20", "60": "H36", "93": "H14", "52": "H21"}


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_dossiers_are_filed_on_both_sides_of_the_merger(province_code: str) -> None:
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2026")

    before = [p for p in planned if p.day < MERGER]
    after = [p for p in planned if p.day >= MERGER]
    assert before
    assert after
    assert {p.agency_id.rpartition(".")[2] for p in before} == {OLD_LETTER[province_code]}
    assert {p.agency_id.rpartition(".")[2] for p in after} == {NEW_LETTER[province_code]}
    for item in after:
        agency = find_agency(item.agency_id)
        assert agency is not None
        assert (agency.era, agency.level != "district") == ("2026", True)


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_commune_dossiers_go_to_the_applicant_s_commune(province_code: str) -> None:
    """Not to one ward of the old capital for every household (review 2026-12-07 #1): before
    the merger to the old commune's bodies, after it to those of the ward it went into."""
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2026")

    communal = [p for p in planned if (a := find_agency(p.agency_id)) and a.level == "commune"]
    assert communal
    for item in communal:
        agency = find_agency(item.agency_id)
        assert agency is not None
        home = item.applicant.thuong_tru.ma_phuong_xa
        today = ADMIN_UNITS.successors(home)[0].code
        assert agency.ward_code == (home if item.day < MERGER else today), agency.name
        if item.day >= MERGER:
            assert not {"thành phố", "huyện"} & set(agency.name.split(", "))
            assert ", " not in agency.name  # no district after the commune


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2024_commune_dossiers_go_to_the_applicant_s_commune_too(province_code: str) -> None:
    """Districts existed: a commune-level procedure was the applicant's commune's, not the
    capital ward's for every household (as era 2026 files one dated before the merger)."""
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2024")

    communal = [p for p in planned if (a := find_agency(p.agency_id)) and a.level == "commune"]
    assert communal
    homes = set()
    for item in communal:
        agency = find_agency(item.agency_id)
        assert agency is not None
        homes.add(item.applicant.thuong_tru.ma_phuong_xa)
        assert (agency.era, agency.ward_code) == ("2024", item.applicant.thuong_tru.ma_phuong_xa)
    assert len(homes) > 1, "every applicant of one commune proves nothing"


def test_a_residence_registration_from_dong_ho_goes_to_dong_ho_s_police() -> None:
    planned = plan_dossiers(province_code="91", seed=2024, population=200, era="2026")

    first = planned[0]  # filed 23 June 2025 by a household of Phường Đông Hồ
    agency = find_agency(first.agency_id)

    assert (first.procedure.code, first.applicant.thuong_tru.ma_phuong_xa) == ("1.004222", "30769")
    assert agency is not None
    assert agency.name == "Công an phường Đông Hồ, thành phố Hà Tiên"  # as it was named then


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_summaries_are_what_a_citizen_writes(province_code: str) -> None:
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2026")

    summaries = [summary_of(item) for item in planned]

    assert not [s for s in summaries if "hồ sơ mẫu" in s or "trạng thái" in s]
    assert len(set(summaries)) > 1


@pytest.mark.parametrize("province_code", SEEDED)
def test_no_summary_names_its_applicant(province_code: str) -> None:
    """The applicant's name is masked where it is a field; a summary holding it is free text
    that no mask reads."""
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2026")

    named = [
        summary
        for item in planned
        if (summary := summary_of(item)) and item.applicant.ho_va_ten in summary
    ]

    assert named == []


def test_an_address_after_the_merger_names_today_s_ward() -> None:
    planned = plan_dossiers(province_code="91", seed=2024, population=200, era="2026")
    residence = next(p for p in planned if p.procedure.code == "1.004222")
    home = residence.applicant.thuong_tru
    today = ADMIN_UNITS.successors(home.ma_phuong_xa)[0]
    after = dataclasses.replace(residence, day=date(2025, 7, 2))

    assert residence.day < MERGER
    assert summary_of(residence).endswith(f"{home.chi_tiet}, {home.ten_phuong_xa}")
    assert summary_of(after).endswith(f"{home.chi_tiet}, {today.name}")
    assert today.name != home.ten_phuong_xa


def test_era_2024_keeps_the_seeds_dossiers() -> None:
    planned = plan_dossiers(province_code="91", seed=2024, population=200)

    assert [p.day for p in planned][0] == date(2025, 6, 2)
    assert all(p.day < MERGER for p in planned)
    assert {p.agency_id.rpartition(".")[2] for p in planned} == {"H33"}
    assert summary_of(planned[0]).endswith("(hồ sơ mẫu, trạng thái 1)")


def test_the_built_dossiers_carry_the_plan_s_codes_and_summaries() -> None:
    built = seeded_dossiers(
        instance="angiang", province_code="91", seed=2024, population=200, era="2026"
    )
    planned = plan_dossiers(province_code="91", seed=2024, population=200, era="2026")

    assert [d.summary for d in built] == [summary_of(p) for p in planned]
    assert [d.code.split("-")[0] for d in built] == [p.agency_id for p in planned]


# --- documents ---------------------------------------------------------------------------------

QUARTER_ENDS = {"I": (3, 31), "II": (6, 30), "III": (9, 30), "IV": (12, 31)}


def documents_2026(province_code: str) -> list[PlannedDocument]:
    return plan_documents(province_code=province_code, seed=2024, era="2026")


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_documents_are_sent_by_the_bodies_of_their_day(province_code: str) -> None:
    for planned in documents_2026(province_code):
        day = date.fromisoformat(planned.document["promulgation"]["date"])
        organs = [planned.document["from"], *planned.document["to"]]
        letter = OLD_LETTER if day < MERGER else NEW_LETTER
        assert {o["organ_id"].rpartition(".")[2] for o in organs} == {letter[province_code]}
        assert {r.reporter.rpartition(".")[2] for r in planned.reports} <= {letter[province_code]}
    days = [date.fromisoformat(p.document["promulgation"]["date"]) for p in documents_2026("91")]
    assert min(days) < MERGER <= max(days)


@pytest.mark.parametrize("province_code", SEEDED)
def test_people_s_committees_sign_as_chairman_or_for_him(province_code: str) -> None:
    for planned in documents_2026(province_code):
        signer = planned.document["signer"]
        if planned.document["from"]["organ_name"].startswith("Ủy ban nhân dân"):
            assert (signer["competence"], signer["position"]) in {
                ("TM. ỦY BAN NHÂN DÂN", "Chủ tịch"),
                ("KT. CHỦ TỊCH", "Phó Chủ tịch"),
            }


def test_a_quarterly_report_is_dated_after_its_quarter() -> None:
    reports = [
        p.document for p in documents_2026("91") if p.document["subject"].startswith("Báo cáo")
    ]

    assert reports
    for document in reports:
        quarter, year = re.search(r"quý (\w+) năm (\d{4})", document["subject"]).groups()  # type: ignore[union-attr]
        month, day = QUARTER_ENDS[quarter]
        assert date.fromisoformat(document["promulgation"]["date"]) > date(int(year), month, day)


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_senders_and_recipients_give_address_and_contacts(province_code: str) -> None:
    for planned in documents_2026(province_code):
        for organ in [planned.document["from"], *planned.document["to"]]:
            assert all(organ[key] for key in ("organ_add", "email", "telephone")), organ


def test_era_2024_documents_are_the_seeds_as_they_were() -> None:
    planned = plan_documents(province_code="91", seed=2024)

    assert planned[0].document["promulgation"] == {"place": "Rạch Giá", "date": "2025-03-03"}
    assert {p.document["signer"]["position"] for p in planned} == {"Giám đốc"}
    assert "organ_add" not in planned[0].document["from"]


@pytest.mark.parametrize("province_code", SEEDED)
def test_the_seeded_bodies_sit_in_wards_of_the_2024_list(province_code: str) -> None:
    for agency in AGENCIES[province_code]:
        ward = ADMIN_UNITS.unit("2024", agency.ward_code or "")
        assert ward is not None, agency
        assert f", {ward.name}, {ward.district_name}, " in agency.address, agency.address


# --- citizens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("province_code", ["91", "93"])
def test_era_2026_has_khmer_households_where_the_khmer_live(province_code: str) -> None:
    seeds = generate_citizens(province_code=province_code, seed=2024, count=400)
    today = generate_citizens(province_code=province_code, seed=2024, count=400, era="2026")

    khmer = [c for c in today if c.dan_toc == "Khmer"]
    assert khmer
    assert {c.ho for c in khmer} <= set(KHMER_FAMILY_NAMES)
    households = {c.ma_ho for c in khmer}
    assert all(c.dan_toc == "Khmer" for c in today if c.ma_ho in households)
    # the same people otherwise: numbers, birth dates, addresses, households
    same = ("so_dinh_danh", "ngay_thang_nam_sinh", "thuong_tru", "ma_ho", "quan_he_voi_chu_ho")
    for old, new in zip(seeds, today, strict=True):
        assert [getattr(old, f) for f in same] == [getattr(new, f) for f in same]
        if new.dan_toc == "Kinh":
            assert old == new


def test_era_2024_and_provinces_without_a_khmer_community_stay_kinh() -> None:
    assert {c.dan_toc for c in generate_citizens(province_code="91", seed=2024, count=400)} == {
        "Kinh"
    }
    tien_giang = generate_citizens(province_code="82", seed=2024, count=400, era="2026")
    assert {c.dan_toc for c in tien_giang} == {"Kinh"}


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_seeded_forms_hold_what_a_citizen_fills_in(province_code: str) -> None:
    dossiers = seeded_dossiers(
        instance="x", province_code=province_code, seed=2024, population=200, era="2026"
    )

    forms = [dossier.form_data for dossier in dossiers]
    assert not [form for form in forms if "Dữ liệu mẫu" in form.values()]
    assert {form["HinhThucNhanKetQua"] for form in forms} == {"Trực tiếp", "Qua dịch vụ bưu chính"}
