"""The test CA's files in the data dir: its root, what it issued and revoked, the added roots.

Files, not tables, because whoever holds the data dir holds the CA, as an HSM's owner does:
the folder is owner-only (0700) and every private key in it 0600. Every process of the bus
(workers, `lgsp ca …` beside a running bus) shares the one folder; changes are made under an
exclusive lock (`fcntl.flock` on `.lock`), each file written beside its place and renamed in.

    <data_dir>/ca/root.pem  root-key.pem        the root (created on first use)
    <data_dir>/ca/issued/<serial>.pem  .key     each issued certificate and its key
    <data_dir>/ca/revoked.json                  serial (hex) → when it was revoked
    <data_dir>/ca/roots/<sha256>.pem            other roots an admin added
    <data_dir>/ca/roots/<sha256>.crl            the CRLs one of them carries (PEM)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from formats.crl import TRUST_BUNDLE_MAX_BYTES, crls_in
from lgsp.auth import keys as auth_keys
from lgsp.ca.authority import (
    SIGNING_DAYS,
    Issued,
    certificate_pem,
    issue,
    key_pem,
    load_key,
    make_crl,
    make_root,
    organ_id_of,
)

FOLDER = "ca"
MAX_LISTED = 1000
"""Certificates listed at most (newest first): the listing stays bounded however many exist."""
MAX_ADDED_ROOTS = 100
OWN_ROOT_ROOM = 16 * 1024
"""What `trust_pem` keeps free of added roots and CRLs for this CA's own root."""


@dataclass(frozen=True)
class Record:
    """An issued certificate, and when it was revoked (None: it was not)."""

    certificate: x509.Certificate
    revoked_at: datetime | None

    @property
    def serial(self) -> str:
        return format(self.certificate.serial_number, "x")


