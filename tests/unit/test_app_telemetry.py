"""The bus exports no telemetry: FastAPI's OpenTelemetry bridge is off on every app it builds.

Left on, FastAPI asks OpenTelemetry's global providers (three environment lookups) on every
call, whether or not anything is configured: ~4% of the in-process hop's CPU (issue 21).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import _logs, metrics, trace
from starlette.routing import Mount

from lgsp.app import create_app
from lgsp.settings import Settings

pytestmark = pytest.mark.anyio


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    for module, name in (
        (trace, "get_tracer_provider"),
        (metrics, "get_meter_provider"),
        (_logs, "get_logger_provider"),
    ):
        original = getattr(module, name)

        def recording(*args: Any, _name: str = name, _original: Any = original) -> Any:
            asked.append(_name)
            return _original(*args)

        monkeypatch.setattr(module, name, recording)
    return asked


def _fastapi_apps(app: FastAPI) -> list[FastAPI]:
    """The root app and each instance's gateway app (mounted inside its audit recorder)."""
    found = [app]
    for route in app.routes:
        inner = getattr(route, "app", None) if isinstance(route, Mount) else None
        while inner is not None and not isinstance(inner, FastAPI):
            inner = getattr(inner, "app", None)
        if isinstance(inner, FastAPI):
            found.append(inner)
    return found


async def test_no_call_asks_opentelemetry_for_its_providers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = _fastapi_apps(create_app(Settings(data_dir=tmp_path)))
    asked = _asked(monkeypatch)

    assert len(apps) > 1
    for app in apps:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/no-such-path")

    assert asked == []
