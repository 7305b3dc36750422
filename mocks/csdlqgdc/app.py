"""The national population database (CSDLQG về dân cư) as a system of its own, on NDXP.

It answers exactly as a provincial citizen database does (`mocks.dancu.app`: the same routes,
the national database's legacy JSON in the NGSP envelope, the same error codes), so the `dancu`
adapter serves it and an integrator meets one contract, nationally or in a province. The
difference is whom it knows: every province of the topology (`NationalRegister`).

Routes, as in `mocks.dancu.app`:
- `POST /api/congdan/xac-thuc` — XacThucThongTinCongDan: `{TonTai, TruongKhongKhop}`
- `GET  /api/congdan/{SoDinhDanh}` — one citizen
- `GET  /api/congdan/{SoDinhDanh}/ho` — the citizen's household
- `GET  /api/congdan?trang&soBanGhi` — citizens, province after province
- `GET  /api/ho/{MaHo}` — one household
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from formats.cccd import Cccd
from formats.dates import parse_ddmmyyyy
from mocks.config import NO_TELEMETRY, SystemConfig
from mocks.csdlqgdc.register import NationalRegister
from mocks.dancu import api
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.dancu.store import VERIFIED_FIELDS, CitizenStore
from mocks.directory.units import PROVINCES

logger = logging.getLogger(__name__)


def national_province_codes(config: SystemConfig) -> list[str]:
    """The provinces the register serves: the topology's with seed data (all, if none given).

    A province without seed data (a real citizen database at a URL) is left out with a
    warning: no seed says who lives there, and the rest of the country still answers.
    """
    wanted = sorted(config.provinces) or sorted(PROVINCES)
    missing = [code for code in wanted if code not in PROVINCES]
    if missing:
        logger.warning("no seeded citizens for province(s) %s: not served", ", ".join(missing))
    return [code for code in wanted if code in PROVINCES]


def create_app(
    config: SystemConfig, *, today: Callable[[], date] = api.today_in_vietnam
) -> FastAPI:
    """The national register of `config.provinces`, from `config.seed` and `config.population`.

    `today` decides which birth years lie in the future (CCCD check); tests pass a fixed day.
    """
    register = NationalRegister(
        national_province_codes(config),
        seed=config.seed,
        population=config.population,
        era=config.era,
    )
    app = FastAPI(
        title="Mock national population database (CSDLQGDC)",
        description="Legacy JSON in the NGSP envelope {error_code, message, data}, as every "
        "provincial citizen database answers.",
        telemetry=NO_TELEMETRY,
    )
    app.state.register = register  # for tests and diagnostics: which provinces are built
    api.install_error_handlers(app)

    def checked(so_dinh_danh: str) -> Cccd:
        return api.check_number(so_dinh_danh, today=today())

    @app.post("/api/congdan/xac-thuc", responses={400: api.ERROR_RESPONSES[400]})
    async def verify_citizen(claim: api.XacThucRequest) -> JSONResponse:
        """XacThucThongTinCongDan, nationally: answered as the provincial database answers.

        An unknown number gets the answer of a recorded one whose name and date both differ.
        """
        cccd = checked(claim.so_dinh_danh)
        try:
            born = parse_ddmmyyyy(claim.ngay_thang_nam_sinh)
        except ValueError:
            raise api.data_type_invalid("NgayThangNamSinh is not a dd/MM/yyyy date") from None
        found = await register.find(cccd.number)
        mismatched = (
            VERIFIED_FIELDS
            if found is None
            else found[1].mismatched_fields(
                cccd, ho_va_ten=claim.ho_va_ten, ngay_thang_nam_sinh=born
            )
        )
        return api.ANSWERS.ok({"TonTai": not mismatched, "TruongKhongKhop": list(mismatched)})

    async def recorded(so_dinh_danh: str) -> tuple[CitizenRecord, CitizenStore]:
        """The citizen and the province's store that holds them, or RECORD_NOT_FOUND."""
        checked(so_dinh_danh)
        found = await register.find(so_dinh_danh)
        if found is None:
            raise api.record_not_found()
        return found

    @app.get("/api/congdan/{so_dinh_danh}", responses=api.ERROR_RESPONSES)
    async def get_citizen(so_dinh_danh: str) -> JSONResponse:
        """One citizen, from whichever province's register holds the number."""
        citizen, store = await recorded(so_dinh_danh)
        return api.ANSWERS.ok(api.citizen_json(citizen, store, era=config.era))

    @app.get("/api/congdan/{so_dinh_danh}/ho", responses=api.ERROR_RESPONSES)
    async def get_citizen_household(so_dinh_danh: str) -> JSONResponse:
        """The household the citizen belongs to, as `/api/ho/{ma_ho}` serves it."""
        citizen, store = await recorded(so_dinh_danh)
        members = store.household(citizen.ma_ho)
        return api.ANSWERS.ok(api.household_json(citizen.ma_ho, members, store, era=config.era))

    @app.get("/api/congdan", responses=api.ERROR_RESPONSES)
    async def list_citizens(
        trang: Annotated[int, Query(ge=1, le=1_000_000, description="Page, from 1.")] = 1,
        so_ban_ghi: Annotated[
            int, Query(alias="soBanGhi", ge=1, le=api.MAX_PAGE_SIZE, description="Page size.")
        ] = 20,
    ) -> JSONResponse:
        """A page of citizens, province after province in code order; past the end, empty."""
        page = await register.page(number=trang, size=so_ban_ghi)
        return api.ANSWERS.ok(
            {
                "TongSo": len(register),
                "Trang": trang,
                "SoBanGhi": so_ban_ghi,
                "DanhSach": [
                    api.citizen_json(citizen, store, era=config.era) for citizen, store in page
                ],
            }
        )

    @app.get("/api/ho/{ma_ho}", responses=api.ERROR_RESPONSES)
    async def get_household(ma_ho: str) -> JSONResponse:
        """The members of one household, head first."""
        found = await register.household(ma_ho)
        if found is None:
            raise api.record_not_found()
        members, store = found
        return api.ANSWERS.ok(api.household_json(ma_ho, members, store, era=config.era))

    return app


def sample_numbers(config: SystemConfig, count: int) -> dict[str, list[str]]:
    """CCCD numbers to try nationally: the first citizens of each province, in turn."""
    codes = national_province_codes(config)
    if not codes or count < 1:
        return {}
    each = -(-count // len(codes))
    per_province = [
        generate_citizens(province_code=code, seed=config.seed, count=min(each, config.population))
        for code in codes
    ]
    numbers = [
        citizens[index].so_dinh_danh
        for index in range(each)
        for citizens in per_province
        if index < len(citizens)
    ]
    return {"cccd": numbers[:count]}
