"""The examples of the published service contracts, as checked in: `openapi_examples.json`.

Each operation's example is a request built from the default seed's data and the answer a bus
started with the default settings gives for it. Both are made by `lgsp openapi`
(`lgsp.cli._openapi_examples`, which needs the mocks' seeds and a running bus) and stored in
the file; the runtime contract endpoint only reads them, so it needs neither.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "openapi_examples.json"
JSON, XML = "application/json", "application/xml"


@dataclass(frozen=True)
class ExampleRequest:
    """One operation's example call, as a client makes it at `{base}` of an instance."""

    service: str
    version: str
    operation: str
    method: str
    path: str
    """The operation's path template after `/{service}/{version}`."""
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    """JSON value, or edXML text when `media_type` is XML."""
    media_type: str | None = None
    volatile: tuple[str, ...] = ()
    """Members of the answer set by the clock of the call (dotted, `*` for every item):
    the replay compares everything else."""

    @property
    def key(self) -> str:
        return f"{self.service}.{self.version}:{self.operation}"


@dataclass(frozen=True)
class ExampleAnswer:
    status: int
    body: Any


@dataclass(frozen=True)
class Example:
    request: ExampleRequest
    answer: ExampleAnswer | None = None
    """None until an answer has been captured for the request."""


def load_examples(path: Path = EXAMPLES_FILE) -> dict[str, Example]:
    """Operation key (`dancu.v1:get_citizen`) → its example, as stored."""
    if not path.exists():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {key: _example(item) for key, item in stored.items()}


@cache
def checked_in_examples() -> Mapping[str, Example]:
    """The examples shipped with the package, read once: they change only with a new release."""
    return load_examples()


def render_examples(examples: Mapping[str, Example]) -> str:
    """The file's text: stable (sorted keys), so that an unchanged example changes no line."""
    stored = {
        key: {
            "request": asdict(example.request),
            "answer": None if example.answer is None else asdict(example.answer),
        }
        for key, example in examples.items()
    }
    return json.dumps(stored, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _example(item: dict[str, Any]) -> Example:
    request = item["request"]
    answer = item.get("answer")
    return Example(
        request=ExampleRequest(**{**request, "volatile": tuple(request.get("volatile", ()))}),
        answer=None if answer is None else ExampleAnswer(answer["status"], answer["body"]),
    )
