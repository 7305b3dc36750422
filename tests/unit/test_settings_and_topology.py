"""Settings defaults, the production guard, and the topology file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lgsp.settings import Settings
from lgsp.topology import DEFAULT_TOPOLOGY, Topology, TopologyError, load_topology


def test_defaults_use_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]

    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'lgsp.db'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_plain_database_urls_get_our_async_drivers(given: str, expected: str) -> None:
    assert Settings(_env_file=None, database_url=given).database_url == expected  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, True),  # one process on its own SQLite file
        ({"workers": 2}, False),
        ({"database_url": "postgresql://u@h/db"}, False),  # another process may share it
        ({"database_url": "postgresql://u@h/db", "systems_sole_writer": True}, True),
        ({"systems_sole_writer": False}, False),
    ],
)
def test_a_reset_trusts_its_own_count_of_writes_only_where_one_process_writes(
    tmp_path: Path, given: dict[str, object], expected: bool
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, **given)  # type: ignore[call-arg]

    assert settings.systems_sole_writer_here is expected


def test_a_sole_writer_of_several_workers_is_refused() -> None:
    with pytest.raises(ValidationError, match="LGSP_WORKERS is 2"):
        Settings(_env_file=None, systems_sole_writer=True, workers=2)  # type: ignore[call-arg]


def test_environment_variables_configure_the_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_SEED", "99")
    monkeypatch.setenv("LGSP_DATABASE_URL", "postgresql://x@y/z")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.seed == 99
    assert settings.database_url == "postgresql+psycopg://x@y/z"


OWN_SECRETS = {"demo_client_secret": "s3cr3t-of-ours", "federation_secret": "another-of-ours"}


@pytest.mark.parametrize("published", ["demo_client_secret", "federation_secret"])
def test_production_profile_refuses_each_published_secret(published: str) -> None:
    secrets = {name: value for name, value in OWN_SECRETS.items() if name != published}
    with pytest.raises(ValidationError, match=f"LGSP_{published.upper()} is the published"):
        Settings(_env_file=None, profile="production", **secrets)  # type: ignore[call-arg]

    allowed = Settings(_env_file=None, profile="production", **OWN_SECRETS)  # type: ignore[call-arg]
    assert allowed.profile == "production"


def test_production_profile_refuses_an_unmasked_journal() -> None:
    with pytest.raises(ValidationError, match="LGSP_JOURNAL_UNMASKED keeps personal data"):
        Settings(_env_file=None, profile="production", journal_unmasked=True, **OWN_SECRETS)  # type: ignore[call-arg]

    assert Settings(_env_file=None, journal_unmasked=True).journal_unmasked  # type: ignore[call-arg]


def test_ndxp_url_must_be_an_http_url() -> None:
    with pytest.raises(ValidationError, match="ndxp_url"):
        Settings(_env_file=None, ndxp_url="ndxp:8000")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("topology", "provinces"),
    [
        pytest.param(
            DEFAULT_TOPOLOGY,
            [("angiang", "91"), ("dongthap", "82"), ("lamdong", "68"), ("cantho", "92"),
             ("gialai", "52")],
            id="default-the-five-merged-provinces",
        ),
        pytest.param(
            load_topology(None, "2024"),
            [("kiengiang", "91"), ("tiengiang", "82"), ("binhthuan", "60"), ("haugiang", "93"),
             ("binhdinh", "52")],
            id="era-2024-the-five-seeded-provinces",
        ),
    ],
)  # fmt: skip
def test_a_built_in_topology_has_ndxp_and_five_provinces(
    topology: Topology, provinces: list[tuple[str, str]]
) -> None:
    names = [(i.name, i.mount_path, i.province_code) for i in topology.instances]

    assert names == [
        ("ndxp", "/ndxp", None),
        *[(name, f"/lgsp/{name}", code) for name, code in provinces],
    ]


def topology_from(tmp_path: Path, text: str) -> Topology:
    path = tmp_path / "topology.toml"
    path.write_text(text, encoding="utf-8")
    return load_topology(path)


CANTHO = """
[[instances]]
name = "cantho"
kind = "province"
title = "LGSP Cần Thơ"
province_code = "92"
"""
"""A province's entry, open at its end for the fields a test adds."""


def test_topology_file_can_point_a_system_at_a_url(tmp_path: Path) -> None:
    topology = topology_from(
        tmp_path, CANTHO + 'systems = [{ name = "dancu", url = "http://127.0.0.1:9001" }]\n'
    )

    instance = topology.get("cantho")
    assert instance is not None
    system = instance.system("dancu")
    assert system is not None
    assert str(system.url) == "http://127.0.0.1:9001/"


def test_topology_file_says_where_other_processes_serve_an_instance(tmp_path: Path) -> None:
    topology = topology_from(
        tmp_path,
        """
[[instances]]
name = "ndxp"
kind = "national"
title = "NDXP"
url = "http://ndxp:8000/ndxp"
"""
        + CANTHO
        + 'url = "http://cantho:8000/lgsp/cantho"\n'
        + 'ndxp_rights = { csdlqgdc = "GET", dvcqg = "*" }\n',
    )

    assert str(topology.get("ndxp").url) == "http://ndxp:8000/ndxp"  # type: ignore[union-attr]
    assert topology.get("cantho").ndxp_rights == {"csdlqgdc": "GET", "dvcqg": "*"}  # type: ignore[union-attr]
    assert topology.provinces == {"92": "cantho"}
    assert topology.national is topology.get("ndxp")


@pytest.mark.parametrize(
    "text",
    [
        'instances = [{ name = "x", kind = "province", title = "X" }]',
        'instances = [{ name = "a", kind = "province", title = "A", province_code = "91" }, '
        '{ name = "b", kind = "province", title = "B", province_code = "91" }]',
        'instances = [{ name = "n", kind = "national", title = "N", ndxp_rights = {} }]',
        'instances = [{ name = "n", kind = "national", title = "N", url = "not a url" }]',
        'instances = [{ name = "n1", kind = "national", title = "A" }, '
        '{ name = "n2", kind = "national", title = "B" }]',
        "instances = []",
        "instances = [",
    ],
)
def test_invalid_topology_files_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(TopologyError):
        topology_from(tmp_path, text)


def test_missing_topology_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "absent.toml")
