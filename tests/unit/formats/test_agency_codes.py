"""A body under a closed level-1 code is succeeded by the same unit under the code that
succeeds it, but a district body: the rule and the directory's successions agree."""

from __future__ import annotations

from formats.agency_codes import CLOSED, CLOSED_FROM, successor_of
from mocks.directory.agencies import AGENCIES, SUCCESSORS


def test_the_rule_names_the_successor_the_directory_has_and_none_it_lacks() -> None:
    seeded = [agency.organ_id for bodies in AGENCIES.values() for agency in bodies]
    closed = [organ_id for organ_id in seeded if organ_id.rpartition(".")[2] in CLOSED]

    named = {organ_id: successor_of(organ_id, CLOSED_FROM) for organ_id in closed}

    assert closed
    assert named == {
        organ_id: (SUCCESSORS[organ_id].organ_id if organ_id in SUCCESSORS else None)
        for organ_id in closed
    }
    assert named["000.00.05.H33"] is None
    assert named["000.00.00.H30"] == "000.00.00.H14"


def test_no_successor_before_the_merger_nor_for_an_open_code() -> None:
    assert successor_of("000.00.03.H33", CLOSED_FROM.replace(day=30, month=6)) is None
    assert successor_of("000.00.03.H01", CLOSED_FROM) is None
