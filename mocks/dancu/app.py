"""A provincial citizen database as a system of its own, answering in its legacy JSON.

Field names follow the national citizen database's JSON (`SoDinhDanh`, `HoVaTen`,
`NgayThangNamSinh` as dd/MM/yyyy, `ThuongTru{MaTinhThanh, …}`; DOMAIN.md §5.2, §8.5), and every
answer, errors included, is the NGSP envelope `{error_code, message, data}` with the codes of
the Quảng Bình NGSP guide (DOMAIN.md §2.1, §8.1): "0" success, "201" RECORD_NOT_FOUND, "302"
DATA_TYPE_INVALID. Integrators meet this shape behind real LGSPs; the gateway's adapter turns it
into canonical JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response

from formats.cccd import Cccd
from formats.dates import parse_ddmmyyyy
from formats.ngsp import envelope
from mocks.config import NO_TELEMETRY, SystemConfig
from mocks.dancu.api import (
    ANSWERS,
    ERROR_RESPONSES,
    MAX_PAGE_SIZE,
    XacThucRequest,
    check_number,
    citizen_json,
    data_type_invalid,
    household_json,
    install_error_handlers,
    record_not_found,
    refuse_malformed,
    today_in_vietnam,
)
from mocks.dancu.store import CitizenStore
from mocks.direct import DirectAnswer, DirectAnswers, DirectRoute, DirectRoutes, json_answer

RENDERED_CITIZENS = 1024
"""How many citizens' lookup answers are kept rendered, the most recently asked (some 6 kB each
with their documents: 6 MB at most): every citizen of the default population of 200."""


def create_app(config: SystemConfig, *, today: Callable[[], date] = today_in_vietnam) -> FastAPI:
    """The mock for `config.province_code`, its citizens generated from `config.seed`.

    `today` decides which birth years lie in the future (CCCD check); tests pass a fixed day.
    """
    if config.province_code is None:
        raise ValueError(f"instance {config.instance}: the dancu mock needs a province_code")
    store = CitizenStore.from_seed(
        province_code=config.province_code,
        seed=config.seed,
        count=config.population,
        era=config.era,
    )
    app = FastAPI(
        title=f"Mock citizen database ({config.province_name or config.province_code})",
        description="Legacy JSON in the NGSP envelope {error_code, message, data}.",
        telemetry=NO_TELEMETRY,
    )
    install_error_handlers(app)

    def checked(so_dinh_danh: str) -> Cccd:
        return check_number(so_dinh_danh, today=today())

    @app.post("/api/congdan/xac-thuc", responses={400: ERROR_RESPONSES[400]})
    async def verify_citizen(claim: XacThucRequest) -> JSONResponse:
        """XacThucThongTinCongDan: whether a citizen with exactly these details is recorded.

        `TonTai` is the real contract's answer; `TruongKhongKhop` (a mock addition) names the
        claimed fields that differ, never the recorded values. An unknown number gets the same
        answer as a recorded one whose name and date both differ, so that a caller cannot use
        this endpoint to find out which numbers exist. Names are compared after NFC, case
        folding and collapsing spaces; diacritics count.
        """
        cccd = checked(claim.so_dinh_danh)
        try:
            born = parse_ddmmyyyy(claim.ngay_thang_nam_sinh)
        except ValueError:
            raise data_type_invalid("NgayThangNamSinh is not a dd/MM/yyyy date") from None
        mismatched = store.mismatched_fields(
            cccd, ho_va_ten=claim.ho_va_ten, ngay_thang_nam_sinh=born
        )
        return ANSWERS.ok({"TonTai": not mismatched, "TruongKhongKhop": list(mismatched)})

    def citizen(so_dinh_danh: str) -> DirectAnswer:
        born, answer = rendered(so_dinh_danh)
        # A kept number was well formed and of a province; its birth year is checked against
        # today's on every lookup, by the whole check when it fails, for the same refusal.
        if born > today().year:
            refuse_malformed(so_dinh_danh, today=today())
        return answer

    @lru_cache(maxsize=RENDERED_CITIZENS)
    def rendered(so_dinh_danh: str) -> tuple[int, DirectAnswer]:
        """A citizen's birth year and answer, checked, built and rendered once: the store never
        changes, and checking, building and rendering were three quarters of the lookup's CPU
        (issue 21). The `document` is shared by every lookup of the number, as `json_answer`
        allows. A number refused or not found is not remembered."""
        born = refuse_malformed(so_dinh_danh, today=today())
        found = store.get(so_dinh_danh)
        if found is None:
            raise record_not_found()
        payload = citizen_json(found, store, era=config.era)
        answer = json_answer(envelope(payload, message=ANSWERS.success_message, key=ANSWERS.key))
        return born, answer

    @app.get("/api/congdan/{so_dinh_danh}", responses=ERROR_RESPONSES)
    async def get_citizen(so_dinh_danh: str) -> Response:
        """One citizen by the 12-digit personal identification number."""
        return citizen(so_dinh_danh).response()

    @app.get("/api/congdan/{so_dinh_danh}/ho", responses=ERROR_RESPONSES)
    async def get_citizen_household(so_dinh_danh: str) -> JSONResponse:
        """The household the citizen belongs to, as `/api/ho/{ma_ho}` serves it."""
        refuse_malformed(so_dinh_danh, today=today())
        members = store.household_of(so_dinh_danh)
        if not members:
            raise record_not_found()
        return ANSWERS.ok(household_json(members[0].ma_ho, members, store, era=config.era))

    @app.get("/api/congdan", responses=ERROR_RESPONSES)
    async def list_citizens(
        trang: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
        so_ban_ghi: Annotated[
            int, Query(alias="soBanGhi", ge=1, le=MAX_PAGE_SIZE, description="Page size.")
        ] = 20,
    ) -> JSONResponse:
        """A page of citizens in a stable order; past the last page, an empty list."""
        page = store.page(number=trang, size=so_ban_ghi)
        return ANSWERS.ok(
            {
                "TongSo": len(store),
                "Trang": trang,
                "SoBanGhi": so_ban_ghi,
                "DanhSach": [citizen_json(citizen, store, era=config.era) for citizen in page],
            }
        )

    @app.get("/api/ho/{ma_ho}", responses=ERROR_RESPONSES)
    async def get_household(ma_ho: str) -> JSONResponse:
        """The members of one household, head first."""
        members = store.household(ma_ho)
        if not members:
            raise record_not_found()
        return ANSWERS.ok(household_json(ma_ho, members, store, era=config.era))

    # The lookup integrators load-test, answered without FastAPI's routing (`mocks.direct`).
    lookup = DirectRoute("/api/congdan/{so_dinh_danh}", citizen)
    app.add_middleware(DirectRoutes, answers=DirectAnswers([lookup], ANSWERS))
    return app
