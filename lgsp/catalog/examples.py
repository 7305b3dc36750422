"""The examples of the service contracts, as checked in: `openapi_examples.json`.

Each instance of the built-in topologies has its own, in each era: an operation's example is a
request built from the default seed's data of that instance's province (its citizens, agencies,
dossiers, communes) and the answer a bus started with the default settings gives for it. Both
are made by `lgsp openapi` (`lgsp.cli._openapi_examples`, which needs the mocks' seeds and a
running bus) and stored in the file; the runtime contract endpoints only read them, so they
need neither, and each instance documents calls that answer on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

Era = Literal["2026", "2024"]

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "openapi_examples.json"
JSON, XML = "application/json", "application/xml"
PUBLISHED: tuple[Era, str] = ("2026", "angiang")
"""The era and instance whose examples the published files under `openapi/` carry: `lgsp
serve`'s default era, its first province, as their `servers` say."""


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
    national: bool = False
    """Called at the national instance, not at the instance whose example it is: a central
    body's operations (VPCP's national inbox), whose clients are the national instance's."""

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


@dataclass(frozen=True)
class InstanceExamples:
    """One instance's examples in one era, and the old province whose records it holds (the
    instance's `seed_code`): a topology file's instance of that name holding other records
    gets none, rather than another province's."""

    records_code: str
    examples: Mapping[str, Example]


StoredExamples = dict[Era, dict[str, InstanceExamples]]
"""Era → instance name → its examples, the national instance's those of the era's first
province (NDXP's callers are the provinces' LGSPs)."""


def load_examples(path: Path = EXAMPLES_FILE) -> StoredExamples:
    if not path.exists():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {
        era: {
            name: InstanceExamples(
                item["records_code"],
                {key: _example(example) for key, example in item["examples"].items()},
            )
            for name, item in instances.items()
        }
        for era, instances in stored.items()
    }


@cache
def _checked_in() -> StoredExamples:
    """The examples shipped with the package, read once: they change only with a new release."""
    return load_examples()


def examples_for(era: Era, name: str, records_code: str | None) -> Mapping[str, Example]:
    """Operation key (`dancu.v1:get_citizen`) → its example on the instance `name` of a bus in
    `era` holding the records of `records_code` (None: the national instance). Empty for an
    instance the built-in topologies do not have: no example at all beats one that names
    another province's citizens and agencies."""
    stored = _checked_in().get(era, {})
    if records_code is None:
        return next(iter(stored.values())).examples if stored else {}
    found = stored.get(name)
    return found.examples if found is not None and found.records_code == records_code else {}


def checked_in_examples() -> Mapping[str, Example]:
    """The examples the published files carry (`PUBLISHED`)."""
    era, name = PUBLISHED
    found = _checked_in().get(era, {}).get(name)
    return {} if found is None else found.examples


def render_examples(stored: StoredExamples) -> str:
    """The file's text: stable (sorted keys), so that an unchanged example changes no line;
    each era's instances in the topology's order, the first one the national instance's."""
    data = {
        era: {
            name: {
                "records_code": item.records_code,
                "examples": {
                    key: {
                        "request": _request_fields(example.request),
                        "answer": None if example.answer is None else asdict(example.answer),
                    }
                    for key, example in sorted(item.examples.items())
                },
            }
            for name, item in instances.items()
        }
        for era, instances in stored.items()
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _request_fields(request: ExampleRequest) -> dict[str, Any]:
    """The request as stored: `national` only where it is set, as few examples are."""
    fields = asdict(request)
    if not request.national:
        del fields["national"]
    return fields


def _example(item: dict[str, Any]) -> Example:
    request = item["request"]
    answer = item.get("answer")
    return Example(
        request=ExampleRequest(**{**request, "volatile": tuple(request.get("volatile", ()))}),
        answer=None if answer is None else ExampleAnswer(answer["status"], answer["body"]),
    )
