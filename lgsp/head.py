"""HEAD on every GET resource of the bus, in one place (RFC 9110 §9.3.2: a server SHOULD
answer HEAD wherever it answers GET).

FastAPI's routes take only the methods they declare, so HEAD was 405 on `/healthz`, `/readyz`
and every GET route and service operation; health checks and `curl -I` send HEAD. A HEAD is
served as the GET it stands for, with the GET's header fields (`Content-Length` included,
RFC 9110 §9.3.2) and no content. Everything behind sees a GET: rights, faults, the audit log
and the journal record it as one, hash the representation it would have carried, and forward
it to the owner as a GET, so that no system has to answer HEAD itself. A path that takes no GET
answers HEAD as it answers GET: 405, naming in `Allow` the methods it takes.

The bus's first layer (`lgsp.middleware.EntryMiddleware`) calls it, rather than a layer of its
own: every request would pay for one more (issue 21). The function itself is `kit.head`'s, which
a mock system run as a process of its own uses too (`lgsp serve --system`).
"""

from __future__ import annotations

from kit.head import allow_header_with_head, allowed_with_head, served_as_get

__all__ = ["allow_header_with_head", "allowed_with_head", "served_as_get"]
