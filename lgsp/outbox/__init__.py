"""Store-and-forward: calls an instance must make later, kept in its database until delivered.

A system mounted in an instance writes a `DeferredCall` with `enqueue` in the same transaction as
the change that caused it (a dossier status change, a document for another province), as a real
system's VDXP SDK keeps its own queue. The instance's worker delivers each message through the
gateway on behalf of the system's client, with retries and back-off, until the recipient
acknowledges it or it becomes dead; recipients deduplicate on `Idempotency-Key`.
"""

from lgsp.outbox.producer import DeferredCall, enqueue

__all__ = ["DeferredCall", "enqueue"]
