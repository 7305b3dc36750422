"""What other provinces send this endpoint over the national axis: documents and statuses.

Each arrives from the bus's outbox worker, at least once: the same message may come again
after a timeout or a crash, with the same `Idempotency-Key`. A document is recognised by its
natural key (sender, code number, notation), so a redelivery answers `Duplicate: true` and
never makes a second inbox entry. A status is recognised by its key, or failing that by being
already recorded (same reporter, code and Timestamp); either answers 2xx `Duplicate: true`,
never a 409 that would send the worker's message to the dead letters. Mock endpoints; the VDXP
SDK has no such calls, a province's endpoint being VDXP's own client there.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.qlvb import axis
from mocks.qlvb.context import (
    answers,
    apply_report,
    context_of,
    delivered,
    document_taken,
    judged_signature,
    not_found,
    refuse_closed_reporter,
    report_of,
    require_bus,
)
from mocks.qlvb.store import describe_document
from mocks.vdxp.sdk import (
    XML_BODY,
    MockError,
    idempotency_key,
    read_document,
    read_status_message,
    sha256,
)

router = APIRouter()


@router.post("/receiveEdoc", openapi_extra=XML_BODY)
async def receive_edoc(request: Request) -> JSONResponse:
    """Mock addition: deliver a document from another province to its `To` agencies here.

    `To` agencies of other provinces are theirs (the axis sends them their own copy) and are
    left out; none of ours is 422 NO_RECIPIENT_HERE. The sender must be an agency of another
    province (LOCAL_SENDER: this province's send with `/sendEdoc`). Answers as `/sendEdoc`.
    """
    context = context_of(request)
    require_bus(context)  # the statuses of what it takes must be able to travel back
    body, reading = await read_document(request)
    new = describe_document(context.config.instance, body, reading.message)
    sender_province = axis.province_of(context.config, new.sender)
    if sender_province is None:
        raise MockError(
            422, "UNKNOWN_SENDER", f"No agency has organ id {new.sender}.", OrganIds=[new.sender]
        )
    if sender_province == context.province_code:
        raise MockError(
            422,
            "LOCAL_SENDER",
            f"{new.sender} is an agency of this province: it sends with /sendEdoc.",
            OrganIds=[new.sender],
        )
    ours = tuple(
        r for r in new.recipients if axis.province_of(context.config, r) == context.province_code
    )
    if not ours:
        raise MockError(
            422,
            "NO_RECIPIENT_HERE",
            "No To agency of the document belongs to this province.",
            OrganIds=list(new.recipients),
        )
    checked = await judged_signature(context, body)
    async with context.writing() as store:
        sent = await store.send(replace(new, recipients=ours, signature=checked), at=context.now())
    return document_taken(sent, reading, checked)


@router.post("/receiveStatus", openapi_extra=XML_BODY)
async def receive_status(request: Request) -> JSONResponse:
    """Mock addition: apply a status message from another province (DOMAIN.md §3.4).

    Its `From` is an agency of another province: a recipient there of a document sent from
    here (its delivery's trace moves on), or the sender there of a document received here
    (a recall, 13, of our deliveries). The lifecycle is `/updateStatus`'s; the Timestamp kept
    is the message's; its signature is checked as a document's is (`Signature`; refused under a
    `refuse` policy). A redelivery answers `Duplicate: true` (see the module's docstring);
    a key seen before with another body is 422 IDEMPOTENCY_KEY_REUSED.
    """
    context = context_of(request)
    key = idempotency_key(request)
    body, reading = await read_status_message(request)
    status = reading.message
    refuse_closed_reporter(context.config, status)  # its province's endpoint refuses it too
    response_for, reporter = status["response_for"], status["from"]["organ_id"]
    province = axis.province_of(context.config, reporter)
    if province is None:
        raise MockError(
            422, "UNKNOWN_ORGAN", f"No agency has organ id {reporter}.", OrganIds=[reporter]
        )
    if province == context.province_code:
        raise MockError(
            422,
            "LOCAL_REPORTER",
            f"{reporter} is an agency of this province: it reports with /updateStatus.",
            OrganIds=[reporter],
        )
    checked = await judged_signature(context, body)
    async with context.writing() as store:
        seen = None
        if key is not None:
            seen = await store.remember_key(key, sha256(body), at=context.now())
            if seen is not None and seen.content_sha256 != sha256(body):
                raise MockError(
                    422,
                    "IDEMPOTENCY_KEY_REUSED",
                    "This Idempotency-Key came before with another message.",
                )
        document = await store.find(document_id=response_for["document_id"])
        if document is None or not answers(document, response_for):
            raise not_found()
        report = report_of(status, body, context.config)
        # The deliveries' row locks first: a concurrent twin of this message then waits, and
        # finds it recorded rather than refused as an illegal step.
        await store.deliveries(document, lock=True)
        if seen is not None or await store.recorded(document, report):
            deliveries = await store.deliveries(document)
            return delivered(document, deliveries, Duplicate=True, Signature=checked)
        reported = await apply_report(store, document, report, context.now())
    return delivered(document, reported.deliveries, Duplicate=False, Signature=checked)
