"""The hint beside a citizen another province registered names the records each instance holds."""

from __future__ import annotations

from adapters.dancu import CitizenNotFound
from lgsp.routing.hints import add_hint
from lgsp.topology import TOPOLOGY_2026


def not_found(registered_in: str) -> CitizenNotFound:
    return CitizenNotFound("No citizen with this CCCD number.", registered_in=registered_in)


def test_lam_dongs_hint_names_the_ex_binh_thuan_records_it_holds() -> None:
    lamdong = TOPOLOGY_2026.get("lamdong")
    assert lamdong is not None
    assert lamdong.seed_code == "60"
    error = not_found("82")

    add_hint(error, lamdong, TOPOLOGY_2026)

    assert "province 68's" not in error.extensions["hint"]
    assert (
        "holds only the citizens registered in province 60 (Bình Thuận)"
        in (error.extensions["hint"])
    )
    assert error.extensions["target_instance"] == "dongthap"


def test_an_unknown_citizen_of_the_records_an_instance_holds_gets_no_hint() -> None:
    lamdong = TOPOLOGY_2026.get("lamdong")
    assert lamdong is not None
    error = not_found("60")

    add_hint(error, lamdong, TOPOLOGY_2026)

    assert "hint" not in error.extensions


def hint_at(instance: str, registered_in: str) -> CitizenNotFound:
    here = TOPOLOGY_2026.get(instance)
    assert here is not None
    error = not_found(registered_in)
    add_hint(error, here, TOPOLOGY_2026)
    return error


def test_a_retired_code_points_to_the_instance_holding_its_records() -> None:
    """060… is ex-Bình Thuận's: Lâm Đồng (68) holds those records; 093… Hậu Giang's, in Cần Thơ."""
    for registered_in, owner in (("60", "lamdong"), ("93", "cantho")):
        error = hint_at("angiang", registered_in)

        assert error.extensions["target_instance"] == owner
        assert f"X-LGSP-Target: {owner}" in error.extensions["hint"]
        assert "no instance of this bus serves" not in error.extensions["hint"]


def test_an_old_code_merged_into_another_province_points_there() -> None:
    """087… is the old Đồng Tháp's, part of today's Đồng Tháp (82): not ask-nobody."""
    error = hint_at("angiang", "87")

    assert error.extensions["target_instance"] == "dongthap"


def test_the_callers_own_old_code_it_holds_no_records_of_points_nowhere_else() -> None:
    """089… is the old An Giang's, merged into An Giang's instance, whose records are ex-Kiên
    Giang's: the citizen is not in this instance's records, and no other instance is named."""
    error = hint_at("angiang", "89")

    assert "target_instance" not in error.extensions
    assert "the citizen is not in this instance's records" in error.extensions["hint"]
    assert "no instance of this bus serves" not in error.extensions["hint"]
    assert "csdlqgdc" in error.extensions["hint"]


def test_a_province_no_instance_serves_is_said_so() -> None:
    error = hint_at("angiang", "79")

    assert "target_instance" not in error.extensions
    assert "no instance of this bus serves that province" in error.extensions["hint"]
