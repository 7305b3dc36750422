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
