"""Which dialects an instance speaks: the topology's list, else the sourced default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lgsp.topology import InstanceSpec, Topology, load_topology, topology_toml


def province(name: str, **fields: object) -> InstanceSpec:
    return InstanceSpec(name=name, kind="province", title=name, province_code="92", **fields)


@pytest.mark.parametrize(
    ("name", "spoken"),
    [
        ("cantho", ("bus", "lgspaccesstoken")),
        ("haugiang", ("bus", "lgspaccesstoken")),
        ("danang", ("bus", "apim")),
        ("kiengiang", ("bus",)),
        ("angiang", ("bus",)),
    ],
)
def test_a_sourced_dialect_is_spoken_by_default(name: str, spoken: tuple[str, ...]) -> None:
    assert province(name).spoken == spoken


def test_the_national_instance_speaks_api_manager_as_ngsp_did() -> None:
    national = InstanceSpec(name="ndxp", kind="national", title="NDXP")

    assert national.spoken == ("bus", "apim")


def test_the_topology_list_wins_and_the_bus_dialect_comes_first() -> None:
    spec = province("cantho", dialects=("apim", "bus"))

    assert spec.spoken == ("bus", "apim")


@pytest.mark.parametrize("dialects", [("apim",), ("bus", "bus"), ("bus", "soap-of-nowhere"), ()])
def test_a_list_without_the_bus_dialect_or_with_an_unknown_one_is_refused(
    dialects: tuple[str, ...],
) -> None:
    with pytest.raises(ValidationError):
        province("cantho", dialects=dialects)


def test_dialects_survive_the_topology_file(tmp_path: Path) -> None:
    topology = Topology(instances=(province("kiengiang", dialects=("bus", "lgspaccesstoken")),))
    path = tmp_path / "topology.toml"
    path.write_text(topology_toml(topology), encoding="utf-8")

    assert load_topology(path) == topology
