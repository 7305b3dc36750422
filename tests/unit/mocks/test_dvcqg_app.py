"""The mock national portal (DVCQG): its own protocol, its idempotency, its national view.

Canonical calls go through the `dvcqg` adapter exactly as the gateway sends them (the
`Idempotency-Key` header passed on beside the adapter's request), and every answer is checked
against the published contract. The database is the shared `database_url`: SQLite, and
PostgreSQL too when LGSP_TEST_DATABASE_URL is set, so the concurrency tests run on both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.util import await_only

from adapters._dvc_requests import InvalidDossierRequest
from adapters.base import CanonicalRequest, SystemResponse, TranslationError
from adapters.dvc import DossierNotFound
from adapters.dvcqg import CONTRACTS, INTEGRATION_PATH, DvcqgAdapter
from formats.agency_codes import AgencyCodeClosed
from formats.dates import VIETNAM_TIME
from mocks.config import SystemConfig
from mocks.db import open_mock_database
from mocks.directory.agencies import COMMUNE_BODIES
from mocks.dvc.seed import seeded_dossier_codes
from mocks.dvcqg.app import MAX_BODY_BYTES, create_app
from mocks.dvcqg.models import DvcqgBase, NationalDossier, ProcessedRequest
from mocks.dvcqg.seed import sample_dossiers
from tests.fixtures.apps import serving
from tests.fixtures.clocks import Clock
from tests.fixtures.dossiers import residence_sync_dossier
from tests.fixtures.envelopes import envelope_error, envelope_error_message

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 2, 9, 0, tzinfo=VIETNAM_TIME)
CODE = "000.00.07.H33-260302-0001"
CCCD = "091089482999"
PROVINCES = {"91": "kiengiang", "82": "tiengiang"}
STATUS_OF_STEP = {1: 1, 2: 2, 3: 4, 4: 5, 5: 4, 6: 9, 7: 10}
ACTION_OF_STEP = {
    1: "submit",
    2: "receive",
    3: "start_processing",
    4: "request_supplement",
    5: "supplement_received",
    6: "complete",
    7: "return_result",
}


def sync(step: int, *, code: str = CODE, province: str = "91", **dossier: Any) -> dict[str, Any]:
    """The canonical sync of `step` of a residence dossier walking its whole lifecycle."""
    at = START + timedelta(hours=step)
    status = STATUS_OF_STEP[step]
    return {
        "province_code": province,
        "step": step,
        "dossier": {
            **residence_sync_dossier(code, CCCD),
            "status": status,
            "submitted_at": START.isoformat(),
            "received_at": (START + timedelta(hours=2)).isoformat() if step >= 2 else None,
            **dossier,
        },
        "progress": {
            "status": status,
            "at": at.isoformat(),
            "actor": f"Cán bộ {step}",
            "action": ACTION_OF_STEP[step],
        },
    }


class Portal:
    """A client of the mock that speaks canonical JSON through the adapter, as the gateway."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.adapter = DvcqgAdapter(today=lambda: START.date())

    async def call(
        self,
        operation: str,
        *,
        body: Any = None,
        code: str = CODE,
        query: tuple[tuple[str, str], ...] = (),
        key: str | None = None,
    ) -> Any:
        canonical = CanonicalRequest(
            operation,
            {"code": code},
            query=query,
            body=json.dumps(body, ensure_ascii=False).encode() if body is not None else b"",
            content_type="application/json" if body is not None else None,
        )
        sent = self.adapter.to_system(canonical)
        headers = dict(sent.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        response = await self.http.request(
            sent.method, sent.path, content=sent.body, headers=headers
        )
        answer = self.adapter.to_canonical(
            canonical, SystemResponse(response.status_code, response.content)
        )
        CONTRACTS[operation].response.model_validate(answer.content)  # extras forbidden
        return answer.content

    async def sync(self, body: dict[str, Any], key: str | None = "auto") -> dict[str, Any]:
        if key == "auto":
            key = f"dvcqg:{body['dossier']['code']}:{body['step']}"
        result: dict[str, Any] = await self.call("sync_dossier", body=body, key=key)
        return result

    async def national(self, code: str = CODE) -> dict[str, Any]:
        view: dict[str, Any] = await self.call("get_dossier", code=code)
        return view

    async def native(self, body: Any, *, key: str | bytes | None = None) -> httpx.Response:
        raw = key.encode() if isinstance(key, str) else key
        headers = [(b"Idempotency-Key", raw)] if raw is not None else []
        return await self.http.post(INTEGRATION_PATH, json=body, headers=headers)


def config_for(database_url: str, **changes: Any) -> SystemConfig:
    values: dict[str, Any] = {
        "instance": "ndxp",
        "seed": 7,
        "population": 45,
        "database_url": database_url,
        "provinces": PROVINCES,
        # The lifecycle's steps are hours after START, where the clock stands: a day's tolerance
        # for a progress entry dated ahead of it (the maximum), unless a test narrows it.
        "clock_skew_seconds": 86_400,
    }
    return SystemConfig(**{**values, **changes})


@asynccontextmanager
async def national_portal(config: SystemConfig, clock: Clock) -> AsyncIterator[Portal]:
    app = create_app(config, now=clock)
    async with serving(app, "http://dvcqg.test", raise_app_exceptions=False) as http:
        yield Portal(http)


@pytest.fixture(name="clock")
def fx_clock() -> Clock:
    return Clock(START)


@pytest.fixture(name="portal")
async def fx_portal(db_url: str, clock: Clock) -> AsyncIterator[Portal]:
    async with national_portal(config_for(db_url), clock) as portal:
        yield portal


def error_of(response: httpx.Response, status: int, error_code: str) -> str:
    """DVCQG's envelope carries `result` where the provinces' carry `data`."""
    return envelope_error_message(response, status, error_code, payload="result")


# --- what it knows at start ------------------------------------------------------------------


async def test_it_starts_knowing_each_provinces_seeded_dossiers(portal: Portal) -> None:
    for province, letter in (("91", "H33"), ("82", "H58")):
        page = await portal.call("list_dossiers", query=(("province", province), ("size", "100")))
        expected = seeded_dossier_codes(province_code=province, seed=7, population=45)
        assert sorted(item["code"] for item in page["items"]) == sorted(expected)
        assert all(item["code"].split("-")[0].endswith(letter) for item in page["items"])
    returned = await portal.call("list_dossiers", query=(("status", "result_returned"),))
    [dossier] = [d for d in returned["items"] if d["province_code"] == "91"]
    view = await portal.national(dossier["code"])
    assert [entry["status"]["code"] for entry in view["history"]] == [1, 2, 4, 5, 4, 9, 10]
    assert view["step"] == 7
    assert view["synced_at"] == view["history"][-1]["at"]  # a fixed timeline, not the clock


async def test_seeding_happens_once_and_only_for_provinces_it_has_seeds_for(
    db_url: str, clock: Clock
) -> None:
    config = config_for(db_url, provinces={**PROVINCES, "01": "hanoi"})
    async with national_portal(config, clock):
        pass
    async with national_portal(config, clock) as portal:
        page = await portal.call("list_dossiers")
        hanoi = await portal.call("list_dossiers", query=(("province", "01"),))

    assert page["total"] == 20
    assert hanoi["total"] == 0


async def test_without_a_topology_every_seeded_province_is_known(db_url: str, clock: Clock) -> None:
    async with national_portal(config_for(db_url, provinces={}), clock) as portal:
        page = await portal.call("list_dossiers")

    assert page["total"] == 50


# --- syncing ---------------------------------------------------------------------------------


async def test_a_new_dossier_is_created_with_its_first_entry(portal: Portal, clock: Clock) -> None:
    clock.now = START + timedelta(seconds=5)

    result = await portal.sync(sync(1))

    assert result == {
        "code": CODE,
        "national_step": 1,
        "outcome": "created",
        "progress_recorded": True,
        "duplicate": False,
    }
    view = await portal.national()
    assert (view["province_code"], view["step"], view["status"]["code"]) == ("91", 1, 1)
    assert view["synced_at"] == "2026-03-02T09:00:05+07:00"
    assert [(e["step"], e["action"], e["actor"]) for e in view["history"]] == [
        (1, "submit", "Cán bộ 1")
    ]
    assert view["applicant"]["identification"] == {"type": "cccd", "number_masked": "091*******99"}


async def test_each_later_step_moves_the_snapshot_on_and_adds_its_entry(portal: Portal) -> None:
    for step in range(1, 8):
        result = await portal.sync(sync(step))
        assert (result["outcome"], result["national_step"]) == (
            "created" if step == 1 else "updated",
            step,
        )

    view = await portal.national()
    assert (view["status"], view["step"]) == ({"code": 10, "name": "result_returned"}, 7)
    assert [entry["step"] for entry in view["history"]] == list(range(1, 8))
    assert view["received_at"] == "2026-03-02T11:00:00+07:00"


async def test_steps_out_of_order_keep_the_latest_snapshot_and_every_entry(
    portal: Portal,
) -> None:
    arrivals = [3, 1, 5, 2, 4]
    outcomes = [(await portal.sync(sync(step)))["outcome"] for step in arrivals]

    assert outcomes == ["created", "stale", "updated", "stale", "stale"]
    view = await portal.national()
    assert (view["step"], view["status"]["code"]) == (5, 4)
    assert [entry["step"] for entry in view["history"]] == [1, 2, 3, 4, 5]


async def test_the_same_step_again_without_a_key_changes_nothing(
    portal: Portal, clock: Clock
) -> None:
    await portal.sync(sync(1), key=None)
    clock.now += timedelta(minutes=5)

    again = await portal.sync(sync(1), key=None)

    assert (again["outcome"], again["progress_recorded"], again["duplicate"]) == (
        "unchanged",
        False,
        False,
    )
    view = await portal.national()
    assert len(view["history"]) == 1
    assert view["synced_at"] == START.isoformat()


async def test_a_repeated_key_replays_the_first_answer_and_applies_nothing(
    portal: Portal, clock: Clock, db_url: str
) -> None:
    first = await portal.sync(sync(1))
    clock.now += timedelta(minutes=5)

    again = await portal.sync(sync(1))

    assert again == {**first, "duplicate": True}
    assert (await portal.national())["synced_at"] == START.isoformat()
    async with open_mock_database(db_url, DvcqgBase.metadata) as database:
        async with database.sessions() as session:
            kept = (await session.execute(select(ProcessedRequest))).scalars().all()
    assert [(row.key, row.service) for row in kept] == [(f"dvcqg:{CODE}:1", "DongBoHoSoMC")]


async def test_a_key_reused_for_another_body_is_refused_and_applies_nothing(
    portal: Portal,
) -> None:
    await portal.sync(sync(1))

    with pytest.raises(TranslationError) as raised:
        await portal.sync(sync(2), key=f"dvcqg:{CODE}:1")

    assert (raised.value.code, raised.value.status) == ("IDEMPOTENCY_KEY_REUSED", 422)
    assert (await portal.national())["step"] == 1


async def test_a_refused_request_keeps_no_key_so_a_corrected_retry_applies(
    portal: Portal,
) -> None:
    await portal.sync(sync(1))
    key = "retry-me"

    with pytest.raises(TranslationError) as raised:
        await portal.sync(sync(2, province="82"), key=key)
    result = await portal.sync(sync(2), key=key)

    assert (raised.value.code, raised.value.status) == ("DOSSIER_OF_ANOTHER_PROVINCE", 409)
    assert (result["outcome"], result["duplicate"]) == ("updated", False)


async def test_concurrent_deliveries_of_one_key_apply_once(portal: Portal, db_url: str) -> None:
    results = await asyncio.gather(*(portal.sync(sync(1)) for _ in range(8)))

    assert sorted(result["duplicate"] for result in results) == [False] + [True] * 7
    assert {result["outcome"] for result in results} == {"created"}
    assert len((await portal.national())["history"]) == 1


async def test_concurrent_steps_of_a_new_dossier_all_land(portal: Portal) -> None:
    results = await asyncio.gather(*(portal.sync(sync(step)) for step in range(1, 8)))

    assert [result["outcome"] for result in results].count("created") == 1
    view = await portal.national()
    assert view["step"] == 7
    assert [entry["step"] for entry in view["history"]] == list(range(1, 8))


async def test_a_lookup_while_a_later_step_commits_shows_the_status_of_its_history(
    portal: Portal,
) -> None:
    """The next step commits right after the lookup's first statement has read the dossier,
    as a loaded machine let it (a CI run saw 2 entries under status 1)."""
    await portal.sync(sync(1))
    armed = [True]

    def sync_step_2_meanwhile(
        _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kw: Any
    ) -> None:
        reads_the_dossier = "FROM dvcqg_dossier" in statement and "FOR UPDATE" not in statement
        if armed[0] and reads_the_dossier and "dvcqg_processed_request" not in statement:
            armed[0] = False
            await_only(portal.sync(sync(2)))  # on the sync engine's greenlet: a real commit

    event.listen(Engine, "after_cursor_execute", sync_step_2_meanwhile)
    try:
        view = await portal.national()
    finally:
        event.remove(Engine, "after_cursor_execute", sync_step_2_meanwhile)

    assert not armed[0], "the step should have committed during the lookup"
    assert (view["status"]["code"], len(view["history"])) in {(1, 1), (2, 2)}


async def test_another_provinces_sync_cannot_overwrite_a_dossier(portal: Portal) -> None:
    await portal.sync(sync(1))

    with pytest.raises(TranslationError) as raised:
        await portal.sync(sync(2, province="82"))

    assert raised.value.code == "DOSSIER_OF_ANOTHER_PROVINCE"
    view = await portal.national()
    assert (view["province_code"], view["step"]) == ("91", 1)


async def test_a_dossier_never_synced_is_not_found(portal: Portal) -> None:
    with pytest.raises(TranslationError) as raised:
        await portal.national("000.00.07.H33-260302-0999")

    assert (raised.value.code, raised.value.status) == ("DOSSIER_NOT_FOUND", 404)


async def test_the_national_list_pages_filters_and_puts_recent_changes_first(
    portal: Portal, clock: Clock
) -> None:
    clock.now = datetime(2027, 1, 1, tzinfo=VIETNAM_TIME)
    await portal.sync(sync(1))
    await portal.sync(sync(1, code="000.00.07.H33-260302-0002"))

    newest = await portal.call("list_dossiers", query=(("size", "2"),))
    new = await portal.call("list_dossiers", query=(("status", "1"), ("province", "91")))
    pages = [
        await portal.call("list_dossiers", query=(("page", str(n)), ("size", "7")))
        for n in (1, 2, 3, 4)
    ]

    assert [item["code"] for item in newest["items"]] == ["000.00.07.H33-260302-0002", CODE]
    assert new["total"] == 3  # the two synced here and the seeded new one
    seen = [item["code"] for page in pages for item in page["items"]]
    assert len(seen) == len(set(seen)) == pages[0]["total"] == 22


# --- DVCQG's own protocol --------------------------------------------------------------------


def native_hoso(step: int = 1, **changes: Any) -> dict[str, Any]:
    """The `HoSo` the adapter writes for `sync(step)`."""
    adapter = DvcqgAdapter(today=lambda: date(2026, 3, 2))
    body = json.dumps(sync(step)).encode()
    sent = adapter.to_system(CanonicalRequest("sync_dossier", {}, (), body, "application/json"))
    [item] = json.loads(sent.body)["data"]
    item.update(changes)
    return dict(item)


async def test_insert_only_of_a_known_dossier_says_it_already_exists(portal: Portal) -> None:
    created = await portal.native(
        {"service": "DongBoHoSoMC", "isUpdating": "False", "data": [native_hoso()]}
    )
    again = await portal.native(
        {"service": "DongBoHoSoMC", "isUpdating": "False", "data": [native_hoso(2)]}
    )

    assert created.json()["result"][0]["KetQua"] == "TAO_MOI"
    assert "đã tồn tại" in error_of(again, 409, "-3")
    assert (await portal.national())["step"] == 1


async def test_a_batch_is_applied_whole_or_not_at_all(portal: Portal) -> None:
    await portal.sync(sync(1, code="000.00.07.H33-260302-0002"))
    other = native_hoso(code="000.00.07.H33-260302-0002")
    other["MaHoSo"] = "000.00.07.H33-260302-0002"
    other["TienTrinh"] = [{**e, "MaHoSo": other["MaHoSo"]} for e in other["TienTrinh"]]

    response = await portal.native(
        {"service": "DongBoHoSoMC", "isUpdating": "False", "data": [native_hoso(), other]}
    )

    error_of(response, 409, "-3")
    with pytest.raises(TranslationError):
        await portal.national()  # the first item was rolled back with the second


async def test_progress_entries_of_a_known_dossier_are_kept_once(portal: Portal) -> None:
    await portal.sync(sync(1))
    entry = native_hoso(2)["TienTrinh"][0]

    first = await portal.native({"service": "CapNhatTienDoHoSoMC", "data": [entry]})
    again = await portal.native({"service": "CapNhatTienDoHoSoMC", "data": [entry]})

    assert first.json()["result"] == [{"MaHoSo": CODE, "ThuTu": 2, "DaGhiNhan": True}]
    assert again.json()["result"] == [{"MaHoSo": CODE, "ThuTu": 2, "DaGhiNhan": False}]
    view = await portal.national()
    assert ([e["step"] for e in view["history"]], view["step"]) == ([1, 2], 1)


async def test_progress_of_a_dossier_never_synced_is_not_found(portal: Portal) -> None:
    entry = native_hoso(2)["TienTrinh"][0]

    response = await portal.native({"service": "CapNhatTienDoHoSoMC", "data": [entry]})

    assert CODE in error_of(response, 404, "-2")


async def test_lookup_of_a_dossier_never_synced_is_an_empty_success(portal: Portal) -> None:
    response = await portal.native({"service": "TraCuuHoSo", "MaHoSo": CODE})

    assert response.status_code == 200
    assert response.json() == {"error_code": "0", "message": "Thành công", "result": []}


async def test_a_progress_entry_alone_is_recorded_once_and_shows_in_the_national_view(
    portal: Portal,
) -> None:
    await portal.sync(sync(1))
    body = {"step": 2, "progress": {"status": 1, "at": START.isoformat(), "actor": "Cán bộ"}}

    first = await portal.call("record_progress", body=body)
    again = await portal.call("record_progress", body=body)

    assert first == {"code": CODE, "step": 2, "recorded": True}
    assert again == {"code": CODE, "step": 2, "recorded": False}
    view = await portal.national()
    assert [(e["step"], e["actor"]) for e in view["history"]] == [(1, "Cán bộ 1"), (2, "Cán bộ")]


async def test_a_progress_entry_of_a_dossier_never_synced_is_not_found(portal: Portal) -> None:
    body = {"step": 2, "progress": {"status": 1, "at": START.isoformat(), "actor": "Cán bộ"}}

    with pytest.raises(DossierNotFound):
        await portal.call("record_progress", body=body)


# --- nothing dated ahead of the clock ----------------------------------------------------------

SKEW = timedelta(seconds=300)  # SystemConfig.clock_skew_seconds' default, the documents'
LATER = START + timedelta(hours=8)  # the clock, once the lifecycle's steps are past


@pytest.fixture(name="strict_portal")
async def fx_strict_portal(db_url: str, clock: Clock) -> AsyncIterator[Portal]:
    """The portal with the documents' default tolerance, its clock after sync(1)'s entry."""
    clock.now = LATER
    async with national_portal(config_for(db_url, clock_skew_seconds=300), clock) as portal:
        yield portal


@pytest.mark.parametrize(
    ("ahead", "recorded"),
    [(SKEW, True), (SKEW + timedelta(seconds=1), False), (timedelta(days=26_500), False)],
    ids=["within-tolerance", "a-second-past-it", "decades-ahead"],
)
async def test_a_progress_entry_dated_ahead_of_the_clock_is_refused(
    strict_portal: Portal, ahead: timedelta, recorded: bool
) -> None:
    await strict_portal.sync(sync(1))
    at = (LATER + ahead).isoformat()
    body = {"step": 2, "progress": {"status": 2, "at": at, "actor": "Cán bộ"}}

    if recorded:
        assert (await strict_portal.call("record_progress", body=body))["recorded"] is True
    else:
        with pytest.raises(InvalidDossierRequest) as refused:
            await strict_portal.call("record_progress", body=body)
        assert [e["type"] for e in refused.value.extensions["errors"]] == ["future_dated"]
        assert refused.value.extensions["errors"][0]["loc"] == ["body", "progress", "at"]
    history = (await strict_portal.national())["history"]
    assert [e["step"] for e in history] == ([1, 2] if recorded else [1])


async def test_a_native_progress_batch_with_one_entry_ahead_records_none(
    strict_portal: Portal,
) -> None:
    await strict_portal.sync(sync(1))
    entry = native_hoso(2)["TienTrinh"][0]  # START + 2 h: past
    ahead = {**entry, "ThuTu": 3, "ThoiDiemXuLy": "20990705080600"}

    response = await strict_portal.native(
        {"service": "CapNhatTienDoHoSoMC", "data": [entry, ahead]}
    )

    body = envelope_error(response, 400, "-1", payload="result")
    assert body["message"].startswith("DU_LIEU_KHONG_HOP_LE: data[1].ThoiDiemXuLy")
    assert body["result"] == {"QuyTac": "future_dated", "TruongLoi": "data[1].ThoiDiemXuLy"}
    assert [e["step"] for e in (await strict_portal.national())["history"]] == [1]


async def test_a_dossier_synced_with_an_entry_ahead_is_not_created(strict_portal: Portal) -> None:
    response = await strict_portal.native(_sync_of(_with_entry(ThoiDiemXuLy="20990705080600")))

    message = envelope_error(response, 400, "-1", payload="result")["message"]
    assert "data[0].TienTrinh[0].ThoiDiemXuLy" in message
    with pytest.raises(DossierNotFound):
        await strict_portal.national()


async def test_a_later_entry_of_an_earlier_status_is_history_not_a_regression(
    portal: Portal,
) -> None:
    """A progress entry is what a step did, not the dossier's state: one with status 4 after the
    dossier reached 10 is recorded and leaves the status at 10, as a sync of an older step is
    taken as `stale` (out-of-order tolerant; DOMAIN.md §8.4's lifecycle is INFERENCE)."""
    for step in range(1, 8):
        await portal.sync(sync(step))
    body = {"step": 8, "progress": {"status": 4, "at": START.isoformat(), "actor": "Cán bộ"}}

    answer = await portal.call("record_progress", body=body)

    assert answer["recorded"] is True
    view = await portal.national()
    assert (view["status"]["code"], view["step"]) == (10, 7)


async def test_the_agencies_catalogue_is_the_directorys_in_opencps_names(portal: Portal) -> None:
    native = await portal.native({"service": "LayDanhMucCoQuan"})
    canonical = await portal.call("list_agencies", query=(("province", "82"),))

    rows = native.json()["result"]
    assert {row["MATINH"] for row in rows} == set(PROVINCES)
    assert {
        "MADONVI": "000.00.00.H33",
        "TENDONVI": "Ủy ban nhân dân tỉnh Kiên Giang",
        "CAPDONVI": "1",
        "MATINH": "91",
    } in rows
    assert {row["CAPDONVI"] for row in rows} == {"1", "2", "3"}  # era 2024 has districts
    assert {a["province_code"] for a in canonical["items"]} == {"82"}


async def test_in_era_2026_the_agencies_are_todays_and_a_code_of_today_covers_the_merged(
    db_url: str, clock: Clock
) -> None:
    config = config_for(db_url, era="2026", provinces={"93": "cantho", "91": "angiang"})
    async with national_portal(config, clock) as portal:
        every = (await portal.native({"service": "LayDanhMucCoQuan"})).json()["result"]
        cantho = await portal.call("list_agencies", query=(("province", "92"),))

    assert {row["MADONVI"].rpartition(".")[2] for row in every} == {"H14", "H01"}
    assert "2" not in {row["CAPDONVI"] for row in every}  # no district bodies since July 2025
    assert cantho["items"][0] == {
        "id": "000.00.00.H14",
        "name": "Ủy ban nhân dân thành phố Cần Thơ",
        "level": "province",
        "province_code": "92",  # today's code: 93 (Hậu Giang) was retired on 1 July 2025
    }
    assert {a["province_code"] for a in cantho["items"]} == {"92"}
    assert {row["MATINH"] for row in every} == {"92", "91"}


@pytest.mark.parametrize("era", ["2026", "2024"])
async def test_the_agencies_catalogue_lists_the_communes_bodies_that_receive_dossiers(
    db_url: str, clock: Clock, era: str
) -> None:
    """A commune-level dossier goes to the applicant's commune (`receiving_agency`), and the
    portal takes its sync: OpenCPS must find that body in the catalogue (README: every body)."""
    async with national_portal(config_for(db_url, era=era), clock) as portal:
        every = (await portal.native({"service": "LayDanhMucCoQuan"})).json()["result"]
        narrowed = await portal.call("list_agencies", query=(("province", "91"),))

    listed = {row["MADONVI"] for row in every}
    communes = {a.organ_id for code in PROVINCES for a in COMMUNE_BODIES[(era, code)]}
    assert communes <= listed
    ha_tien = "H01" if era == "2026" else "H33"
    assert {f"000.00.12.{ha_tien}", f"000.00.13.{ha_tien}"} <= {a["id"] for a in narrowed["items"]}


@pytest.mark.parametrize(
    ("code", "era", "letter", "codes"),
    [
        ("92", "2026", "H14", ["92", "93", "94"]),  # Cần Thơ today, holding ex-Hậu Giang
        ("93", "2024", "H30", ["93"]),  # retired: Hậu Giang as it was, with its bodies
        ("91", "2026", "H01", ["89", "91"]),  # a code of both eras: today's An Giang
    ],
)
async def test_the_agencies_read_a_province_code_as_the_dossiers_do(
    db_url: str, clock: Clock, code: str, era: str, letter: str, codes: list[str]
) -> None:
    config = config_for(db_url, era="2026", provinces={"93": "cantho", "91": "angiang"})
    async with national_portal(config, clock) as portal:
        agencies = await portal.call("list_agencies", query=(("province", code),))
        dossiers = await portal.call("list_dossiers", query=(("province", code),))

    read = {"province_era": era, "province_codes": codes}
    assert {k: agencies[k] for k in read} == {k: dossiers[k] for k in read} == read
    assert {a["id"].rpartition(".")[2] for a in agencies["items"]} == {letter}


@pytest.mark.parametrize("era", ["2026", "2024"])
@pytest.mark.parametrize("operation", ["list_agencies", "list_dossiers"])
async def test_a_province_code_of_neither_era_is_refused(
    db_url: str, clock: Clock, era: str, operation: str
) -> None:
    async with national_portal(config_for(db_url, era=era), clock) as portal:
        with pytest.raises(InvalidDossierRequest) as refused:
            await portal.call(operation, query=(("province", "99"),))

    [error] = refused.value.extensions["errors"]
    assert (error["loc"], error["type"]) == (["query", "province"], "unknown_province")


async def test_the_fields_catalogue_is_the_procedures_fields(portal: Portal) -> None:
    native = await portal.native({"service": "LayDanhMucLinhVuc"})
    canonical = await portal.call("list_fields")

    assert {"MALINHVUC": "Z00-HT01", "TENLINHVUC": "Hộ tịch"} in native.json()["result"]
    assert canonical["items"][0] == {"code": "Z00-HT01", "name": "Hộ tịch"}


@pytest.mark.parametrize(
    "query", [(("province", "9"),), (("province", "91"), ("province", "82")), (("province", "99"),)]
)
async def test_a_bad_agencies_query_is_refused(
    portal: Portal, query: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(InvalidDossierRequest):
        await portal.call("list_agencies", query=query)


async def test_a_bad_native_province_for_the_agencies_is_refused(portal: Portal) -> None:
    response = await portal.native({"service": "LayDanhMucCoQuan", "MaTinh": "9"})

    assert "MaTinh" in error_of(response, 400, "-1")


def _with_entry(**changes: Any) -> dict[str, Any]:
    item = native_hoso()
    item["TienTrinh"] = [{**item["TienTrinh"][0], **changes}]
    return item


def _sync_of(*items: dict[str, Any], updating: Any = "True") -> dict[str, Any]:
    return {"service": "DongBoHoSoMC", "isUpdating": updating, "data": list(items)}


INVALID = [
    pytest.param(b"{not json", "JSON", id="not-json"),
    pytest.param([1], "object", id="array"),
    pytest.param({"data": []}, "service", id="no-service"),
    pytest.param({"service": "XoaHoSo"}, "service", id="unknown-service"),
    pytest.param({"service": ["DongBoHoSoMC"]}, "service", id="service-list"),
    pytest.param(_sync_of(native_hoso(), updating=True), "isUpdating", id="updating-bool"),
    pytest.param(_sync_of(), "data", id="no-data"),
    pytest.param(_sync_of(*[native_hoso()] * 51), "data", id="51-items"),
    pytest.param(_sync_of(native_hoso(), native_hoso()), "twice", id="same-code-twice"),
    pytest.param(_sync_of(native_hoso(MaHoSo="H33-1")), "MaHoSo", id="code"),
    pytest.param(_sync_of(native_hoso(TrangThaiHoSo="11")), "TrangThaiHoSo", id="status-11"),
    pytest.param(_sync_of(native_hoso(TrangThaiHoSo=1)), "TrangThaiHoSo", id="status-int"),
    pytest.param(_sync_of(native_hoso(ThuTu=0)), "ThuTu", id="step-0"),
    pytest.param(_sync_of(native_hoso(ThuTu="1")), "ThuTu", id="step-text"),
    pytest.param(_sync_of(native_hoso(MaTinh="9")), "MaTinh", id="province"),
    pytest.param(_sync_of(native_hoso(NgayNopHoSo="20261302090000")), "NgayNopHoSo", id="month"),
    pytest.param(_sync_of(native_hoso(NgayNopHoSo="2026-03-02")), "NgayNopHoSo", id="iso"),
    pytest.param(_sync_of(native_hoso(MaLinhVuc=None)), "MaLinhVuc", id="field-half"),
    pytest.param(
        _sync_of(native_hoso(DinhDanhCHS=[{"LoaiDinhDanh": "2", "SoDinhDanh": CCCD}])),
        "SoDinhDanh",
        id="cmnd-of-12-digits",
    ),
    pytest.param(
        _sync_of(native_hoso(DinhDanhCHS=[{"LoaiDinhDanh": "1", "SoDinhDanh": CCCD[:9]}])),
        "SoDinhDanh",
        id="cccd-of-9-digits",
    ),
    pytest.param(_sync_of(_with_entry(MaHoSo="000.00.07.H33-260302-0009")), "MaHoSo", id="entry"),
    pytest.param(_sync_of(_with_entry(ThuTu=2)), "ThuTu", id="entry-after-snapshot"),
    pytest.param(_sync_of(_with_entry(TrangThai="0")), "TrangThai", id="entry-status"),
    pytest.param({"service": "TraCuuHoSo"}, "MaHoSo", id="lookup-without-code"),
    pytest.param({"service": "LayDanhSachHoSo", "SoBanGhi": 101}, "SoBanGhi", id="page-size"),
    pytest.param({"service": "CapNhatTienDoHoSoMC", "data": []}, "data", id="no-entries"),
]


@pytest.mark.parametrize(("body", "words"), INVALID)
async def test_an_invalid_request_is_refused_naming_the_field_never_the_value(
    portal: Portal, body: Any, words: str
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()

    response = await portal.http.post(
        INTEGRATION_PATH, content=raw, headers={"Content-Type": "application/json"}
    )

    message = error_of(response, 400, "-1")
    assert message.startswith("DU_LIEU_KHONG_HOP_LE: ")
    assert words in message
    assert CCCD not in message
    assert "Nguyễn" not in message


@pytest.mark.parametrize("key", ["has space", "", "x" * 201, "khóa".encode()])
async def test_an_unusable_idempotency_key_is_refused(portal: Portal, key: str | bytes) -> None:
    response = await portal.native(_sync_of(native_hoso()), key=key)

    assert "Idempotency-Key" in error_of(response, 400, "-1")
    assert (await portal.native({"service": "TraCuuHoSo", "MaHoSo": CODE})).json()["result"] == []


async def test_a_body_past_the_limit_is_refused_unread(portal: Portal) -> None:
    response = await portal.http.post(
        INTEGRATION_PATH,
        content=b" " * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )

    error_of(response, 413, "-1")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", INTEGRATION_PATH, 405), ("POST", "/api/other", 404), ("GET", "/", 404)],
)
async def test_other_routes_answer_in_the_envelope(
    portal: Portal, method: str, path: str, status: int
) -> None:
    error_of(await portal.http.request(method, path), status, "-1")


async def test_the_tables_are_its_own(db_url: str, portal: Portal) -> None:
    await portal.sync(sync(1))
    async with open_mock_database(db_url, DvcqgBase.metadata) as database:
        async with database.sessions() as session:
            count = (
                await session.execute(select(func.count()).select_from(NationalDossier))
            ).scalar()

    assert count == 21
    assert all(name.startswith("dvcqg_") for name in DvcqgBase.metadata.tables)


async def test_samples_name_dossiers_it_knows_taking_turns_between_provinces(
    portal: Portal, db_url: str
) -> None:
    samples = sample_dossiers(config_for(db_url), 4)["dossier"]

    assert [code.split("-")[0][-3:] for code in samples] == ["H58", "H33", "H58", "H33"]
    for code in samples:
        assert (await portal.national(code))["code"] == code
    assert sample_dossiers(config_for(db_url), 0) == {}


# --- agency codes closed by QĐ 09/2025 ------------------------------------------------------


async def test_in_era_2026_a_new_dossier_under_a_closed_agency_code_is_refused(
    db_url: str, clock: Clock
) -> None:
    """As the bus refuses a closed organ id everywhere (AGENCY_CODE_CLOSED, naming the body
    that succeeds it); nothing is written."""
    async with national_portal(config_for(db_url, era="2026"), clock) as portal:
        with pytest.raises(AgencyCodeClosed) as refused:
            await portal.sync(sync(1))
        with pytest.raises(DossierNotFound):
            await portal.national(CODE)

    assert refused.value.status == 422
    assert refused.value.extensions["organ_id"] == "000.00.07.H33"
    assert refused.value.extensions["successor_organ_id"] == "000.00.07.H01"
    assert refused.value.extensions["successor_province"] == "Tỉnh An Giang"


@pytest.mark.parametrize(
    ("agency", "code", "closed"),
    [
        ("000.00.07.H33", CODE, "000.00.07.H33"),  # both under Kiên Giang's closed code
        ("000.00.07.H01", CODE, "000.00.07.H33"),  # the code's prefix alone
        ("000.00.07.H33", "000.00.07.H01-260302-0001", "000.00.07.H33"),  # the agency alone
    ],
)
async def test_the_native_refusal_of_a_closed_agency_names_the_dossier_and_the_code(
    db_url: str, clock: Clock, agency: str, code: str, closed: str
) -> None:
    fine = native_hoso(MaHoSo="000.00.07.H01-260302-0009")
    fine["DonViXuLy"] = {**fine["DonViXuLy"], "MaDinhDanh": "000.00.07.H01"}
    fine["TienTrinh"] = [{**e, "MaHoSo": fine["MaHoSo"]} for e in fine["TienTrinh"]]
    item = native_hoso(MaHoSo=code)
    item["DonViXuLy"] = {**item["DonViXuLy"], "MaDinhDanh": agency}
    item["TienTrinh"] = [{**e, "MaHoSo": code} for e in item["TienTrinh"]]
    async with national_portal(config_for(db_url, era="2026"), clock) as portal:
        response = await portal.native(_sync_of(fine, item))
        written = await portal.native({"service": "TraCuuHoSo", "MaHoSo": fine["MaHoSo"]})

    body = envelope_error(response, 422, "-7", payload="result")
    assert body["message"].startswith(f"AGENCY_CODE_CLOSED: data[1]: {closed}: ")
    assert body["result"] == {
        "MaDinhDanh": closed,
        "NgayHoSo": "2026-03-02",
        "MaDinhDanhKeNhiem": "000.00.07.H01",
    }
    assert written.json()["result"] == []  # the batch is checked whole before any is written


@pytest.mark.parametrize(
    ("era", "code", "filed"),
    [
        ("2026", "000.00.07.H33-250602-0001", "2025-06-02T09:00:00+07:00"),  # before the merger
        ("2024", CODE, START.isoformat()),  # the world before it, whatever the date
    ],
)
async def test_a_dossier_under_a_closed_code_is_taken_before_the_merger_or_in_era_2024(
    db_url: str, clock: Clock, era: str, code: str, filed: str
) -> None:
    async with national_portal(config_for(db_url, era=era), clock) as portal:
        synced = await portal.sync(sync(1, code=code, submitted_at=filed))

    assert synced["outcome"] == "created"
