"""The clients instances hold on each other: each LGSP on NDXP, and NDXP on each LGSP.

Real LGSPs are registered on NDXP by hand, and their keys exchanged out of band. Here every
process of a deployment shares one secret (`LGSP_FEDERATION_SECRET`) and derives each pair's
client secret from it, so that processes with separate databases agree without talking first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

NDXP_CLIENT_ID = "ndxp"
"""NDXP's client on every LGSP: calls it forwards to a province arrive as this client."""


def province_client_id(province: str) -> str:
    """A province's client on NDXP: the LGSP forwards its callers' calls as this client."""
    return f"lgsp-{province}"


def province_of_client(client_id: str) -> str | None:
    """The province whose LGSP `client_id` is at NDXP (`lgsp-kiengiang` → `kiengiang`)."""
    province = client_id.removeprefix("lgsp-")
    return province if province != client_id and province else None


def federation_secret(shared_secret: str, *, instance: str, client_id: str) -> str:
    """The secret of `client_id` on `instance`, the same in every process that shares the key."""
    digest = hmac.new(
        shared_secret.encode(), f"{instance}\x00{client_id}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
