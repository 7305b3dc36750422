"""The identifiers Vietnamese e-government systems exchange, as the patterns that check them.

Each is a fact of the real formats (DOMAIN.md §8.2), so the gateway's contracts and the mock
systems check one spelling. Patterns are anchored strings, as pydantic's `pattern` takes them;
digits are ASCII only, because `\\d` also matches other scripts' digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

ORGAN_ID = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$"
"""An organ id (mã định danh, QĐ 20/2020), strict: `000.00.07.H33`."""

ORGAN_ID_LENIENT = r"^[0-9]{2,3}\.[0-9]{2,3}\.[0-9]{2}\.[A-Z][0-9]{2}$"
"""The lenient form DVCQG payloads are seen with (two or three digits in the first groups)."""

CENTRAL_ORGAN_ID = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.G[0-9]{2}$"
"""A central body's organ id: its level-1 code is G and two digits (DOMAIN.md §6.2: "G only on
VPCP and other central codes"; FIDELITY-2026.md §2: G for central bodies)."""

DOSSIER_CODE = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4,5}$"
"""MaHoSo: `{organ id}-{yyMMdd}-{4 or 5 digits}`."""

PROCEDURE_CODE = r"^[1-3]\.[0-9]{6}((\.000\.00\.00)?\.[A-Z][0-9]{2})?$"
"""MaTTHC: the national code, optionally with a province's suffix, long (`1.001193.000.00.00.H33`)
or short (`1.012784.H21`, as Gia Lai's iGate writes newer procedures; FIDELITY-2026.md §1)."""

ID_TYPES: Mapping[str, str] = MappingProxyType({"cccd": "1", "cmnd": "2"})
"""DinhDanhCHS.LoaiDinhDanh (DOMAIN.md §4.2) of each kind of identity number."""

ID_NUMBER = r"^[0-9]{9}([0-9]{3})?$"
"""DinhDanhCHS.SoDinhDanh, of either kind; `ID_NUMBER_DIGITS` says which length is whose."""

ID_NUMBER_DIGITS: Mapping[str, int] = MappingProxyType({"1": 12, "2": 9})
"""A SoDinhDanh's digits by its LoaiDinhDanh: a CCCD (1) has 12, a CMND (2) 9."""


def procedure_code_forms(national_code: str, letter_code: str) -> tuple[str, str, str]:
    """The spellings of one procedure under a province's level-1 code, as `PROCEDURE_CODE`
    reads them: national (`1.001193`), long (`1.001193.000.00.00.H01`) and short
    (`1.001193.H01`). Every reader of a MaTTHC resolves it with these, so none accepts a form
    another refuses."""
    long_form = f"{national_code}.000.00.00.{letter_code}"
    return national_code, long_form, f"{national_code}.{letter_code}"