class CertificateAuthority:
    """The CA of one data dir; the root is created, under the lock, the first time it is asked."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / FOLDER
        self._root: tuple[x509.Certificate, bytes] | None = None

    # --- the root -------------------------------------------------------------------------

    def root(self, *, now: datetime) -> x509.Certificate:
        return self._root_and_key(now=now)[0]

    def _root_and_key(self, *, now: datetime) -> tuple[x509.Certificate, bytes]:
        if self._root is None:
            with self._locked():
                if not (self.folder / "root.pem").exists():
                    key = load_key(auth_keys.generate_private_pem().encode())
                    self._write(self.folder / "root-key.pem", key_pem(key), secret=True)
                    root = make_root(key, now=now)
                    self._write(self.folder / "root.pem", certificate_pem(root))
            cert = x509.load_pem_x509_certificate((self.folder / "root.pem").read_bytes())
            self._root = (cert, (self.folder / "root-key.pem").read_bytes())
        return self._root

    # --- issuing ----------------------------------------------------------------------------

    def issue(
        self,
        organ_id: str,
        name: str,
        *,
        now: datetime,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key_pem_text: str | None = None,
    ) -> Issued:
        """A new key (or `key_pem_text`) and certificate for the organisation, kept."""
        root, root_pem = self._root_and_key(now=now)
        key = load_key((key_pem_text or auth_keys.generate_private_pem()).encode())
        certificate = issue(
            root,
            load_key(root_pem),
            key,
            organ_id=organ_id,
            name=name,
            not_before=not_before or now - timedelta(minutes=5),
            not_after=not_after or now + timedelta(days=SIGNING_DAYS),
        )
        serial = format(certificate.serial_number, "x")
        with self._locked():
            self._write(self.folder / "issued" / f"{serial}.key", key_pem(key), secret=True)
            self._write(self.folder / "issued" / f"{serial}.pem", certificate_pem(certificate))
        return Issued(certificate, key)

    def ensure_all(self, directory: Mapping[str, str], *, now: datetime) -> dict[str, Issued]:
        """For each organisation (organ id → name), its newest certificate still valid for a
        day and not revoked, else a new one: what a system provisioned at every start is handed.

        The new certificates of one call share one new key (assigned): a document system's
        agencies each get a certificate of their own, but the system holds one key, so a first
        start makes one RSA key per system rather than one per agency (40 keys took ~10 s on a
        loaded 2-core machine). An admin's `issue` always makes a key of its own."""
        found: dict[str, Issued] = {}
        keys: dict[str, rsa.RSAPrivateKey] = {}
        root = self.root(now=now)
        for record in self.records():
            cert, organ_id = record.certificate, organ_id_of(record.certificate) or ""
            usable = record.revoked_at is None and (
                cert.not_valid_before_utc <= now < cert.not_valid_after_utc - timedelta(days=1)
            )
            key_file = self.folder / "issued" / f"{record.serial}.key"
            if (
                organ_id in directory
                and organ_id not in found
                and usable
                and key_file.exists()
                and _issued_by(cert, root)  # not under a root replaced since
            ):
                pem = key_file.read_bytes()
                key = keys.get(pem.decode()) or keys.setdefault(pem.decode(), load_key(pem))
                found[organ_id] = Issued(cert, key)
        missing = [organ_id for organ_id in directory if organ_id not in found]
        if missing:
            shared = auth_keys.generate_private_pem()
            for organ_id in missing:
                found[organ_id] = self.issue(
                    organ_id, directory[organ_id], now=now, key_pem_text=shared
                )
        return found

    def records(self, *, organ_id: str | None = None) -> list[Record]:
        """Issued certificates, newest first (at most MAX_LISTED), with their revocations."""
        folder = self.folder / "issued"
        if not folder.is_dir():
            return []
        revoked = self.revoked()
        found = []
        for path in folder.glob("*.pem"):
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            if organ_id is None or organ_id_of(cert) == organ_id:
                found.append(Record(cert, revoked.get(cert.serial_number)))
        found.sort(key=lambda r: r.certificate.not_valid_before_utc, reverse=True)
        return found[:MAX_LISTED]

    def find(self, serial: int) -> Record | None:
        path = self.folder / "issued" / f"{serial:x}.pem"
        if not path.exists():
            return None
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        return Record(cert, self.revoked().get(serial))

    # --- revocation -----------------------------------------------------------------------

    def revoke(self, serial: int, *, now: datetime) -> datetime:
        """Revoke an issued certificate; revoking it again keeps the first time."""
        with self._locked():
            revoked = self._read_revoked()
            if serial not in revoked:
                revoked[serial] = now
                listed = {format(s, "x"): at.isoformat() for s, at in revoked.items()}
                self._write(self.folder / "revoked.json", json.dumps(listed).encode())
            return revoked[serial]

    def revoked(self) -> dict[int, datetime]:
        return self._read_revoked()

    def crl(self, *, now: datetime) -> x509.CertificateRevocationList:
        root, root_pem = self._root_and_key(now=now)
        return make_crl(root, load_key(root_pem), sorted(self.revoked().items()), now=now)

    def _read_revoked(self) -> dict[int, datetime]:
        path = self.folder / "revoked.json"
        if not path.exists():
            return {}
        listed = json.loads(path.read_bytes())
        return {int(s, 16): datetime.fromisoformat(at) for s, at in listed.items()}

    # --- other trusted roots ----------------------------------------------------------------

    def add_root(
        self, certificate: x509.Certificate, *, crls: Sequence[x509.CertificateRevocationList] = ()
    ) -> bool:
        """Trust another root (False: it already was), with `crls` (checked by the caller) in
        place of those it carried, if any are given."""
        path = self._root_path(certificate)
        with self._locked():
            added = not path.exists()
            if added and len(self.added_roots()) >= MAX_ADDED_ROOTS:
                raise ValueError(f"at most {MAX_ADDED_ROOTS} roots can be added")
            pem = certificate_pem(certificate)
            crl_path = path.with_suffix(".crl")
            pems = b"".join(crl.public_bytes(serialization.Encoding.PEM) for crl in crls)
            grows = (len(pem) if added else 0) + (len(pems) - _size(crl_path) if crls else 0)
            if self._added_bytes() + grows > TRUST_BUNDLE_MAX_BYTES - OWN_ROOT_ROOM:
                raise ValueError(
                    "ca/trust.pem would weigh more than the "
                    f"{TRUST_BUNDLE_MAX_BYTES // 1024} KiB the document systems read of it: "
                    "give fewer or smaller CRLs, or remove a root"
                )
            if crls:
                self._write(crl_path, pems)
            if added:
                self._write(path, pem)
        return added

    def _added_bytes(self) -> int:
        """What the added roots and their CRLs weigh in `trust_pem`."""
        folder = self.folder / "roots"
        return sum(_size(path) for path in folder.glob("*.*")) if folder.is_dir() else 0

    def root_crls(self, certificate: x509.Certificate) -> list[x509.CertificateRevocationList]:
        """The CRLs an added root carries (none for a root not added)."""
        path = self._root_path(certificate).with_suffix(".crl")
        return list(crls_in(path.read_text("ascii"))) if path.exists() else []

    def _root_path(self, certificate: x509.Certificate) -> Path:
        der = certificate.public_bytes(serialization.Encoding.DER)
        return self.folder / "roots" / f"{hashlib.sha256(der).hexdigest()}.pem"

    def added_roots(self) -> list[x509.Certificate]:
        folder = self.folder / "roots"
        if not folder.is_dir():
            return []
        return [
            x509.load_pem_x509_certificate(path.read_bytes())
            for path in sorted(folder.glob("*.pem"))
        ]

    def trust_pem(self, *, now: datetime) -> bytes:
        """Every root the document systems trust signers under: this CA's, then the added ones,
        then the CRLs the added ones carry (as `LGSP_TRUSTED_ROOTS_FILE` has them)."""
        added = self.added_roots()
        roots = b"".join(certificate_pem(cert) for cert in (self.root(now=now), *added))
        crls = b"".join(
            crl.public_bytes(serialization.Encoding.PEM)
            for root in added
            for crl in self.root_crls(root)
        )
        return roots + crls

    # --- files ----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @staticmethod
    def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
        """Written beside its place, then renamed in: a reader sees the old or the new file.
        Not fsynced: a test CA that loses its last certificate in a power cut issues another,
        and a first start writes some forty files."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secret else 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(draft, path)


def _issued_by(cert: x509.Certificate, root: x509.Certificate) -> bool:
    """Whether `root` signed `cert` (its name, then its signature)."""
    if cert.issuer != root.subject:
        return False
    try:
        cert.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
