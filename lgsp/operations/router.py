"""`/healthz`, `/readyz`, `/metrics` and `/`: the process as a whole, outside every instance."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from kit.deadline import within
from lgsp.deps import BusDep
from lgsp.dialects.mount import door_urls
from lgsp.metrics import Gauge
from lgsp.outbox import store as outbox_store
from lgsp.state import BusState

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

READINESS_TIMEOUT = 2.0


@router.get("/healthz")
async def healthz(bus: BusDep) -> JSONResponse:
    """Liveness: 200 while the bus serves, 503 once it is stopping. `lgsp serve` answers it
    200 from the moment it listens, before the bus is open (`lgsp.cli._starting`)."""
    if not bus.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(bus: BusDep) -> JSONResponse:
    """200 when the database answers, every instance has its signing key and every embedded
    system is open (they open once the bus is; a call waits for its own); else 503.
    Readiness: `lgsp serve` answers it 503 until the bus is open."""
    checks = {
        "database": await _database_answers(bus),
        "keys": _keys_loaded(bus),
        "systems": bus.systems_open(),
    }
    ready = bus.ready and all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(bus: BusDep) -> PlainTextResponse:
    """Prometheus text format: requests, latency, errors by code, audit lag, outbox depth."""
    gauges: list[Gauge] = [
        (
            "lgsp_audit_pending_records",
            "Audit records waiting for their transaction.",
            (),
            float(bus.audit_writer.pending_entries),
        )
    ]
    for name in bus.instances:
        counts = await outbox_store.count_by_state(bus.session_factory, instance=name)
        gauges += [
            (
                "lgsp_outbox_messages",
                "Outbox messages by instance and delivery state.",
                (("instance", name), ("state", state.value)),
                float(count),
            )
            for state, count in counts.items()
        ]
    return PlainTextResponse(
        bus.metrics.render(gauges), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


@router.get("/")
async def index(bus: BusDep) -> dict[str, Any]:
    """The instances this process serves, with their base URLs and the dialects they speak;
    in era 2026 the old provinces' names each absorbed (`aliases`), whose paths still answer,
    deprecated."""
    return {
        "era": bus.settings.era,
        "instances": [
            {
                "name": instance.spec.name,
                "kind": instance.spec.kind,
                "title": instance.spec.title,
                "base_url": instance.issuer,
                "docs": f"{instance.issuer}/docs",
                "dialects": door_urls(instance.spec, instance.issuer),
                # The bus's test CA (lgsp/ca), one for the bus, published at every instance
                "ca": {
                    "root": f"{instance.issuer}/ca/root.pem",
                    "crl": f"{instance.issuer}/ca/crl.der",
                    "trust": f"{instance.issuer}/ca/trust.pem",
                },
                **({"aliases": list(instance.spec.aliases)} if instance.spec.aliases else {}),
            }
            for instance in bus.instances.values()
        ],
    }


async def _database_answers(bus: BusState) -> bool:
    async def select_one() -> None:
        async with bus.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        # Not cancelled at the timeout: a connection cut short can stay open (kit.deadline).
        await within(READINESS_TIMEOUT, select_one())
    except Exception:
        logger.warning("readiness: the database does not answer", exc_info=True)
        return False
    return True


def _keys_loaded(bus: BusState) -> bool:
    return all(instance.keys.signing.kid for instance in bus.instances.values())
