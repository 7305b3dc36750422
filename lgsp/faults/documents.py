"""Faults of trust on an edXML document passing the bus (issue 17): what a recipient's system
must catch, made on the document's way, before the call that carries it.

- `corrupt_signature`: the XML-DSig SignatureValue with its last byte changed, every other
  byte as sent, so the recipient finds the signature `tampered`;
- `expired_certificate`: the signature replaced by one of the same signer (organ id and name
  from the original certificate, else the edXML `From`) under a certificate the bus's test CA
  issues for the purpose, valid from two years to one year ago: the recipient finds it
  `expired`.

Both act on a status message as on a document (its From, the reporter, stands in for a signer
no certificate names). A body that is not a signed edXML message (JSON, a status query) passes
unchanged. The fault
is an audit hop either way; its response hash is the hash of the body sent on.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta

from cryptography import x509
from lxml import etree

from formats.edxml import NAMESPACE, InvalidEdxml, read_edxml, read_status
from formats.xmldsig import DSIG, sign_edxml
from lgsp.ca.authority import organ_id_of
from lgsp.ca.store import CertificateAuthority

_SIGNATURE_VALUE = re.compile(
    rb"(<(?:[A-Za-z_][\w.-]*:)?SignatureValue\b[^>]*>)([A-Za-z0-9+/=\s]{4,8192})(</)"
)
EXPIRED_FOR = timedelta(days=365)


def corrupt_signature(body: bytes) -> bytes | None:
    """`body` with its first SignatureValue changed; None when it has none to change."""
    found = _SIGNATURE_VALUE.search(body)
    if found is None:
        return None
    try:
        value = bytearray(base64.b64decode(b"".join(found.group(2).split()), validate=True))
    except (binascii.Error, ValueError):
        return None
    if not value:
        return None
    value[-1] ^= 0x01
    changed = base64.b64encode(bytes(value))
    return body[: found.start(2)] + changed + body[found.end(2) :]


def expired_certificate(body: bytes, ca: CertificateAuthority, *, now: datetime) -> bytes | None:
    """`body` signed again under an expired certificate; None when it is no edXML message."""
    if not _is_edxml(body):  # hostile XML (DTDs, entities, sizes) stops here, as at the adapter
        return None
    # Bounded by the guard above; a large attachment is one text node past libxml2's default.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return None
    header = root.find(f"{{{NAMESPACE}}}edXMLEnvelope/{{{NAMESPACE}}}edXMLHeader")
    if header is None:
        return None
    organ_id, name = _signer(header)
    if organ_id is None:
        return None
    for signature in header.findall(f"{{{DSIG}}}Signature"):
        header.remove(signature)
    unsigned: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    issued = ca.issue(
        organ_id,
        name,
        now=now,
        not_before=now - 2 * EXPIRED_FOR,
        not_after=now - EXPIRED_FOR,
    )
    return sign_edxml(unsigned, key=issued.key, chain=[issued.certificate, ca.root(now=now)])


def _signer(header: etree._Element) -> tuple[str | None, str]:
    """The organ id and name of the original signer, else of the message's sender."""
    text = header.findtext(f"{{{DSIG}}}Signature/{{{DSIG}}}KeyInfo/{{{DSIG}}}X509Data/"
                           f"{{{DSIG}}}X509Certificate")  # fmt: skip
    if text:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
        except ValueError:
            cert = None
        if cert is not None and (organ_id := organ_id_of(cert)) is not None:
            names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            return organ_id, str(names[0].value) if names else organ_id
    sender = f"{{{NAMESPACE}}}MessageHeader/{{{NAMESPACE}}}From/{{{NAMESPACE}}}"
    organ_id = (header.findtext(sender + "OrganId") or "").strip()[:32]
    name = (header.findtext(sender + "OrganName") or organ_id).strip()[:200]
    return organ_id or None, name


def _is_edxml(body: bytes) -> bool:
    """Whether `body` is an edXML document or status message the codec reads."""
    for reader in (read_edxml, read_status):
        try:
            reader(body)
        except InvalidEdxml:
            continue
        return True
    return False
