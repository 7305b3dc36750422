"""Every status change of a dossier, handed to the bus for the national portal (DVCQG).

Real portals sync each change to DVCQG (DOMAIN.md §2.3, §4). This one hands the sync to its
LGSP's store-and-forward (`mocks/bus.py`, `BusClient.hand_over`) inside the change's own
transaction, committed only once the bus has taken it; the bus delivers it later, as the
portal's own client. So no change is kept whose sync the bus did not take, a national portal
that is down delays the sync without failing the citizen's request, and retries carry the same
`Idempotency-Key`, `dvcqg:{MaHoSo}:{step}`, which DVCQG deduplicates on. The ordering key keeps
one dossier's changes in order; DVCQG tolerates them out of order anyway.

The body is the bus's canonical JSON for `dvcqg` (`adapters._dvcqg_contracts.SyncRequest`):
the dossier as it now stands and the entry the change appended, with only the applicant data
the national portal is sent (kind, name, CCCD), never the birth date, contact or files.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mocks.bus import Handover
from mocks.directory.agencies import find_agency
from mocks.dvc.deadlines import to_vietnam_time
from mocks.dvc.models import Dossier, ProgressEntry
from mocks.dvc.procedures import BY_CODE, procedure_code_under

SERVICE, VERSION, PATH = "dvcqg", "v1", "/dossiers/sync"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_vietnam_time(moment).isoformat()


def snapshot_json(dossier: Dossier, *, province_code: str) -> dict[str, Any]:
    """The dossier as DVCQG is told it stands (`SyncRequest.dossier`)."""
    procedure = BY_CODE[dossier.procedure_code]
    agency = find_agency(dossier.agency_id)
    return {
        "code": dossier.code,
        "procedure": {
            "code": procedure_code_under(procedure.code, dossier.agency_id.rpartition(".")[2]),
            "name": procedure.name,
        },
        "field": {"code": procedure.field.code, "name": procedure.field.name},
        "agency": {
            "id": dossier.agency_id,
            "name": agency.name if agency is not None else dossier.agency_id,
        },
        "channel": "online",  # every dossier of this portal is filed online (KenhThucHien 2)
        "applicant": {
            "kind": "citizen",
            "full_name": dossier.applicant_name,
            "identification": {"type": "cccd", "number": dossier.applicant_id_number},
        },
        "summary": dossier.summary,
        "status": dossier.status,
        "submitted_at": _iso(dossier.submitted_at),
        "received_at": _iso(dossier.received_at),
        "due_at": _iso(dossier.due_at),
        "supplement_requested_at": _iso(dossier.supplement_requested_at),
        "completed_at": _iso(dossier.finished_at),
        "returned_at": _iso(dossier.returned_at),
        "refused_at": _iso(dossier.refused_at),
    }


def progress_json(entry: ProgressEntry) -> dict[str, Any]:
    """One history entry as `SyncRequest.progress`."""
    return {
        "status": entry.status,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "position": entry.title,
        "department": entry.department,
        "note": entry.note,
        "action": entry.action,
        "started_at": _iso(entry.started_at),
        "due_at": _iso(entry.due_at),
    }


def sync_body(dossier: Dossier, *, province_code: str) -> dict[str, Any]:
    """The sync of the dossier's latest change: its snapshot and its last history entry."""
    latest = dossier.progress[-1]
    return {
        "province_code": province_code,
        "step": latest.position,
        "dossier": snapshot_json(dossier, province_code=province_code),
        "progress": progress_json(latest),
    }


def sync_call(dossier: Dossier, *, province_code: str) -> Handover:
    """The hand-over of the dossier's latest change: one per step, keyed by the step."""
    step = dossier.progress[-1].position
    return Handover(
        service=SERVICE,
        version=VERSION,
        path=PATH,
        body=json.dumps(
            sync_body(dossier, province_code=province_code), ensure_ascii=False
        ).encode(),
        content_type="application/json",
        idempotency_key=f"dvcqg:{dossier.code}:{step}",
        ordering_key=f"dossier:{dossier.code}",
    )
