"""Which dialects an instance speaks: the topology's list, else the sourced default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lgsp.topology import InstanceSpec, SystemSpec, Topology, load_topology, topology_toml


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


def test_the_portal_can_call_its_instance_in_the_opencps_dialect_it_speaks() -> None:
    spec = province(
        "kiengiang",
        dialects=("bus", "opencps"),
        systems=(SystemSpec(name="dvc", dialect="opencps"),),
    )

    assert spec.system("dvc") == SystemSpec(name="dvc", dialect="opencps")


@pytest.mark.parametrize(
    ("dialects", "system"),
    [
        (("bus",), "dvc"),  # no OpenCPS door at the instance to sync through
        (("bus", "opencps"), "qlvb"),  # only the portal speaks OpenCPS's sync protocol
    ],
)
def test_a_system_dialect_the_instance_or_the_system_lacks_is_refused(
    dialects: tuple[str, ...], system: str
) -> None:
    with pytest.raises(ValidationError, match="opencps"):
        province("kiengiang", dialects=dialects, systems=({"name": system, "dialect": "opencps"},))
