"""Reads the catalog folder once at start; a broken file stops the bus, named in the error."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from lgsp.catalog.schemas import MatchedOperation, OperationSpec, ServiceSpec
from lgsp.errors import MethodNotAllowed, OperationNotFound

MAX_CATALOG_FILES = 1000


class CatalogError(Exception):
    """The catalog folder cannot be loaded; the message names the file and the problem."""


class Catalog:
    def __init__(self, services: list[ServiceSpec]) -> None:
        self._services: dict[tuple[str, str], ServiceSpec] = {}
        for service in services:
            if service.key in self._services:
                raise CatalogError(f"service {service.id} {service.version} is defined twice")
            self._services[service.key] = service
        versions: dict[str, list[str]] = {}
        for service_id, version in self._services:
            versions.setdefault(service_id, []).append(version)
        self._versions = {service_id: tuple(sorted(v)) for service_id, v in versions.items()}
        """Each service's versions, sorted once: every call asks (issue 21)."""

    def __iter__(self) -> Iterator[ServiceSpec]:
        return iter(sorted(self._services.values(), key=lambda s: s.key))

    def __len__(self) -> int:
        return len(self._services)

    def get(self, service_id: str, version: str) -> ServiceSpec | None:
        return self._services.get((service_id, version))

    def versions(self, service_id: str) -> list[str]:
        return list(self._versions.get(service_id, ()))

    def serves(self, service_id: str) -> bool:
        """Whether any version of `service_id` is in the catalog, without a list of them."""
        return service_id in self._versions


def find_operation(service: ServiceSpec, method: str, path: str) -> MatchedOperation:
    """The operation for `method path`: 405 naming the methods the path allows, else 404.

    Where templates overlap (`/citizens/verify` and `/citizens/{cccd}`), the one with more
    literal text wins, as in most routers: a literal segment is never taken for a parameter.
    """
    matches = [
        (operation, match)
        for operation in service.operations
        if (match := operation.pattern.match(path)) is not None
    ]
    if matches:
        best = max(operation.specificity for operation, _ in matches)
        candidates = [(o, m) for o, m in matches if o.specificity == best]
        for operation, match in candidates:
            if operation.method == method:
                return MatchedOperation(operation, match.groupdict())
        error = MethodNotAllowed(f"{method} is not an operation of this path.")
        error.extensions["allowed"] = sorted({operation.method for operation, _ in candidates})
        raise error
    raise OperationNotFound(f"Service {service.id} {service.version} has no operation here.")


def match_operation(
    service: ServiceSpec, method: str, path: str
) -> tuple[MatchedOperation | None, list[str]]:
    """`find_operation` without its errors: the operation, else the methods the path allows."""
    try:
        return find_operation(service, method, path), []
    except MethodNotAllowed as error:
        return None, error.extensions["allowed"]
    except OperationNotFound:
        return None, []


def load_catalog(directory: Path, *, known_adapters: set[str]) -> Catalog:
    if not directory.is_dir():
        raise CatalogError(f"catalog folder {directory} does not exist")
    files = sorted(directory.glob("*.toml"))
    if len(files) > MAX_CATALOG_FILES:
        raise CatalogError(f"catalog folder {directory} holds more than {MAX_CATALOG_FILES} files")
    services = [_load_file(path, known_adapters) for path in files]
    return Catalog(services)


def _load_file(path: Path, known_adapters: set[str]) -> ServiceSpec:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        service = ServiceSpec.model_validate(raw)
    except (tomllib.TOMLDecodeError, ValidationError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path.name}: {error}") from error
    if service.adapter not in known_adapters:
        raise CatalogError(
            f"{path.name}: adapter {service.adapter!r} is unknown "
            f"(known: {', '.join(sorted(known_adapters))})"
        )
    return service


__all__ = [
    "Catalog",
    "CatalogError",
    "OperationSpec",
    "find_operation",
    "load_catalog",
    "match_operation",
]
