"""Checkpoints of each instance's chain head, kept where the database cannot rewrite them.

`audit_heads` is a row like any other: whoever can write the database can delete the newest
records and copy an older record's hash into the head, or delete an instance's records and head
together, and the chain still links up (security probe F18). So the bus also appends, every
`LGSP_AUDIT_CHECKPOINT_SECONDS` and when it stops, each moved head to a file in its data dir: one
compact JWS a line (RFC 7515), signed with the instance's token key, naming the instance, `seq`
and `hash`. `lgsp audit verify` checks every line against the chain: a record that no longer
has the hash a checkpoint signed, or a checkpoint beyond the chain's end, is reported.

What this cannot see: records committed after the newest checkpoint (at most one interval's),
and a data dir rewritten together with the database.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jose import jws
from jose.exceptions import JWSError

from lgsp.audit.repository import ChainLink
from lgsp.auth.keys import InstanceKey

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "audit-checkpoints.jws"
"""In the data dir: appended to, never rewritten; one checkpoint a line."""
_ALGORITHMS = ["RS256"]


def checkpoint_path(data_dir: Path) -> Path:
    return data_dir / CHECKPOINT_FILE


@dataclass(frozen=True)
class Checkpoint:
    """A head as signed by the instance at `at`."""

    instance: str
    seq: int
    hash: str
    at: str
    line: int


@dataclass(frozen=True)
class BadCheckpoint:
    """A line that is not a checkpoint signed by a key of the instance it names."""

    instance: str | None
    line: int
    reason: str


def sign_checkpoint(instance: str, head: ChainLink, key: InstanceKey, *, now: datetime) -> str:
    """A compact RS256 JWS, signed here with `cryptography`: `jws.sign` would parse and check
    the PEM at every call (~80 ms of CPU), every second, for each instance."""
    header = {"alg": "RS256", "kid": key.kid, "typ": "lgsp-audit-checkpoint"}
    payload = {"instance": instance, "seq": head.seq, "hash": head.hash, "at": now.isoformat()}
    signing_input = f"{_b64_json(header)}.{_b64_json(payload)}".encode("ascii")
    signature = _private_key(key.private_pem).sign(
        signing_input, padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{signing_input.decode('ascii')}.{_b64(signature)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64_json(value: Mapping[str, object]) -> str:
    return _b64(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


@functools.lru_cache(maxsize=64)
def _private_key(private_pem: str) -> rsa.RSAPrivateKey:
    # The bus's own key, already loaded once from its database (`lgsp.auth.keys`).
    key = serialization.load_pem_private_key(
        private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("audit checkpoints are signed with the instance's RSA key")
    return key


def append_lines(path: Path, lines: Iterable[str]) -> None:
    """Append and fsync, in one `write` (each line is far below PIPE_BUF, and O_APPEND keeps the
    lines of several processes sharing the data dir whole). Blocking: run it in a thread."""
    text = "".join(f"{line}\n" for line in lines)
    if not text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoints(
    path: Path, public_keys: Callable[[str], Mapping[str, str]]
) -> tuple[list[Checkpoint], list[BadCheckpoint]]:
    """Every line of `path` checked against `public_keys(instance)` (kid → public PEM).

    A last line without its newline is a write the process did not finish (it died): skipped.
    """
    if not path.exists():
        return [], []
    good: list[Checkpoint] = []
    bad: list[BadCheckpoint] = []
    text = path.read_text(encoding="ascii", errors="replace")
    lines = text.split("\n")
    for number, line in enumerate(lines[:-1], start=1):  # the last piece: "" or unfinished
        if line.strip():
            checked = _checked(line, number, public_keys)
            if isinstance(checked, Checkpoint):
                good.append(checked)
            else:
                bad.append(checked)
    return good, bad


def _checked(
    line: str, number: int, public_keys: Callable[[str], Mapping[str, str]]
) -> Checkpoint | BadCheckpoint:
    try:
        claimed = json.loads(jws.get_unverified_claims(line))
        kid = jws.get_unverified_header(line).get("kid")
        instance, seq, digest, at = (
            claimed["instance"],
            claimed["seq"],
            claimed["hash"],
            claimed["at"],
        )
    except (JWSError, ValueError, KeyError, TypeError, AttributeError):
        return BadCheckpoint(None, number, "not a checkpoint")
    if not (isinstance(instance, str) and type(seq) is int and isinstance(digest, str)):
        return BadCheckpoint(None, number, "not a checkpoint")
    public_pem = public_keys(instance).get(str(kid))
    if public_pem is None:
        return BadCheckpoint(instance, number, f"signed by {kid!r}, no key of {instance}")
    try:
        jws.verify(line, public_pem, algorithms=_ALGORITHMS)
    except JWSError:
        return BadCheckpoint(instance, number, "signature is not valid: the line was edited")
    return Checkpoint(instance, seq, digest, str(at), number)


class Checkpointer:
    """Signs and appends the heads `committed()` reports that moved since the last checkpoint."""

    def __init__(
        self,
        path: Path,
        *,
        committed: Callable[[], Mapping[str, ChainLink]],
        keys: Callable[[str], InstanceKey | None],
        now: Callable[[], datetime],
    ) -> None:
        self.path = path
        self._committed = committed
        self._keys = keys
        self._now = now
        self._written: dict[str, ChainLink] = {}

    async def checkpoint(self) -> int:
        """Write one checkpoint per moved head; returns how many were written."""
        moved = {
            instance: head
            for instance, head in self._committed().items()
            if self._written.get(instance) != head
        }
        if not moved:
            return 0
        await asyncio.to_thread(self._write, moved)
        self._written.update(moved)
        return len(moved)

    def _write(self, moved: Mapping[str, ChainLink]) -> None:
        now = self._now()
        lines = []
        for instance, head in sorted(moved.items()):
            key = self._keys(instance)
            if key is not None:
                lines.append(sign_checkpoint(instance, head, key, now=now))
        append_lines(self.path, lines)

    async def run(self, interval: float) -> None:
        """Checkpoint every `interval` seconds until cancelled; failures are logged, not fatal."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.checkpoint()
            except OSError:
                logger.exception("audit checkpoint could not be written to %s", self.path)
