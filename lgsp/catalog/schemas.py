"""The shape of a catalog file (`services/*.toml`), validated when the bus starts, and of the
catalog as `GET {base}/services` lists it to a client."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kit.values import value_object

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

Callers = Literal["any", "system", "organisation"]
"""Who may call an operation (issue 15): `any` client with the right; `system`: only the bus's
own system and federation clients; `organisation`: a tenant only for the organisation it is
bound to (named where `organisation` says)."""


class OperationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    method: HttpMethod
    path: str = Field(pattern=r"^/[A-Za-z0-9_{}/.-]*$")
    verify_rate: bool = False
    """Each answer confirms or refutes a guess of personal data (a citizen's date of birth):
    also counted against `LGSP_VERIFY_RATE_PER_MINUTE` per client (SECURITY-PROBE F15)."""
    summary: str = ""
    callers: Callers = "any"
    organisation: str | None = Field(
        default=None,
        pattern=r"^(path|query|body)\.[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$",
        description="Where an organisation-bound call names its organisation: `query.organ_id` "
        "(a missing one is set to the caller's), `path.code` (a dossier code, which begins "
        "with its agency id), or `body.organ_id` (a JSON body's member, a nested one dotted "
        "as `body.from.organ_id`, or the From/OrganId of an edXML document or status message).",
    )

    @model_validator(mode="after")
    def _organisation_located(self) -> OperationSpec:
        if (self.callers == "organisation") != (self.organisation is not None):
            raise ValueError(f"{self.id}: callers = 'organisation' goes with `organisation`")
        where, _, name = (self.organisation or "").partition(".")
        if where != "body" and "." in name:  # only a JSON body nests
            raise ValueError(f"{self.id}: {where}.{name} names no single {where} parameter")
        if where == "path" and name not in _PARAM.findall(self.path):
            raise ValueError(f"{self.id}: {self.path} has no parameter {{{name}}}")
        return self

    @cached_property
    def specificity(self) -> int:
        """Characters of literal text: more literal text means a more specific template."""
        return len(_PARAM.sub("", self.path))

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The path template as a regex; a parameter matches one path segment, never `/`."""
        parts = _PARAM.split(self.path)
        regex = "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
        return re.compile(f"^{regex}$")


class ServiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(pattern=r"^v[0-9]+$")
    title: str
    description: str = ""
    system: str = Field(description="The kind of system that owns the service, e.g. `dancu`.")
    owner: Literal["province", "national"] = Field(
        description="`province`: every LGSP owns its own; `national`: owned by the NDXP instance."
    )
    adapter: str
    operations: tuple[OperationSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _operation_ids_unique(self) -> ServiceSpec:
        ids = [operation.id for operation in self.operations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"operation ids repeated: {', '.join(duplicates)}")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    @cached_property
    def by_specificity(self) -> tuple[OperationSpec, ...]:
        """The operations, the most literal text first, in catalog order within a level:
        `find_operation` reads one level and stops, sorted once rather than on every call."""
        return tuple(sorted(self.operations, key=lambda operation: -operation.specificity))


@value_object
class MatchedOperation:
    operation: OperationSpec
    path_params: dict[str, str]


class OperationOut(BaseModel):
    id: str
    method: str
    path: str
    summary: str


class ServiceOut(BaseModel):
    id: str
    version: str
    title: str
    description: str
    owner: str
    methods: str
    base_path: str
    operations: list[OperationOut]


class ServiceList(BaseModel):
    services: list[ServiceOut]
