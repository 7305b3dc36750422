"""Which instances exist, which systems each one owns, and where each system is reached.

The built-in topology is the one `lgsp serve` starts: the national instance `ndxp` and one LGSP
per province, every system an in-process mock. It comes in two eras (`LGSP_ERA`): "2026", today's
34-province map, where each LGSP is a merged province holding a seeded old one's records as its
history, and "2024", the five seeded provinces as they were before 1 July 2025. A TOML file
(`LGSP_TOPOLOGY_FILE`) can name other provinces, or point a system at a URL to put a real system
in place of a mock.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

from adapters.dialects.lgspaccesstoken import Variant as AccessTokenVariant

Era = Literal["2026", "2024"]
"""Which built-in topology: today's provinces, or the seeded ones before 1 July 2025."""


class TopologyError(Exception):
    """The topology file cannot be used; the message says why."""


Dialect = Literal["bus", "apim", "lgspaccesstoken", "soap", "opencps", "vdxpsdk"]
"""How callers talk to an instance at its door (README "Dialects"): `bus` is the bus's own
(JWT, `/{service}/{version}`, problem+json); the others are real platforms' (`lgsp.dialects`)."""
BUS_DIALECT: Dialect = "bus"

SystemDialect = Literal["bus", "opencps"]
SYSTEM_DIALECTS: dict[SystemDialect, tuple[str, ...]] = {"bus": (), "opencps": ("dvc",)}
"""The mock systems that can call their LGSP in a real dialect: the DVC portal syncs to the
national portal as OpenCPS's one-stop system does (DOMAIN.md §2.3)."""

SOURCED_DIALECTS: dict[str, tuple[Dialect, ...]] = {
    # WSO2 API Manager: NGSP's `api.ngsp.gov.vn/token` (NDXP's earlier name, an inference),
    # Đà Nẵng's `lgsp.danang.gov.vn/token` and `/dldc/1.0.0/…`, Cà Mau's APIM_DB (DOMAIN.md §2.1).
    "ndxp": ("apim",),
    "danang": ("apim",),
    "camau": ("apim",),
    # `lgspaccesstoken: base64(JSON)`: Hậu Giang (since 2025 within Cần Thơ), HCM, Khánh Hòa
    # (DOMAIN.md §2.2).
    "haugiang": ("lgspaccesstoken",),
    "cantho": ("lgspaccesstoken",),
    "hochiminh": ("lgspaccesstoken",),
    "khanhhoa": ("lgspaccesstoken",),
}
"""Instance name → the real dialects a source says that province's LGSP speaks, spoken there by
default beside the bus's own. Every other instance speaks only `bus` unless its topology entry
lists `dialects`."""

SOURCED_ACCESS_TOKEN_VARIANTS: dict[str, AccessTokenVariant] = {"hochiminh": "hochiminh"}
"""Instance name → the form of `lgspaccesstoken` a source shows its LGSP taking: HCM's
`Authorization` header and `{StatusCode, …}` envelope (DOMAIN.md §2.2); elsewhere Hậu Giang's."""


class SystemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    url: HttpUrl | None = Field(
        default=None,
        description="Reach the system over HTTP here; unset means the in-process mock.",
    )
    dialect: SystemDialect = Field(
        default="bus",
        description="The dialect the in-process system speaks when it calls its LGSP: the "
        "bus's own, or `opencps` for `dvc`, which then syncs to DVCQG as OpenCPS does, at the "
        "instance's OpenCPS door (the instance must speak `opencps`).",
    )

    @model_validator(mode="after")
    def _dialect_is_the_systems(self) -> SystemSpec:
        if self.dialect != BUS_DIALECT and self.name not in SYSTEM_DIALECTS[self.dialect]:
            raise ValueError(f"system {self.name} does not speak {self.dialect!r}")
        return self


class InstanceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    kind: Literal["national", "province"]
    title: str
    province_code: str | None = Field(default=None, pattern=r"^\d{2}$")
    legacy_codes: tuple[str, ...] = Field(
        default=(),
        description="Province only: the codes of the provinces (before 1 July 2025) merged "
        "into this one, its own among them; empty for a province of the 2024 era.",
    )
    records_code: str | None = Field(
        default=None,
        pattern=r"^\d{2}$",
        description="The old province whose seeded records this instance's systems hold; "
        "unset means `province_code`.",
    )
    aliases: tuple[str, ...] = Field(
        default=(),
        description="Names of old instances this one absorbed: `/lgsp/{alias}/…` still answers "
        "for it, marked deprecated (lgsp/legacy_paths.py).",
    )
    systems: tuple[SystemSpec, ...] = ()
    url: HttpUrl | None = Field(
        default=None,
        description="Base URL of this instance's gateway when another process serves it, "
        "e.g. http://kiengiang:8000/lgsp/kiengiang.",
    )
    ndxp_rights: dict[str, str] | None = Field(
        default=None,
        description="Province only: the services (and methods, `*` or `GET,POST`) NDXP lets "
        "this province call; unset means every service of the catalog.",
    )
    dialects: tuple[Dialect, ...] | None = Field(
        default=None,
        description="The dialects callers may speak at this instance's door, `bus` among "
        "them; unset means `bus` plus what a source names for the province (SOURCED_DIALECTS).",
    )
    lgspaccesstoken_variant: AccessTokenVariant | None = Field(
        default=None,
        description="The form its `lgspaccesstoken` door takes: `haugiang` (the `lgspaccesstoken` "
        "header, `{error_code, message, data}`) or `hochiminh` (the same JSON in `Authorization`, "
        "`{StatusCode, Status, ThrowException, Description, ResultObject}`); unset means the "
        "province's sourced one (SOURCED_ACCESS_TOKEN_VARIANTS), else `haugiang`.",
    )

    @model_validator(mode="after")
    def _province_has_code(self) -> InstanceSpec:
        if self.kind == "province" and self.province_code is None:
            raise ValueError(f"province instance {self.name} needs a province_code")
        if self.kind == "national" and self.ndxp_rights is not None:
            raise ValueError("ndxp_rights belong to a province instance")
        if self.dialects is not None:
            if BUS_DIALECT not in self.dialects:
                # The bus's own systems and the federation between instances speak it.
                raise ValueError(f"instance {self.name}: dialects must include {BUS_DIALECT!r}")
            if len(set(self.dialects)) != len(self.dialects):
                raise ValueError(f"instance {self.name}: a dialect is listed twice")
        for system in self.systems:
            if system.dialect not in self.spoken:
                raise ValueError(
                    f"instance {self.name}: system {system.name} calls it in "
                    f"{system.dialect!r}, which the instance does not speak"
                )
        return self

    @property
    def seed_code(self) -> str | None:
        """The old (pre-2025) province code of the records its systems hold."""
        return self.records_code or self.province_code

    @property
    def spoken(self) -> tuple[Dialect, ...]:
        """The dialects this instance speaks, the bus's own first."""
        if self.dialects is not None:
            return (BUS_DIALECT, *(d for d in self.dialects if d != BUS_DIALECT))
        return (BUS_DIALECT, *SOURCED_DIALECTS.get(self.name, ()))

    @property
    def access_token_variant(self) -> AccessTokenVariant:
        """The form of `lgspaccesstoken` this instance's door takes."""
        chosen = self.lgspaccesstoken_variant
        return chosen or SOURCED_ACCESS_TOKEN_VARIANTS.get(self.name, "haugiang")

    @property
    def mount_path(self) -> str:
        return "/ndxp" if self.kind == "national" else f"/lgsp/{self.name}"

    def system(self, name: str) -> SystemSpec | None:
        return next((system for system in self.systems if system.name == name), None)


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    instances: tuple[InstanceSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Topology:
        names = [instance.name for instance in self.instances]
        if len(set(names)) != len(names):
            raise ValueError("instance names must be unique")
        if sum(instance.kind == "national" for instance in self.instances) > 1:
            raise ValueError("there can be at most one national instance")
        codes = [i.province_code for i in self.instances if i.province_code is not None]
        if len(set(codes)) != len(codes):
            raise ValueError("province codes must be unique")
        seeds = [i.seed_code for i in self.instances if i.seed_code is not None]
        if len(set(seeds)) != len(seeds):
            raise ValueError("records codes must be unique")
        aliases = [alias for i in self.instances for alias in i.aliases]
        if len(set(aliases)) != len(aliases) or set(aliases) & set(names):
            raise ValueError("aliases must be unique and name no instance")
        return self

    def get(self, name: str) -> InstanceSpec | None:
        return next((instance for instance in self.instances if instance.name == name), None)

    @property
    def national(self) -> InstanceSpec | None:
        return next((i for i in self.instances if i.kind == "national"), None)

    @property
    def provinces(self) -> dict[str, str]:
        """Legacy province code of the seeded records → instance name, for systems that route
        by organisation (the agencies' ids carry the old codes)."""
        return {i.seed_code: i.name for i in self.instances if i.seed_code is not None}

    @property
    def aliases(self) -> dict[str, InstanceSpec]:
        """Old instance name → the instance that absorbed it."""
        return {alias: i for i in self.instances for alias in i.aliases}


# Legacy (pre-2025) province codes, as in every CCCD issued before the merger (DOMAIN.md §5.3).
SEEDED_PROVINCES = (
    ("kiengiang", "Kiên Giang", "91"),
    ("tiengiang", "Tiền Giang", "82"),
    ("binhthuan", "Bình Thuận", "60"),
    ("haugiang", "Hậu Giang", "93"),
    ("binhdinh", "Bình Định", "52"),
)

# Today's provinces that absorbed a seeded one (NQ 202/2025/QH15, codes of the national
# statistics office's list; FIDELITY-2026.md §1): name, title, code, the old codes merged into
# it, and the seeded province whose records it holds.
TODAYS_PROVINCES = (
    ("angiang", "An Giang", "91", ("89", "91"), "kiengiang"),
    ("dongthap", "Đồng Tháp", "82", ("82", "87"), "tiengiang"),
    ("lamdong", "Lâm Đồng", "68", ("60", "67", "68"), "binhthuan"),
    ("cantho", "Cần Thơ", "92", ("92", "93", "94"), "haugiang"),
    ("gialai", "Gia Lai", "52", ("52", "64"), "binhdinh"),
)

_NDXP = InstanceSpec(
    name="ndxp",
    kind="national",
    title="NDXP — national data exchange platform",
    systems=(
        SystemSpec(name="csdlqgdc"),
        SystemSpec(name="dmhc"),
        SystemSpec(name="dvcqg"),
        SystemSpec(name="vdxp"),
    ),
)
_PROVINCE_SYSTEMS = (SystemSpec(name="dancu"), SystemSpec(name="dvc"), SystemSpec(name="qlvb"))
_SEEDED_CODE = {name: code for name, _, code in SEEDED_PROVINCES}


def _province(
    name: str, title: str, code: str, legacy: tuple[str, ...] = (), seeded: str | None = None
) -> InstanceSpec:
    """A province's LGSP; a merged one keeps the seeded old province as history and alias."""
    return InstanceSpec(
        name=name,
        kind="province",
        title=f"LGSP {title}",
        province_code=code,
        legacy_codes=legacy,
        records_code=None if seeded is None else _SEEDED_CODE[seeded],
        aliases=() if seeded is None else (seeded,),
        systems=_PROVINCE_SYSTEMS,
    )


TOPOLOGY_2024 = Topology(instances=(_NDXP, *(_province(*row) for row in SEEDED_PROVINCES)))
"""The seeds' world: the five provinces as they were before 1 July 2025."""

TOPOLOGY_2026 = Topology(instances=(_NDXP, *(_province(*row) for row in TODAYS_PROVINCES)))
"""Today's map: each LGSP a merged province, the seeded old one its history and alias."""

TOPOLOGIES: dict[Era, Topology] = {"2026": TOPOLOGY_2026, "2024": TOPOLOGY_2024}
DEFAULT_TOPOLOGY = TOPOLOGY_2026


def load_topology(path: Path | None, era: Era = "2026") -> Topology:
    """The topology file at `path`, else the built-in topology of `era`."""
    if path is None:
        return TOPOLOGIES[era]
    try:
        return Topology.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise TopologyError(f"cannot read topology file {path}: {error.strerror}") from error
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise TopologyError(f"topology file {path}: {error}") from error


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # TOML's bare keys; any other is quoted


def topology_toml(topology: Topology) -> str:
    """The file `load_topology` reads back as `topology`, for whoever starts processes that must
    share one (the benchmarks, tests of several processes). TOML takes JSON's string escapes."""
    blocks = []
    for instance in topology.instances:
        fields = instance.model_dump(mode="json", exclude_none=True, exclude={"systems"})
        systems = [system.model_dump(mode="json", exclude_none=True) for system in instance.systems]
        lines = ["[[instances]]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in fields.items()]
        lines.append(f"systems = {_toml_value(systems)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{_toml_key(key)} = {_toml_value(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    return json.dumps(value, ensure_ascii=False)
