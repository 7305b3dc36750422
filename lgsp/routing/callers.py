"""Who may call an operation, as its catalog entry declares it (issue 15).

The access right says which services a client may call; this says on whose behalf. The bus's
own system and federation clients pass: the hop before them checked the caller who started the
call, as X-Road's security servers trust each other's checks of their own members. A tenant
may call a `system` operation never, and an `organisation` operation only for the organisation
it is bound to; an admin client that is bound to none acts for the whole instance, and for
no other: a call it sends to another province (`X-LGSP-Target`) is refused there, since that
province's checks see only the federation's credentials (SECURITY-PROBE 2026-12-07 #2).
Nor does a client of a province act for a central body (a G code), which is of no province.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Container, Mapping

from formats.codes import CENTRAL_ORGAN_ID
from formats.edxml import InvalidEdxml, document_id_organ, read_claims
from lgsp.auth.federation import province_of_client
from lgsp.auth.models import FEDERATION
from lgsp.catalog.schemas import OperationSpec
from lgsp.deps import Caller
from lgsp.errors import OrganisationMismatch, OrganisationRequired, SystemCallersOnly

Query = tuple[tuple[str, str], ...]

ORIGIN_HEADER = "X-LGSP-Origin"
"""The instance a call started at, as the bus tells the next hop and the owning system."""
_INSTANCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_CENTRAL_ORGAN_ID = re.compile(CENTRAL_ORGAN_ID)


MAX_KEY_LENGTH = 200
"""What every system of the bus takes as an `Idempotency-Key` (visible ASCII)."""


def scoped_key(client_id: str, key: str) -> str:
    """The caller's `Idempotency-Key` as the next hop sees it: prefixed with who sent it, so
    that no client can claim another's key first (SECURITY-PROBE F3). Each hop scopes again
    with its own caller, so a key that reaches an owner through NDXP names the province too.
    A key that would grow too long is replaced by its digest, still a function of the key."""
    scoped = f"{client_id}:{key}"
    if len(scoped) <= MAX_KEY_LENGTH:
        return scoped
    return f"{client_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def unscoped_key(client_id: str, key: str) -> str:
    """The key `client_id` sent, from what `scoped_key` made of it (the outbox keeps that)."""
    return key.removeprefix(f"{client_id}:")


def origin_of(caller: Caller, *, instance: str, claimed: str | None) -> str:
    """Where the call started: learnt from credentials, never from what a caller says.

    At NDXP a province's federation client (`lgsp-<province>`) proves its province; at a
    province, NDXP's client is believed about the origin it passes on (it learnt it so); any
    other caller started the call here.
    """
    if caller.grant.kind != FEDERATION:
        return instance
    province = province_of_client(caller.client_id)
    if province is not None:
        return province
    if claimed is not None and _INSTANCE_NAME.match(claimed):
        return claimed
    return caller.client_id


def authorise_caller(
    operation: OperationSpec, caller: Caller, *, path_params: Mapping[str, str], query: Query
) -> Query:
    """The query to send on (a bound tenant's list is narrowed to its organisation), or 403."""
    if operation.callers == "any" or caller.is_bus_client:
        return query
    if operation.callers == "system":
        raise SystemCallersOnly(
            f"{operation.id} is called by the bus's own systems only, not by client "
            f"{caller.client_id}."
        )
    organisation = caller.grant.organisation
    if organisation is None:
        if caller.grant.is_admin:
            return query
        raise OrganisationRequired(
            f"{operation.id} acts for an organisation: client {caller.client_id} is bound to "
            "none (lgsp clients create --organisation AGENCY_ID)."
        )
    where, _, name = (operation.organisation or "").partition(".")
    if where == "body":  # read once the body is: `authorise_body`
        return query
    if where == "path":
        if not names_organisation(path_params.get(name, ""), organisation):
            raise OrganisationMismatch(
                f"Client {caller.client_id} acts for {organisation}, not for this {name}."
            )
        return query
    named = [value for key, value in query if key == name]
    if not named:  # a list without the filter: only the caller's organisation's items
        return (*query, (name, organisation))
    if any(value != organisation for value in named):
        raise OrganisationMismatch(
            f"Client {caller.client_id} acts for {organisation}, not for {name}={named[0]!r}."
        )
    return query


def authorise_target(
    operation: OperationSpec, caller: Caller, *, instance: str, target: str | None
) -> None:
    """403 for an admin bound to no organisation calling an `organisation` operation of another
    province: its standing is its own instance's. Past this hop the caller is NDXP's federation
    client, which every check lets through, so this hop is the only one that can refuse."""
    if (
        target is None
        or target == instance
        or operation.callers != "organisation"
        or caller.is_bus_client
        or caller.grant.organisation is not None
    ):
        return
    raise OrganisationRequired(
        f"{operation.id} acts for an organisation of {target}: client {caller.client_id} is an "
        f"admin of {instance} bound to none, which acts for {instance} only (lgsp clients "
        "create --organisation AGENCY_ID)."
    )


def authorise_central(
    operation: OperationSpec,
    caller: Caller,
    *,
    instance: str,
    national: bool,
    path_params: Mapping[str, str],
    query: Query,
) -> None:
    """403 at a province instance for an `organisation` operation acting for a central body
    (a G code: VPCP's national inbox): a tenant bound to one, or an admin naming one. A central
    body belongs to no province, so its clients are the national instance's; past this hop the
    call carries the federation's credentials, which the axis checks by origin only. An edXML
    body naming one is the axis's to refuse (its origin is a province's)."""
    if national or operation.callers != "organisation" or caller.is_bus_client:
        return
    organisation = caller.grant.organisation
    acting = [organisation] if organisation is not None else _named(operation, path_params, query)
    central = next((organ for organ in acting if _CENTRAL_ORGAN_ID.match(organ)), None)
    if central is not None:
        raise OrganisationMismatch(
            f"{operation.id} acts for {central}, a central body, which belongs to no province: "
            f"client {caller.client_id} of {instance} cannot act for it (a central body's "
            "clients are the national instance's: lgsp clients create --instance ndxp "
            "--organisation AGENCY_ID)."
        )


def _named(operation: OperationSpec, path_params: Mapping[str, str], query: Query) -> list[str]:
    """The organisations a call names in its query or path (a dossier code's agency id)."""
    where, _, name = (operation.organisation or "").partition(".")
    if where == "path":
        return [path_params.get(name, "").partition("-")[0]]
    if where == "query":
        return [value for key, value in query if key == name]
    return []


def authorise_body(
    operation: OperationSpec,
    caller: Caller,
    *,
    body: bytes,
    content_type: str | None,
    agencies: Container[str],
) -> None:
    """For an operation whose organisation is in the body (`body.organ_id`): a bound tenant's
    body must name its own (a document it sends, a status report, a recall); and a DocumentId
    the body declares may name no agency of the bus's `agencies`, nor a central body (a G
    code), but its sender: the tenant's organisation, or for an admin bound to none the sender
    its body names (an admin acts for every agency of its instance, but as one at a time: taken
    by another, a DocumentId blocks its agency's own document). `authorise_caller` ran first,
    so an unbound tenant has been refused already, unless an admin."""
    where, _, name = (operation.organisation or "").partition(".")
    organisation = caller.grant.organisation
    if where != "body" or caller.is_bus_client:
        return
    claims = _claims_in_body(body, content_type, name)
    if claims is None:
        return  # the operation's reader refuses it (422), as it would an admin's
    named, document_id = claims
    if organisation is not None and named != organisation:
        raise OrganisationMismatch(
            f"Client {caller.client_id} acts for {organisation}; the body does not name it."
        )
    sender = organisation or named
    claimed = None if document_id is None else document_id_organ(document_id)
    if sender is None or claimed is None or claimed == sender:
        return  # a body naming no sender is the reader's to refuse
    if claimed in agencies or _CENTRAL_ORGAN_ID.match(claimed):
        raise OrganisationMismatch(
            f"Client {caller.client_id} sends as {sender}; the DocumentId names {claimed}. A "
            "document is known by its DocumentId ({From/OrganId},{date},{number}/{notation}, "
            "QCVN 102), so one naming another agency of the bus, or a central body, would take "
            "the place of that agency's own document."
        )


_READ_AS_THE_READERS_DO = frozenset({"application/json", "application/xml", "text/xml"})
"""Media types whose bodies the operations' readers parse as `_claims_in_body` does (json.loads,
the edXML codec): a body unreadable here is unreadable there, and refused there as malformed."""


def _claims_in_body(
    body: bytes, content_type: str | None, name: str
) -> tuple[str | None, str | None] | None:
    """The JSON member `name` (dotted: a nested one, `from.organ_id`), or an edXML document's
    sender or status message's reporter (From/OrganId): what the qlvb adapter reads them from;
    and the DocumentId the body declares (`document_id`, MessageHeader/DocumentId). The codec
    only notes a DocumentId that names another agency than the sender, as the real axis takes
    the SDK's samples, whose DocumentId names VPCP (FIDELITY §2); but a bound tenant may not
    claim the DocumentId of an agency the bus serves: it would pre-empt that agency's next
    document (security review 2026-12). None for what the body does not name.

    None for a body labelled JSON or XML that is not (or JSON that is no object): the reader
    of the operation refuses it as malformed (422), which says more than "the body does not
    name" the caller's organisation (a 403 a bound tenant got for a typo). Under another label
    an unreadable body names no one: the check stands."""
    media = (content_type or "").partition(";")[0].strip().lower()
    unreadable = None if media in _READ_AS_THE_READERS_DO else (None, None)
    try:
        if media in ("application/xml", "text/xml"):
            return read_claims(body)
        value: object = json.loads(body)
    except (ValueError, RecursionError, InvalidEdxml):
        return unreadable
    if not isinstance(value, dict):
        return unreadable
    document_id = value.get("document_id")
    for member in name.split("."):
        value = value.get(member) if isinstance(value, dict) else None
    return (
        value if isinstance(value, str) else None,
        document_id if isinstance(document_id, str) else None,
    )


def names_organisation(value: str, organisation: str) -> bool:
    """Whether `value` is the organisation's: its id, or a dossier code, which begins with its
    agency's id (`{agencyId}-{yyMMdd}-{NNNN}`, mocks/dvc). Public so that a door that writes a
    batch checks every entry by the same rule before the first write (`opencps_door`)."""
    return value == organisation or value.startswith(organisation + "-")
