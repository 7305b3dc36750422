"""The examples in the published service contracts: one on every operation, each valid against
its own schema, and each answer (of every instance, in each era) the one the bus really gives
for the default seed (issue 5)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

import anyio
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy.ext.asyncio import AsyncEngine

from formats.agency_codes import CLOSED
from formats.edxml import parse_edxml, parse_status
from lgsp.catalog.contract import national_server
from lgsp.catalog.examples import XML, Era, load_examples
from lgsp.cli._openapi import OPENAPI_DIR
from lgsp.cli._openapi_examples import (
    ERAS,
    capture,
    example_requests,
    masked,
    profiles,
    published_examples,
    same_answer,
    url,
)
from lgsp.topology import DEFAULT_TOPOLOGY

SERVICE_DOCUMENTS = {
    path.name: json.loads(path.read_text(encoding="utf-8"))
    for path in sorted((OPENAPI_DIR / "services").glob("*.json"))
}
OPERATIONS = [
    pytest.param(name, method, path, id=f"{method.upper()} {path}")
    for name, document in SERVICE_DOCUMENTS.items()
    for path, operations in document["paths"].items()
    for method in operations
]


def _operation(name: str, method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = SERVICE_DOCUMENTS[name]["paths"][path][method]
    return operation


def _success(operation: dict[str, Any]) -> dict[str, Any]:
    (status,) = [status for status in operation["responses"] if status.startswith("2")]
    response: dict[str, Any] = operation["responses"][status]["content"]["application/json"]
    return response


def _assert_valid(name: str, schema: dict[str, Any], value: Any) -> None:
    """`schema` may `$ref` the document's components, as in the document itself."""
    components = SERVICE_DOCUMENTS[name]["components"]
    Draft202012Validator({**schema, "components": components}).validate(value)


CENTRAL = "/vdxp/v1/central/"


@pytest.mark.parametrize("era", ERAS)
def test_a_central_bodys_examples_are_called_at_the_national_instance(era: Era) -> None:
    """VPCP's national inbox is read, and its sending made, only at NDXP by a client bound to
    it (a province instance refuses them): its examples are called there, every other one at
    the profile's own instance."""
    for profile in profiles(era):
        for request in example_requests(profile):
            called = url(profile, request)
            central = f"/{request.service}/{request.version}{request.path}".startswith(CENTRAL)
            assert request.national is central, (profile.instance, request.key)
            base = "/ndxp/" if central else f"/lgsp/{profile.instance}/"
            assert called.startswith(base), (profile.instance, request.key, called)


