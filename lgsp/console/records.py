"""`/console/{instance}/dossiers…` and `/documents…`: Hồ sơ và văn bản — the records the
provincial systems keep, read through the bus as the signed-in admin (an admin bound to no
organisation acts for the whole instance, `lgsp.routing.callers`), each drawn as a state diagram
of its lifecycle (`lgsp.console.lifecycles`) with where it is now.

The bus keeps no list of documents: the documents screen lists the sendings and deliveries its
journal holds, opens one by id, and reads an agency's inbox. Names and id numbers are masked.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lgsp.console._kit import PAGE_SIZE, AdminApi, Console, admin_api, problem_text
from lgsp.console.lifecycles import DELIVERY, DOSSIER, UNCONFIRMED, draw, label_of
from lgsp.deps import BusDep
from lgsp.journal.capture import mask_name, mask_text
from lgsp.routing.resolver import is_served
from lgsp.state import BusState

DOSSIERS = "/dvc/v1/dossiers"
DOCUMENTS = "/qlvb/v1/documents"
MAX_RECIPIENTS_DRAWN = 20
_SENDINGS = (("POST", "/qlvb/v1/documents", 202), ("POST", "/qlvb/v1/inbound/documents", 202))


async def _read(
    api: AdminApi, instance: str, path: str, params: dict[str, Any] | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """A record the page shows, or why the API would not give it (masked: a problem's detail
    may name the person the record is about)."""
    answer = await api.call(instance, "GET", path, params=params)
    if answer.status_code == 200:
        found: dict[str, Any] = answer.json()
        return found, None
    return None, mask_text(problem_text(answer))


def add_record_routes(router: APIRouter, console: Console) -> None:
    @router.get("/{instance}/dossiers")
    async def dossiers(request: Request, bus: BusDep, instance: str) -> Response:
        """Hồ sơ: the portal's dossiers, newest first, a page at a time."""
        session = console.administered(request, bus, instance)
        query = {
            key: value[:64]
            for key in ("status", "agency", "applicant")
            if (value := request.query_params.get(key, "").strip())
        }
        page = request.query_params.get("page", "1")
        params: dict[str, Any] = {
            **query,
            "page": int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
            "size": PAGE_SIZE,
        }
        found: dict[str, Any] | None = None
        problem = None
        served = _serves(bus, instance, "dvc")
        if served:
            async with admin_api(request, bus, session) as api:
                found, problem = await _read(api, instance, DOSSIERS, params)
        items = [] if found is None else found.get("items", [])
        for item in items:
            item["applicant_shown"] = _applicant(item.get("applicant") or {})
            item["status_shown"] = label_of(DOSSIER, str(item["status"]["code"]))
        more = found is not None and found.get("total", 0) > params["page"] * PAGE_SIZE
        return console.page(
            request,
            bus,
            "dossiers.html",
            instance=instance,
            served=served,
            items=items,
            query=query,
            page=params["page"],
            more=more,
            problem=problem,
        )

    @router.get("/{instance}/dossiers/{code}")
    async def dossier(request: Request, bus: BusDep, instance: str, code: str) -> Response:
        """One dossier: its lifecycle drawn, where it is, what it may do next, its history."""
        session = console.administered(request, bus, instance)
        found: dict[str, Any] | None = None
        problem = None
        if _serves(bus, instance, "dvc"):
            async with admin_api(request, bus, session) as api:
                found, problem = await _read(
                    api, instance, f"{DOSSIERS}/{quote(code[:64], safe='')}"
                )
        diagram = None
        if found is not None:
            history = found.get("history", [])
            diagram = draw(
                DOSSIER,
                current=str(found["status"]["code"]),
                path=[str(entry["status"]["code"]) for entry in history],
                allowed=set(found.get("allowed_actions", [])),
            )
            found["applicant_shown"] = _applicant(found.get("applicant") or {})
            found["status_shown"] = label_of(DOSSIER, str(found["status"]["code"]))
            for entry in history:
                entry["actor"] = mask_name(str(entry.get("actor", "")))
                entry["status_shown"] = label_of(DOSSIER, str(entry["status"]["code"]))
        return console.page(
            request,
            bus,
            "dossier.html",
            instance=instance,
            code=code,
            dossier=found,
            diagram=diagram,
            problem=problem,
        )

    @router.get("/{instance}/documents")
    async def documents(request: Request, bus: BusDep, instance: str) -> Response:
        """Văn bản: documents sent from and delivered to the instance (from its journal), one
        document by id, an agency's inbox."""
        session = console.administered(request, bus, instance)
        organ_id = request.query_params.get("organ_id", "").strip()[:32]
        sent: list[dict[str, Any]] = []
        inbox: dict[str, Any] | None = None
        problem = None
        async with admin_api(request, bus, session) as api:
            for method, path, status in _SENDINGS:
                found = await api.get(
                    instance,
                    "/admin/journal",
                    {"method": method, "path": path, "status": status, "limit": PAGE_SIZE},
                )
                for entry in [] if found is None else found.get("entries", []):
                    sent.append(_sending(entry, inbound="inbound" in path))
            if organ_id and _serves(bus, instance, "qlvb"):
                inbox, problem = await _read(
                    api, instance, f"{DOCUMENTS}/inbox", {"organ_id": organ_id}
                )
        sent.sort(key=lambda s: str(s["occurred_at"]), reverse=True)
        return console.page(
            request,
            bus,
            "documents.html",
            instance=instance,
            served=_serves(bus, instance, "qlvb"),
            sent=[s for s in sent if s["id"]],
            organ_id=organ_id,
            inbox=inbox,
            problem=problem,
        )

    @router.get("/{instance}/document")
    async def document(request: Request, bus: BusDep, instance: str, id: str = "") -> Response:
        """One document: each recipient's delivery drawn as a state diagram, with its trail."""
        session = console.administered(request, bus, instance)
        document_id = id.strip()[:300]
        found: dict[str, Any] | None = None
        problem = "Thiếu mã văn bản." if not document_id else None
        if document_id and _serves(bus, instance, "qlvb"):
            async with admin_api(request, bus, session) as api:
                path = f"{DOCUMENTS}/{quote(document_id, safe='')}"
                found, problem = await _read(api, instance, path)
        recipients = []
        if found is not None:
            for recipient in found.get("recipients", [])[:MAX_RECIPIENTS_DRAWN]:
                codes = [str(entry["status_code"]) for entry in recipient.get("history", [])]
                recipients.append(
                    {
                        **recipient,
                        "diagram": draw(
                            DELIVERY,
                            current=recipient.get("status") or UNCONFIRMED,
                            path=[UNCONFIRMED, *codes],
                        ),
                    }
                )
        return console.page(
            request,
            bus,
            "document.html",
            instance=instance,
            document_id=document_id,
            document=found,
            subject=mask_text(str((found or {}).get("document", {}).get("subject", ""))),
            recipients=recipients,
            problem=problem,
        )


def _serves(bus: BusState, instance: str, service_id: str) -> bool:
    return any(
        is_served(service, bus.instances[instance])
        for service in bus.catalog
        if service.id == service_id
    )


def _applicant(applicant: dict[str, Any]) -> str:
    return mask_text(
        f"{mask_name(str(applicant.get('full_name', '')))} {applicant.get('cccd', '')}"
    )


def _sending(entry: dict[str, Any], *, inbound: bool) -> dict[str, Any]:
    """A journal entry of a sending: the document's id and DocumentId from the answer."""
    try:
        answer = json.loads(entry["response"]["body"])
    except (ValueError, KeyError, TypeError):
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    return {
        "id": str(answer.get("id", "")),
        "document_id": str(answer.get("document_id", "")),
        "recipients": len(answer.get("recipients") or []),
        "occurred_at": entry["occurred_at"],
        "request_id": entry["request_id"],
        "inbound": inbound,
        "client_id": entry.get("client_id"),
    }
