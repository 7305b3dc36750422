"""The WSO2 API-Manager dialect (Đà Nẵng, Cà Mau, NGSP; DOMAIN.md §2.1).

A caller gets an opaque token from `POST /token` (client credentials) and calls
`/{context}/{version}/{resource}` with `Authorization: Bearer <token>`; the gateway refuses in
API Manager's fault shape. Here each context maps onto an operation of the bus's catalog.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

TOKEN_TYPE = "Bearer"  # noqa: S105 - a scheme, no secret
DEFAULT_SCOPE = "default"
"""What API Manager answers for a token requested without scopes (pastebin.com/BY2tCH05)."""

VDXP_API = "/vdxp-product/1.0/"
"""Cà Mau's LGSP publishes the VDXP document axis as API `vdxp-product` 1.0
(NgoxHone/NextJS-LGSP, pages/api/SendEdoc.tsx and GetEdoc.tsx: `/vdxp-product/1.0/sendEdoc`,
`/vdxp-product/1.0/getEdoc`, a sendEdoc's headers holding `…=edoc…`, the SDK's messagetype).
Its resources are the axis's own operations, answered as the axis answers them
(`adapters.dialects.vdxpsdk`); only the authentication is API Manager's."""
VDXP_OPERATIONS = ("sendEdoc", "getReceivedEdocList", "getEdoc", "updateStatus", "getSentEdocList")
"""The axis's document operations the context offers, each a POST as the SDK sends it; any
other resource or method there is no resource (900906)."""


def vdxp_resource(relative: str) -> str | None:
    """The resource of a call under the VDXP context (`sendEdoc`), or None for another API."""
    return relative.removeprefix(VDXP_API) if relative.startswith(VDXP_API) else None


_VERSION = re.compile(r"(\d{1,3})\.0(?:\.0)?")
_OPAQUE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def bus_path(context: str, version: str, resource: str) -> tuple[str, str, str]:
    """The bus's `(service, version, path)` for an API call: the catalog's own service as a
    context with `N.0` (or `N.0.0`) for `vN` (assigned). Contexts with no service of the
    catalog behind them (`dldc/1.0.0`, `dmdc/1.0`) answer 900906 until the catalog has one."""
    major = _VERSION.fullmatch(version)
    return context, f"v{major.group(1)}" if major else version, resource


def opaque_token(authorization: str) -> str | None:
    """The token of `Authorization: Bearer <uuid>`, if it has the shape API Manager issues."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _OPAQUE.fullmatch(token):
        return None
    return token


REVOKE_PATH = "/revoke"
"""API Manager's revocation endpoint beside `/token` (apim.docs.wso2.com 3.2.0, "Revoking
access tokens": `POST /revoke` with `token=…` and the client's Basic credentials)."""
MAX_REVOKE_BODY = 8192
"""The bound of the bus's own token forms."""
_MAX_FIELDS = 20


@dataclass(frozen=True)
class RevocationForm:
    """A revocation request's form fields, and the opaque token among them, if it is one."""

    fields: tuple[tuple[str, str], ...]
    opaque: str | None

    def with_token(self, token: str) -> bytes:
        """The same form with `token` in place of the opaque one (for the core to revoke)."""
        return urlencode([(k, token if k == "token" else v) for k, v in self.fields]).encode()


def revocation_form(body: bytes) -> RevocationForm | None:
    """The form of `POST /revoke`, or None when it is no form to translate (the core then
    refuses it as it stands). `opaque` is set only for one `token` of the shape `/token`
    issues; RFC 6749 §3.2 allows no parameter twice."""
    try:
        fields = tuple(
            parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=_MAX_FIELDS,
            )
        )
    except (UnicodeDecodeError, ValueError):
        return None
    tokens = [v for k, v in fields if k == "token"]
    opaque = tokens[0] if len(tokens) == 1 and _OPAQUE.fullmatch(tokens[0]) else None
    return RevocationForm(fields, opaque)


def token_response(access_token: str, expires_in: int) -> dict[str, object]:
    return {
        "access_token": access_token,
        "scope": DEFAULT_SCOPE,
        "token_type": TOKEN_TYPE,
        "expires_in": expires_in,
    }


@dataclass(frozen=True)
class Fault:
    """An API Manager gateway fault (apim.docs.wso2.com 3.2.0, "Error Handling")."""

    code: int
    message: str
    description: str

    def body(self) -> bytes:
        fault = {"code": self.code, "message": self.message, "description": self.description}
        return json.dumps({"fault": fault}, ensure_ascii=False).encode()


MISSING_CREDENTIALS = Fault(
    900902,
    "Missing Credentials",
    "Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN'",
)
INVALID_CREDENTIALS = Fault(
    900901,
    "Invalid Credentials",
    "Make sure you have provided the correct security credentials",
)
RESOURCE_FORBIDDEN = Fault(
    900908,
    "Resource forbidden",
    "Access failure: the application is not subscribed to this API or resource",
)
THROTTLED = Fault(900800, "Message throttled out", "You have exceeded your quota")
NO_MATCHING_RESOURCE = Fault(
    900906, "No matching resource found for given API Request", "No matching resource found"
)


def gateway_fault(status: int, code: object) -> Fault | None:
    """The fault of what API Manager's gateway refuses before an API is reached (the token,
    the subscription, the throttling), for an API that answers in its own form (the VDXP
    context); None for the API's own answers (assigned: the bus's ACCESS_DENIED is the
    subscription's refusal)."""
    if status == 403 and code != "ACCESS_DENIED":
        return None
    return {401: INVALID_CREDENTIALS, 403: RESOURCE_FORBIDDEN, 429: THROTTLED}.get(status)


def fault_for(status: int, *, credentials_sent: bool) -> Fault | None:
    """API Manager's fault for the bus's answer, or None where it has none (the bus's own
    problem document stands)."""
    if status == 401:
        return INVALID_CREDENTIALS if credentials_sent else MISSING_CREDENTIALS
    return {403: RESOURCE_FORBIDDEN, 404: NO_MATCHING_RESOURCE, 429: THROTTLED}.get(status)
