"""`topology_toml` writes the file `load_topology` reads back as the same topology."""

from __future__ import annotations

from pathlib import Path

from lgsp.topology import DEFAULT_TOPOLOGY, Topology, load_topology, topology_toml


def test_the_built_in_topology_reads_back_as_itself(tmp_path: Path) -> None:
    path = tmp_path / "topology.toml"
    path.write_text(topology_toml(DEFAULT_TOPOLOGY), encoding="utf-8")

    assert load_topology(path) == DEFAULT_TOPOLOGY


def test_urls_rights_and_quoted_text_read_back(tmp_path: Path) -> None:
    topology = Topology.model_validate(
        {
            "instances": [
                {
                    "name": "kiengiang",
                    "kind": "province",
                    "title": 'LGSP "Kiên Giang"\\',
                    "province_code": "91",
                    "url": "http://127.0.0.1:8001/lgsp/kiengiang",
                    "ndxp_rights": {"dancu": "GET", "a.b": "*"},
                    "systems": [{"name": "dvc", "url": "http://127.0.0.1:9001"}],
                }
            ]
        }
    )
    path = tmp_path / "topology.toml"
    path.write_text(topology_toml(topology), encoding="utf-8")

    assert load_topology(path) == topology
