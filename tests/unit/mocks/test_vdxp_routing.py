"""Where the axis sends a document (`mocks/vdxp/routing.py`): the provinces by the directory's
key, each shown by the code its bodies carry today."""

from __future__ import annotations

from mocks.vdxp.routing import destinations

PROVINCES = {"91": "angiang", "93": "cantho", "60": "lamdong"}
CANTHO_STP, LAMDONG_STP = "000.00.01.H14", "000.00.01.H36"  # today's bodies (era 2026)
HAUGIANG_STP = "000.00.01.H30"  # ex-Hậu Giang's, a body of the seeded (2024) world


def test_a_destination_of_todays_bodies_shows_todays_province_code_not_the_retired_one() -> None:
    routes = destinations(PROVINCES, "91", [CANTHO_STP, LAMDONG_STP], {})

    assert [(d.instance, d.province_code) for d in routes.provinces] == [
        ("lamdong", "68"),  # 60 retired
        ("cantho", "92"),  # 93 retired
    ]


def test_a_destination_of_the_seeded_worlds_bodies_keeps_their_code() -> None:
    routes = destinations(PROVINCES, "91", [HAUGIANG_STP], {})

    assert [(d.instance, d.province_code) for d in routes.provinces] == [("cantho", "93")]
