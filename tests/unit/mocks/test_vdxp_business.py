"""The national axis relays a revocation, update or replacement (Bussiness/BussinessDocType
1/2/3, DOMAIN.md §3.3) under the DocumentId of a document it carried: a message of its own,
forwarded once to each province of its recipients, after the document on that province's line.
A true duplicate stays a no-op; another body under a used DocumentId stays 409."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from formats.edxml import render_edxml
from formats.xmldsig import sign_edxml
from mocks.directory.agencies import SUCCESSORS
from mocks.vdxp.identity import beyond_recipients
from mocks.vdxp.sdk import sha256
from tests.fixtures import signing
from tests.fixtures.handovers import HandoverBus
from tests.unit.mocks.test_qlvb_app import assert_fail, assert_ok, document_id, make_document
from tests.unit.mocks.test_qlvb_business import business, replacement
from tests.unit.mocks.test_vdxp_app import (
    BT_STP,
    TG_STP,
    fx_axis,
    submit,
    trail,
)

pytestmark = pytest.mark.anyio
__all__ = ["fx_axis"]  # the fixture `axis`, used by name


async def test_a_revocation_is_forwarded_once_to_each_province_after_its_document(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP, BT_STP), number="4001")
    assert_ok(await submit(axis, render_edxml(document), key="edoc:kiengiang:4001"))
    data = render_edxml(business(document, 1, subject="V/v thu hồi"))

    answer = assert_ok(await submit(axis, data, key="edoc:kiengiang:4001-r"))
    again = assert_ok(await submit(axis, data, key="edoc:kiengiang:4001-r2"))

    assert (answer["Duplicate"], again["Duplicate"]) == (False, True)
    assert (answer["BusinessType"], answer["ContentSha256"]) == (1, sha256(data))
    assert answer["DocumentId"] == document_id(document)
    relayed = handovers.handed[2:]
    doc_id = document_id(document)
    assert [(m.target_instance, m.ordering_key, m.body) for m in relayed] == [
        ("binhthuan", f"edoc:{doc_id}:binhthuan", data),
        ("tiengiang", f"edoc:{doc_id}:tiengiang", data),
    ]
    assert len({m.idempotency_key for m in handovers.handed}) == 4  # each message its own key
    (change,) = (await trail(axis, document))["Business"]
    assert (change["BusinessType"], change["ContentSha256"]) == (1, sha256(data))
    assert [d["Instance"] for d in change["Destinations"]] == ["binhthuan", "tiengiang"]


async def test_an_update_and_a_replacement_are_messages_of_their_own(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="4002")
    assert_ok(await submit(axis, render_edxml(document)))

    for kind in (2, 3):
        answer = assert_ok(await submit(axis, render_edxml(business(document, kind))))
        assert (answer["Duplicate"], answer["BusinessType"]) == (False, kind)

    assert len(handovers.handed) == 3
    assert [c["BusinessType"] for c in (await trail(axis, document))["Business"]] == [2, 3]


async def test_concurrent_deliveries_of_one_revocation_forward_it_once(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="4003")
    assert_ok(await submit(axis, render_edxml(document)))
    data = render_edxml(business(document, 1))

    answers = await asyncio.gather(*(submit(axis, data) for _ in range(6)))

    assert sorted(assert_ok(a)["Duplicate"] for a in answers) == [False] + [True] * 5
    assert len(handovers.handed) == 2


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        pytest.param({"subject": "V/v nội dung khác"}, 409, "DOCUMENT_CONFLICT",
                     id="a-new-document-under-a-used-id"),
        pytest.param(  # its DocumentId names another agency: refused before the ledger's look
            {"business": {"business_doc_type": 1, "paper": 0},
             "from": {"organ_id": "000.00.02.H33", "organ_name": "Sở khác"}},
            403, "DOCUMENT_ID_OF_ANOTHER_AGENCY",
            id="a-revocation-by-another-agency",
        ),
    ],
)  # fmt: skip
async def test_another_body_under_a_used_document_id_is_still_a_conflict(
    axis: httpx.AsyncClient,
    engine: AsyncEngine,
    handovers: HandoverBus,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    document = make_document(to=(TG_STP,), number="4004")
    assert_ok(await submit(axis, render_edxml(document)))
    other = {**document, **change, "document_id": document_id(document)}

    assert_fail(await submit(axis, render_edxml(other)), status, code)

    assert len(handovers.handed) == 1


def re_signed(message: dict[str, Any]) -> bytes:
    """`message` as its sender signs it now: other bytes, what its recipients read unchanged."""
    signer = signing.signer()
    return sign_edxml(render_edxml(message), key=signer.key, chain=[signer.certificate])


def retyped_place(message: dict[str, Any]) -> bytes:
    """`message` with its place of promulgation retyped: other bytes, the same DocumentId and
    what its recipients read unchanged."""
    return render_edxml(
        {**message, "promulgation": {**message["promulgation"], "place": "TP Rạch Giá"}}
    )


@pytest.mark.parametrize(
    "again", [pytest.param(re_signed, id="re-signed"), pytest.param(retyped_place, id="retyped")]
)
async def test_a_business_message_sent_again_with_other_bytes_is_not_relayed_again(
    axis: httpx.AsyncClient,
    engine: AsyncEngine,
    handovers: HandoverBus,
    again: Callable[[dict[str, Any]], bytes],
) -> None:
    """Known by what its recipients read, as the provinces know it (code review: the axis keyed
    it by its SHA-256, and relayed a re-signed revocation to the other province again)."""
    document = make_document(to=(TG_STP,), number="4005")
    assert_ok(await submit(axis, render_edxml(document)))
    revocation = business(document, 1)
    first = assert_ok(await submit(axis, render_edxml(revocation)))

    second = assert_ok(await submit(axis, again(revocation)))

    assert (first["Duplicate"], second["Duplicate"]) == (False, True)
    assert second["ContentSha256"] == first["ContentSha256"]  # the message as first taken
    assert len(handovers.handed) == 2  # the document and its revocation, once each
    assert len((await trail(axis, document))["Business"]) == 1


async def test_a_document_sent_again_re_signed_is_a_duplicate_not_a_conflict(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="4006")
    first = assert_ok(await submit(axis, render_edxml(document)))

    again = assert_ok(await submit(axis, re_signed(document)))

    assert (first["Duplicate"], again["Duplicate"]) == (False, True)
    assert len(handovers.handed) == 1


async def test_a_replacement_under_a_number_of_its_own_is_relayed_as_a_message_of_what_it_replaces(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    replaced = make_document(to=(TG_STP,), number="4007")
    assert_ok(await submit(axis, render_edxml(replaced)))
    data = render_edxml(replacement(make_document(to=(TG_STP,), number="4008"), replaced))

    answer = assert_ok(await submit(axis, data))
    again = assert_ok(await submit(axis, data))

    assert (answer["BusinessType"], answer["DocumentId"]) == (3, document_id(replaced))
    assert (answer["Duplicate"], again["Duplicate"]) == (False, True)
    (change,) = (await trail(axis, replaced))["Business"]
    assert (change["BusinessType"], change["ContentSha256"]) == (3, sha256(data))
    doc_id = document_id(replaced)  # on the replaced document's line: it arrives after it
    assert [(m.target_instance, m.ordering_key, m.body) for m in handovers.handed[1:]] == [
        ("tiengiang", f"edoc:{doc_id}:tiengiang", data)
    ]


@pytest.mark.parametrize("kind", [pytest.param(1, id="revocation"), pytest.param(2, id="update")])
async def test_a_revocation_or_update_goes_to_the_documents_recipients_only(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, kind: int
) -> None:
    """Code review 2026-12: a revocation could name an organisation the document never reached,
    and the axis relayed it there, a revocation of a document it never had."""
    document = make_document(to=(TG_STP,), number=f"403{kind}")
    assert_ok(await submit(axis, render_edxml(document)))
    stranger = {"organ_id": BT_STP, "organ_name": "Sở Tư pháp tỉnh Bình Thuận"}
    widened = business(document, kind, to=[*document["to"], stranger])

    refused = await submit(axis, render_edxml(widened))
    taken = assert_ok(await submit(axis, render_edxml(business(document, kind))))

    assert assert_fail(refused, 422, "NOT_A_RECIPIENT_OF_DOCUMENT")["OrganIds"] == [BT_STP]
    assert (taken["BusinessType"], taken["Duplicate"]) == (kind, False)
    assert [m.target_instance for m in handovers.handed] == ["tiengiang", "tiengiang"]
    (change,) = (await trail(axis, document))["Business"]
    assert change["To"] == [TG_STP]


async def test_a_replacement_may_go_beyond_the_documents_recipients(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    """A replacement is a document of its own, whose recipients its sender chooses."""
    document = make_document(to=(TG_STP,), number="4035")
    assert_ok(await submit(axis, render_edxml(document)))
    stranger = {"organ_id": BT_STP, "organ_name": "Sở Tư pháp tỉnh Bình Thuận"}

    taken = await submit(axis, render_edxml(business(document, 3, to=[*document["to"], stranger])))

    assert assert_ok(taken)["BusinessType"] == 3


def test_the_body_of_today_succeeding_a_recipient_may_be_sent_its_revocation() -> None:
    """A revocation sent since the 2025 merger must address the successor of a closed body."""
    closed = next(iter(SUCCESSORS))
    today = SUCCESSORS[closed].organ_id

    assert beyond_recipients(1, [today, TG_STP], [closed]) == [TG_STP]
    assert beyond_recipients(2, [closed], [closed]) == []
    assert beyond_recipients(3, [TG_STP], [closed]) == []
