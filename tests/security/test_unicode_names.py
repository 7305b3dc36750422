"""Vietnamese names compare after Unicode normalisation wherever the bus compares them.

A name typed on macOS arrives decomposed (NFD), on Windows precomposed (NFC): both spell the
same name and must match, while a name without its diacritics is another name. The provincial
citizen database is covered in `tests/e2e/test_dancu_service.py`; here are the other places a
name is compared: the national register through NDXP, and the portal checking an applicant.
QLVB compares no names (organisations are matched by their codes), and the procedure search is
accent-insensitive by design (`tests/unit/mocks/test_dvc_procedures.py`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import httpx
import pytest

from formats.dates import parse_ddmmyyyy
from lgsp.settings import Settings
from mocks.dancu.seed import CitizenRecord, generate_citizens
from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

Spelling = Callable[[str], str]


def nfd_upper(name: str) -> str:
    return unicodedata.normalize("NFD", name.upper())


def without_diacritics(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


SPELLINGS: list[tuple[Spelling, bool]] = [(nfd_upper, True), (without_diacritics, False)]


@pytest.fixture(name="citizen")
def fx_citizen(settings: Settings) -> CitizenRecord:
    """A Kiên Giang citizen born before 2000 whose name has diacritics (most have)."""
    citizens = generate_citizens(province_code="91", seed=settings.seed, count=settings.population)
    return next(
        c
        for c in citizens
        if parse_ddmmyyyy(c.ngay_thang_nam_sinh).year < 2000
        and without_diacritics(c.ho_va_ten) != c.ho_va_ten
    )


Respelled = tuple[dict[str, str], bool]


@pytest.fixture(name="respelled", params=SPELLINGS, ids=["nfd-upper", "no-diacritics"])
def fx_respelled(request: pytest.FixtureRequest, citizen: CitizenRecord) -> Respelled:
    """The citizen's identity with the name spelled another way, and whether it must match."""
    spelling, match = request.param
    return claim(citizen, spelling(citizen.ho_va_ten)), match


def claim(citizen: CitizenRecord, full_name: str) -> dict[str, str]:
    return {
        "cccd": citizen.so_dinh_danh,
        "full_name": full_name,
        "date_of_birth": parse_ddmmyyyy(citizen.ngay_thang_nam_sinh).isoformat(),
    }


async def test_the_national_register_compares_names_after_nfc(
    client: httpx.AsyncClient, demo_token: str, respelled: Respelled
) -> None:
    applicant, match = respelled
    response = await client.post(
        f"{KG}/csdlqgdc/v1/citizens/verify", json=applicant, headers=bearer(demo_token)
    )

    assert response.status_code == 200, response.text
    assert response.json()["match"] is match


async def test_the_portal_verifies_an_applicant_after_nfc(
    client: httpx.AsyncClient, demo_token: str, respelled: Respelled
) -> None:
    applicant, match = respelled
    dossier = {
        "procedure_code": "1.004222.000.00.00.H33",
        "applicant": applicant,
        "summary": "Đăng ký thường trú",
        "contact": {"email": "congdan@example.vn", "phone": "0912345678"},
        "form_data": {},
    }

    response = await client.post(f"{KG}/dvc/v1/dossiers", json=dossier, headers=bearer(demo_token))

    if match:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "APPLICANT_NOT_VERIFIED"
