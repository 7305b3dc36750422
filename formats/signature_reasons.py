"""Why a signature is not valid: the reasons `formats.xmldsig.check_signature` gives.

A module of their own, so that the gateway's adapters, which pass a document system's verdict
on and drop a reason they do not know, read the one list without loading lxml and signxml
(`formats.xmldsig` does) at the bus's start.
"""

from __future__ import annotations

from typing import Literal, get_args

SignatureReason = Literal[
    "missing",  # no Signature in edXMLHeader
    "malformed",  # not XML-DSig (the SDK samples' own), or no certificate in KeyInfo
    "unsupported",  # an algorithm outside the verifier's list
    "tampered",  # the signed bytes were changed
    "untrusted",  # the certificate is not issued by a trusted root
    "expired",  # the certificate was not valid at the time of the check
    "revoked",  # the certificate's serial is on its CRL
    "revocation_undetermined",  # its issuer's CRLs are none current (RFC 5280 §6.3.3)
    "signer_not_sender",  # the certificate's agency (UID) is not the From the signature covers
    "signer_unidentified",  # the certificate names no agency (no UID): the signer is unknown
]
SIGNATURE_REASONS: tuple[SignatureReason, ...] = get_args(SignatureReason)
