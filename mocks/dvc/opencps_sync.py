"""The portal's sync to the national portal in the OpenCPS dialect, as OpenCPS's one does.

A portal configured with `bus_dialect = "opencps"` does not hand its syncs to the bus's
store-and-forward (`sync.py`): it speaks the DVCQG adapter protocol at its LGSP's door,
`{bus_url}/opencps` (DOMAIN.md §2.3; `VietOpenCPS/opencps-v2`, `DVCQGIntegrationActionImpl`).
That protocol answers at once, so, as OpenCPS keeps its `DossierSync` queue, each change is
queued in the portal's own table (`NationalSync`) in the change's transaction and sent
afterwards by a loop of the portal's lifespan:

- `POST /auth {username, password}` with the header `dstcode` answers a session (once per round);
- `TraCuuHoSo` says whether the national portal has the dossier, and `DongBoHoSoMC` sends it
  with `isUpdating` accordingly (`syncDossierAndDossierStatus`);
- `"0"` is synced; `"3"`/`"-3"` with "đã tồn tại" (the Thanh Hóa client's reading) means
  another send got there first: synced too; any other code, an HTTP error or no answer is a
  failure, retried with a doubling delay and reported (`failed`) after `MAX_ATTEMPTS`.
  A row's `attempts` counts the calls made, the delivering one included (as the bus's outbox
  counts a hand-over's): a change synced at the first call shows one.

Rows of one dossier are sent in order; a worker holds the rows it sends for `LEASE`, so the
portal's loops in several processes on one database never send one row twice at once.
The `dstcode` and `madonvi` the portal sends are its province's people's committee's organ id
(`000.00.00.{letter}`, assigned: no source gives a province's), under the level-1 code its era
gives it: today's province's in era 2026 (An Giang's H01 for Kiên Giang's portal), since the
bus refuses a code the 2025 merger closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from formats.dates import format_dvcqg_time
from mocks.bus import BusClient, BusUnavailable
from mocks.config import SystemConfig
from mocks.db import MockDatabase
from mocks.directory.admin_units import Era
from mocks.directory.agencies import agencies_of, find_agency
from mocks.dvc.models import Dossier, NationalSync
from mocks.dvc.schemas import dossier_json
from mocks.stateful import write_transaction
from mocks.store import given, paged

logger = logging.getLogger(__name__)

DOOR = "opencps"
"""The door of the dialect below the LGSP's base URL (`lgsp.dialects`: `{base}/opencps`)."""
OK = "0"
EXISTS = ("3", "-3")
EXISTS_TEXT = "đã tồn tại"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=1)
LAST_RETRY = timedelta(minutes=5)
LEASE = timedelta(seconds=60)
POLL_SECONDS = 2.0
BATCH = 20
MAX_MESSAGE = 500
_MOCK_ADDITIONS = ("DuLieuBieuMau", "TenTrangThaiHoSo", "HanhDongHopLe")


def opencps_item(dossier: Dossier, *, province_code: str) -> dict[str, Any]:
    """The dossier as OpenCPS's `createSyncDossierBodyRequest` writes it (DOMAIN.md §4.2):
    `DonViXuLy` the agency's name, contact fields, `HinhThuc`, and the lists."""
    item = dossier_json(dossier, province_code=province_code, full=False)
    for name in _MOCK_ADDITIONS:
        item.pop(name, None)
    agency = find_agency(dossier.agency_id)
    latest = dossier.progress[-1]
    return {
        **item,
        "DonViXuLy": agency.name if agency is not None else dossier.agency_id,
        "Fax": "",
        "ThongTinKhac": "",
        "ThongTinTra": "",
        "HinhThuc": "0",  # the result is handed over in person (every dossier of this portal)
        "GhiChu": latest.note,
        "TaiLieuNop": [
            {"TepDinhKemId": str(a.position), "TenTepDinhKem": a.name, "IsDeleted": "False"}
            for a in dossier.attachments
        ],
        "DanhSachLePhi": [],
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
    }


