"""The published contracts under `openapi/`, generated from the code.

`gateway.json` is the contract every instance serves; `systems/<name>.json` are the mock
systems' own contracts, in their native formats, which the adapters translate from.
`lgsp openapi` writes them; a test regenerates them and fails when the checked-in files drift
from the code, so integrators can rely on `openapi/` (issue: published contracts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lgsp.errors import PROBLEM_MEDIA_TYPE
from lgsp.topology import InstanceSpec
from mocks.config import SystemConfig

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"


def gateway_document() -> dict[str, Any]:
    """The contract every instance serves at `{base}` (an LGSP and the NDXP alike)."""
    from lgsp.app import create_gateway_app

    spec = InstanceSpec(name="province", kind="province", title="LGSP gateway", province_code="91")
    document = create_gateway_app(spec).openapi()
    document["info"]["description"] = (
        "Served by every instance of the bus under its base path: `/ndxp` and "
        "`/lgsp/{province}`. Errors are RFC 9457 `application/problem+json` with a stable "
        "`code`; the token endpoint answers in RFC 6749 form."
    )
    _problems_as_problem_json(document)
    document["servers"] = [
        {"url": "http://127.0.0.1:8000/lgsp/kiengiang", "description": "LGSP Kiên Giang"},
        {"url": "http://127.0.0.1:8000/ndxp", "description": "NDXP"},
    ]
    return document


def _problems_as_problem_json(document: dict[str, Any]) -> None:
    """FastAPI files a response model under the route's own media type (application/json);
    our errors are application/problem+json only, so their schema moves there."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and PROBLEM_MEDIA_TYPE in content:
                    json_schema = content.pop("application/json", {}).get("schema")
                    if json_schema is not None:
                        content[PROBLEM_MEDIA_TYPE]["schema"] = json_schema


def system_document(system: str) -> dict[str, Any]:
    """A mock system's own contract: its native format, as the gateway's adapter meets it."""
    from lgsp.routing.systems import MOCK_SYSTEMS

    config = SystemConfig(instance="kiengiang", province_code="91", province_name="Kiên Giang")
    document = MOCK_SYSTEMS[system].factory(config, None).openapi()
    document["info"]["title"] = f"Mock system {system} (its own format)"
    return document


def documents() -> dict[str, dict[str, Any]]:
    """File name → document, for every published contract."""
    from lgsp.routing.systems import MOCK_SYSTEMS

    published = {"gateway.json": gateway_document()}
    for system in sorted(MOCK_SYSTEMS):
        published[f"systems/{system}.json"] = system_document(system)
    return published


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_documents(directory: Path = OPENAPI_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
