"""A body labelled `application/json` that is not JSON (an edXML document sent with the wrong
Content-Type) is refused the same way by every operation: 422, the operation's own code for a
bad body, and `errors` with `type: json_invalid` — what the gateway answers for any body it
cannot decode (`lgsp.errors`, FastAPI's `json_invalid`) and the portal for a dossier. Another
media type altogether is 415 UNSUPPORTED_MEDIA_TYPE."""

from __future__ import annotations

from datetime import date

import pytest

from adapters import UnsupportedMediaType
from adapters._dvc_requests import InvalidDossierRequest
from adapters.dvc import DvcAdapter
from adapters.qlvb import QlvbAdapter
from formats.edxml import InvalidEdxml
from tests.unit.adapters.calls import dossier_call, refused
from tests.unit.adapters.test_qlvb_adapter import call

XML = b'<?xml version="1.0"?><edXML><edXMLEnvelope/></edXML>'


def test_an_edxml_body_labelled_json_is_refused_as_not_json() -> None:
    adapter = QlvbAdapter(today=lambda: date(2025, 6, 2))

    error = refused(
        lambda: adapter.to_system(call("send_document", XML, "application/json")), InvalidEdxml
    )

    assert (error.status, error.extensions["rule"]) == (422, "not_json")
    assert [(e["loc"], e["type"]) for e in error.extensions["errors"]] == [
        (["body"], "json_invalid")
    ]


def test_the_portal_refuses_the_same_body_with_the_same_error_type() -> None:
    adapter = DvcAdapter(today=lambda: date(2026, 3, 2))

    error = refused(
        lambda: adapter.to_system(dossier_call("create_dossier", body=XML)),
        InvalidDossierRequest,
    )

    assert error.status == 422
    assert [e["type"] for e in error.extensions["errors"]] == ["json_invalid"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_a_body_of_another_media_type_is_415(content_type: str) -> None:
    adapter = QlvbAdapter(today=lambda: date(2025, 6, 2))

    error = refused(
        lambda: adapter.to_system(call("send_document", XML, content_type)),
        UnsupportedMediaType,
    )

    assert error.status == 415