def test_a_central_bodys_operations_name_the_national_server() -> None:
    """In the published contract (An Giang's), a central operation's example is a call to
    NDXP: the operation names that server, its token from there; no other operation does."""
    national = "http://127.0.0.1:8000/ndxp"
    document = SERVICE_DOCUMENTS["vdxp.v1.json"]

    servers = {
        (method, path): [server["url"] for server in operation.get("servers", [])]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    assert servers == {key: [national] if key[1].startswith(CENTRAL) else [] for key in servers}
    assert national_server("http://127.0.0.1:8000/lgsp/angiang") == national
    assert national_server(national) == national


@pytest.mark.parametrize(("name", "method", "path"), OPERATIONS)
def test_every_operation_has_an_example_of_each_part(name: str, method: str, path: str) -> None:
    operation = _operation(name, method, path)

    for parameter in operation["parameters"]:
        if parameter["in"] == "path":
            assert "example" in parameter, parameter["name"]
    bodies = operation.get("requestBody", {}).get("content", {})
    if bodies:
        assert any("example" in body for body in bodies.values())
    assert "example" in _success(operation)


@pytest.mark.parametrize(("name", "method", "path"), OPERATIONS)
def test_each_query_parameter_an_example_sends_is_documented_with_it(
    name: str, method: str, path: str
) -> None:
    """An integrator reads a call's query from its parameters' examples: every one the example
    request sends (a central body's `organ_id`) is a documented query parameter showing it."""
    operation = _operation(name, method, path)
    request = published_examples()[f"{name.removesuffix('.json')}:{operation['operationId']}"]
    documented = {
        parameter["name"]: str(parameter.get("example"))
        for parameter in operation["parameters"]
        if parameter["in"] == "query"
    }

    assert {key: documented.get(key) for key in request.request.query} == request.request.query


@pytest.mark.parametrize(("name", "method", "path"), OPERATIONS)
def test_each_example_is_valid_against_its_own_schema(name: str, method: str, path: str) -> None:
    operation = _operation(name, method, path)

    for parameter in operation["parameters"]:
        if "example" in parameter:
            _assert_valid(name, parameter["schema"], parameter["example"])
    for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
        if "example" not in body:
            continue
        if media_type == XML:  # edXML has no JSON schema: the bus's own parser is the judge
            parse = parse_status if path.endswith("statuses") else parse_edxml
            parse(body["example"].encode("utf-8"))
        else:
            _assert_valid(name, body["schema"], body["example"])
    success = _success(operation)
    _assert_valid(name, success["schema"], success["example"])


def test_every_example_request_belongs_to_a_published_operation() -> None:
    published = {
        (name.split(".")[0], method.upper(), path)
        for name, document in SERVICE_DOCUMENTS.items()
        for path, operations in document["paths"].items()
        for method in operations
    }

    for profile in (*profiles("2026"), *profiles("2024")):
        for request in example_requests(profile):
            assert (request.service, request.method, f"/{request.service}/v1{request.path}") in (
                published
            ), (profile.instance, request.key)


def test_the_contracts_describe_the_default_bus() -> None:
    """An integrator starts `lgsp serve` in the default era: the contracts' servers are its
    instances (no old province's deprecated base), and no example names an organ under a
    level-1 code the 2025 merger closed, as only today's bodies answer for new traffic."""
    bases = {f"http://127.0.0.1:8000{i.mount_path}" for i in DEFAULT_TOPOLOGY.instances}
    gateway = json.loads((OPENAPI_DIR / "gateway.json").read_text(encoding="utf-8"))

    for document in [gateway, *SERVICE_DOCUMENTS.values()]:
        assert {server["url"] for server in document["servers"]} <= bases
    # the documents' examples are among these (tests/test_openapi.py), as are those every
    # instance of today's map serves: an organ id's, MaTTHC's, MaHoSo's
    closed = rf"\.(?:{'|'.join(CLOSED)})\b"
    today = [
        [asdict(example.request), example.answer and asdict(example.answer)]
        for instance in load_examples()["2026"].values()
        for example in instance.examples.values()
    ]
    assert re.findall(closed, json.dumps(today, ensure_ascii=False)) == []
    # and the catalog's words (services/*.toml): each service's and each operation's
    said = [
        (name, text)
        for name, document in SERVICE_DOCUMENTS.items()
        for text in [
            document["info"]["description"],
            *(
                operation.get(field, "")
                for operations in document["paths"].values()
                for operation in operations.values()
                for field in ("summary", "description")
            ),
        ]
    ]
    assert [(name, text) for name, text in said if re.search(closed, text)] == []


@pytest.mark.anyio
@pytest.mark.parametrize("era", ERAS)
async def test_the_bus_gives_each_example_its_answer(
    engine: AsyncEngine, database_url: str, era: Era
) -> None:
    """Replays every example request of every instance of the era, in order, on a fresh bus
    with the default seed."""
    stored = load_examples()[era]

    fresh = await anyio.to_thread.run_sync(capture, era, database_url)

    assert set(fresh) == set(stored) == {profile.instance for profile in profiles(era)}
    for profile in profiles(era):
        answers = stored[profile.instance].examples
        requests = example_requests(profile)
        assert set(fresh[profile.instance]) == set(answers) == {r.key for r in requests}
        for request in requests:
            got, expected = fresh[profile.instance][request.key], answers[request.key].answer
            assert expected is not None
            assert same_answer(got, expected, request.volatile), (
                profile.instance,
                request.key,
                got.status,
                masked(got.body, request.volatile),
            )
