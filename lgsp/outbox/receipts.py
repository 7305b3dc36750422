"""What the outbox keeps of a delivered message's body: its SHA-256 and size, not the body.

A body may hold personal data (a dossier's applicant, full name and CCCD), and once the recipient
has acknowledged it nothing needs it again: a delivered message cannot be re-driven, and a
hand-over sent again is matched by digest. So the update that marks a message delivered also
writes this receipt over its body (`store.mark_delivered`); a pending or dead message keeps its
body for the next attempt or a re-drive. A receipt sits in the body column itself, so that
databases made before it need no new column (there are no migrations yet).
"""

from __future__ import annotations

import hashlib
import re

from lgsp.outbox.models import OutboxMessage, OutboxState

_RECEIPT = re.compile(rb"delivered sha256=([0-9a-f]{64}) bytes=([0-9]+)")


def receipt(body: bytes) -> bytes:
    """What a delivered message keeps in place of `body`."""
    return b"delivered sha256=%s bytes=%d" % (hashlib.sha256(body).hexdigest().encode(), len(body))


def body_facts(message: OutboxMessage) -> tuple[int, str]:
    """The size and SHA-256 (hex) of the body as it was handed over, delivered or not. A row
    delivered before receipts existed still holds its body, and is measured as it is."""
    if message.state == OutboxState.DELIVERED.value:
        kept = _RECEIPT.fullmatch(message.body)
        if kept is not None:
            return int(kept.group(2)), kept.group(1).decode()
    return len(message.body), hashlib.sha256(message.body).hexdigest()


def same_body(message: OutboxMessage, body: bytes) -> bool:
    """Whether `body` is the body `message` was handed over with."""
    return body_facts(message) == (len(body), hashlib.sha256(body).hexdigest())