def queued_sync(
    dossier: Dossier, *, instance: str, province_code: str, request_id: str, now: datetime
) -> NationalSync:
    """The queue's row for the dossier's latest change, due at once."""
    return NationalSync(
        instance=instance,
        dossier_code=dossier.code,
        step=dossier.progress[-1].position,
        item=opencps_item(dossier, province_code=province_code),
        request_id=request_id[:128],
        state="pending",
        attempts=0,
        next_attempt_at=now,
    )


def portal_dstcode(province_code: str, *, era: Era) -> str:
    """The `dstcode` and `madonvi` the portal sends (assigned: its people's committee), in
    the province of its era (today's since 1 July 2025 in era 2026)."""
    return f"000.00.00.{agencies_of(province_code, era=era)[0].letter_code}"


class SyncFailed(Exception):
    """A call the protocol did not answer with success: its `error_code` (or `HTTP …`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message[:MAX_MESSAGE]


@dataclass(frozen=True)
class OpenCpsClient:
    """The portal's client of the DVCQG adapter protocol at its LGSP's door."""

    bus: BusClient
    username: str
    password: str
    dstcode: str

    async def login(self, request_id: str) -> str:
        answer = await self._post(
            "auth", {"username": self.username, "password": self.password}, request_id
        )
        session = answer.get("session")
        if not isinstance(session, str) or not session:
            raise SyncFailed(str(answer.get("error_code")), "the answer has no session")
        return session

    async def integrate(
        self, session: str, service: str, fields: dict[str, Any], request_id: str
    ) -> dict[str, Any]:
        body = {"session": session, "madonvi": self.dstcode, "service": service, **fields}
        return await self._post("integration", body, request_id)

    async def _post(self, endpoint: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        try:
            response = await self.bus.post_json(
                f"{DOOR}/{endpoint}", body, headers={"dstcode": self.dstcode}, request_id=request_id
            )
        except BusUnavailable as error:
            raise SyncFailed("HTTP", error.reason) from None
        answer = _json_object(response)
        if response.status_code != 200 or answer is None:
            raise SyncFailed(f"HTTP {response.status_code}", "the door gave no protocol answer")
        code = str(answer.get("error_code"))
        if code != OK:
            raise SyncFailed(code, str(answer.get("message", "")))
        return answer


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def send(client: OpenCpsClient, session: str, row: NationalSync) -> str | None:
    """`TraCuuHoSo`, then `DongBoHoSoMC`; None when synced, else the note kept ("-3 …")."""
    found = await client.integrate(
        session, "TraCuuHoSo", {"MaHoSo": row.dossier_code}, row.request_id
    )
    updating = bool(found.get("result"))
    fields = {"isUpdating": "True" if updating else "False", "data": [row.item]}
    try:
        await client.integrate(session, "DongBoHoSoMC", fields, row.request_id)
    except SyncFailed as refused:
        if updating or refused.code not in EXISTS or EXISTS_TEXT not in refused.message:
            raise
        return f"{refused.code} {refused.message}"  # created meanwhile: synced all the same
    return None


@dataclass(eq=False)
class NationalSyncer:
    """The loop that sends the portal's queued syncs; `kick` after a commit sends at once."""

    sessions: async_sessionmaker[AsyncSession]
    client: OpenCpsClient
    _: KW_ONLY
    instance: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    poll_seconds: float = POLL_SECONDS
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def kick(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                while await self.sync_due():
                    pass
            except Exception:  # the loop outlives a bad round (a database hiccup): logged
                logger.exception("national sync round of %s failed", self.instance)

    async def sync_due(self) -> int:
        """Send the rows due now, at most `BATCH`; answers how many were taken."""
        rows = await self._claim()
        if not rows:
            return 0
        try:
            session = await self.client.login(rows[0].request_id)
        except SyncFailed as failure:
            for row in rows:
                await self._record(row, failure=failure)
            return 0  # the next round waits: the door refused the portal itself
        for row in rows:
            try:
                note = await send(self.client, session, row)
            except SyncFailed as failure:
                await self._record(row, failure=failure)
            else:
                await self._record(row, note=note)
        return len(rows)

    async def _claim(self) -> list[NationalSync]:
        now = self.clock()
        async with write_transaction(self.sessions) as session:
            pending = (
                await session.scalars(
                    select(NationalSync)
                    .where(NationalSync.instance == self.instance, NationalSync.state == "pending")
                    .order_by(NationalSync.id)
                    .limit(BATCH * 5)
                )
            ).all()
            seen: set[str] = set()
            claimed = []
            for row in pending:
                if row.dossier_code in seen:
                    continue  # a dossier's later change waits for its earlier one
                seen.add(row.dossier_code)
                if row.next_attempt_at > now or (row.lease_until and row.lease_until > now):
                    continue
                taken = await session.execute(
                    update(NationalSync)
                    .where(
                        NationalSync.id == row.id,
                        or_(NationalSync.lease_until.is_(None), NationalSync.lease_until <= now),
                    )
                    .values(lease_until=now + LEASE)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(row)
                if len(claimed) == BATCH:
                    break
        return claimed

    async def _record(
        self, row: NationalSync, *, failure: SyncFailed | None = None, note: str | None = None
    ) -> None:
        now = self.clock()
        values: dict[str, Any] = {"lease_until": None}
        if failure is None:  # the delivering call counts, as the bus's outbox counts it
            values |= {"state": "synced", "synced_at": now, "attempts": row.attempts + 1}
            if note is not None:
                values |= {"error_code": note.split(" ", 1)[0], "message": note[:MAX_MESSAGE]}
        else:
            attempts = row.attempts + 1
            delay = min(FIRST_RETRY * 2 ** (attempts - 1), LAST_RETRY)
            values |= {
                "attempts": attempts,
                "error_code": failure.code[:16],
                "message": failure.message,
                "state": "failed" if attempts >= MAX_ATTEMPTS else "pending",
                "next_attempt_at": now + delay,
            }
            log = logger.error if attempts >= MAX_ATTEMPTS else logger.warning
            # The dossier's code and the protocol's code: no personal data.
            log(
                "national sync of %s step %d refused (%s), attempt %d",
                row.dossier_code,
                row.step,
                failure.code,
                attempts,
            )
        async with write_transaction(self.sessions) as session:
            await session.execute(
                update(NationalSync).where(NationalSync.id == row.id).values(**values)
            )


@asynccontextmanager
async def running_syncer(
    config: SystemConfig, bus: BusClient, database: MockDatabase, *, province_code: str
) -> AsyncIterator[NationalSyncer]:
    """The portal's loop for its lifespan, stopped at shutdown (a row it was sending stays
    leased, and is sent again once the lease ends)."""
    secret = config.bus_client_secret
    client = OpenCpsClient(
        bus,
        username=config.bus_client_id or "",
        password=secret.get_secret_value() if secret is not None else "",
        dstcode=portal_dstcode(province_code, era=config.era),
    )
    syncer = NationalSyncer(database.sessions, client, instance=config.instance)
    task = asyncio.create_task(syncer.run(), name=f"dvc national sync {config.instance}")
    try:
        yield syncer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def page_of_syncs(
    session: AsyncSession, *, instance: str, state: str | None, page: int, size: int
) -> tuple[list[NationalSync], int]:
    """The queue's rows of `instance`, newest first, optionally in one state; and their count."""
    statement = (
        select(NationalSync)
        .where(NationalSync.instance == instance, *given((NationalSync.state, state)))
        .order_by(NationalSync.id.desc())
    )
    rows, total = await paged(session, statement, page=page, size=size)
    return list(rows.scalars()), total


def sync_json(row: NationalSync) -> dict[str, Any]:
    """One row as `GET /api/dongbo` reports it (mock addition; no personal data)."""
    return {
        "MaHoSo": row.dossier_code,
        "ThuTu": row.step,
        "TrangThaiDongBo": row.state,
        "SoLanLoi": row.attempts - (row.state == "synced"),  # the calls refused
        "SoLanGui": row.attempts,  # mock addition: every call made, the delivering one too
        "MaLoi": row.error_code,
        "ThongBao": row.message,
        "LanGuiTiepTheo": format_dvcqg_time(row.next_attempt_at)
        if row.state == "pending"
        else None,
        "ThoiDiemDongBo": format_dvcqg_time(row.synced_at),
    }
