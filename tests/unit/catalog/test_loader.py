"""Catalog files: loaded when valid, refused with the file's name when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import ADAPTERS
from lgsp.catalog.loader import CatalogError, load_catalog, match_operation
from lgsp.catalog.schemas import ServiceSpec
from lgsp.settings import Settings

VALID = """
id = "demo"
version = "v1"
title = "Demo"
system = "dancu"
owner = "province"
adapter = "dancu"

[[operations]]
id = "get_thing"
method = "GET"
path = "/things/{thing_id}"
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def demo_service(folder: Path, text: str) -> ServiceSpec:
    """The `demo` v1 service of a catalog holding `text` alone."""
    write(folder, "demo.toml", text)
    service = load_catalog(folder, known_adapters={"dancu"}).get("demo", "v1")
    assert service is not None
    return service


def test_shipped_catalog_loads() -> None:
    catalog = load_catalog(Settings(_env_file=None).catalog_dir, known_adapters=set(ADAPTERS))  # type: ignore[call-arg]

    assert catalog.get("dancu", "v1") is not None


def test_operation_matching_extracts_path_parameters(tmp_path: Path) -> None:
    service = demo_service(tmp_path, VALID)

    matched, _ = match_operation(service, "GET", "/things/42")
    wrong_method, allowed = match_operation(service, "POST", "/things/42")
    nested, _ = match_operation(service, "GET", "/things/42/../43")

    assert matched is not None
    assert matched.path_params == {"thing_id": "42"}
    assert wrong_method is None
    assert allowed == ["GET"]
    assert nested is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id = ", "broken.toml"),
        (VALID.replace('version = "v1"', 'version = "1"'), "version"),
        (VALID.replace('adapter = "dancu"', 'adapter = "nosuch"'), "adapter 'nosuch' is unknown"),
        (VALID.replace('owner = "province"', 'owner = "mars"'), "owner"),
        (VALID + "\nsurprise = 1\n", "surprise"),
        (VALID.split("[[operations]]")[0], "operations"),
    ],
)
def test_broken_catalog_file_is_refused_with_its_name(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, "broken.toml", text)

    with pytest.raises(CatalogError) as error:
        load_catalog(tmp_path, known_adapters={"dancu"})

    assert "broken.toml" in str(error.value)
    assert message in str(error.value)


def test_same_service_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", VALID)
    write(tmp_path, "b.toml", VALID)

    with pytest.raises(CatalogError, match="defined twice"):
        load_catalog(tmp_path, known_adapters={"dancu"})


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nope", known_adapters={"dancu"})


def test_literal_segments_win_over_parameters(tmp_path: Path) -> None:
    verify_thing = """
[[operations]]
id = "verify_thing"
method = "POST"
path = "/things/verify"
"""
    service = demo_service(tmp_path, VALID + verify_thing)

    verify, _ = match_operation(service, "POST", "/things/verify")
    wrong_method, allowed = match_operation(service, "GET", "/things/verify")
    by_id, _ = match_operation(service, "GET", "/things/42")

    assert verify is not None
    assert verify.operation.id == "verify_thing"
    assert wrong_method is None
    assert allowed == ["POST"]
    assert by_id is not None
    assert by_id.path_params == {"thing_id": "42"}


BOUND = VALID.replace('path = "/things/{thing_id}"', 'path = "/things/{thing_id}"\n'
                      'callers = "organisation"\norganisation = "{where}"')  # fmt: skip


def test_only_a_body_names_its_organisation_in_a_nested_member(tmp_path: Path) -> None:
    """`body.from.organ_id`: a JSON document's sender (qlvb send_document); a path or query
    parameter has no members, so a dotted one is a mistake in the file."""
    nested = demo_service(tmp_path, BOUND.replace("{where}", "body.from.organ_id"))
    assert nested.operations[0].organisation == "body.from.organ_id"
    for where in ("query.from.organ_id", "path.thing_id.x"):
        write(tmp_path, "demo.toml", BOUND.replace("{where}", where))
        with pytest.raises(CatalogError, match="names no single"):
            load_catalog(tmp_path, known_adapters={"dancu"})
