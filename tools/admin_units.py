"""Write `mocks/directory/admin_units.json`: the administrative units of both eras the bus uses,
taken from the national statistics office's list as packaged by `vietnamadminunits` (MIT).

Run it by hand after installing that package in your own environment; it is not a dependency
of the bus, which only reads the table this writes:

    .venv/bin/pip install vietnamadminunits==1.0.4
    .venv/bin/python tools/admin_units.py

The table holds every province of both eras (63 before 1 July 2025, 34 after), the province
conversion, the communes the seed uses (with their districts) and every ward or commune of
today that succeeds one of them, with the conversion in both directions. The package's SQLite
file and converter JSON are read directly, so that nothing of the package is imported.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mocks.directory.units import PROVINCES  # noqa: E402 - after the path is set

OUT = ROOT / "mocks" / "directory" / "admin_units.json"
# Successors the package lists that cannot be right, by old ward code. Mỹ Tho's "Phường 4"
# shares its name key with Cao Lãnh's, so the package has it split into Phường Cao Lãnh, a
# ward 60 km away in ex-Đồng Tháp; its default successor, Phường Đạo Thạnh, is in Mỹ Tho.
NOT_SUCCESSORS = {"28252": {"29869"}}
# Wards of today where the agency directory seats a province's bodies (mocks/directory/
# agencies.py) and no seeded commune went: Lâm Đồng's centre is Đà Lạt, Cần Thơ's Ninh Kiều.
SEAT_WARDS = ("24781", "31135")
PACKAGE = "vietnamadminunits"


def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"install {PACKAGE} first: .venv/bin/pip install {PACKAGE}==1.0.4")
    return Path(spec.origin).parent


def _rows(db: sqlite3.Connection, sql: str, *args: str) -> list[dict[str, Any]]:
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute(sql, args)]


def build() -> dict[str, Any]:
    package = _package_dir()
    db = sqlite3.connect(package / "data" / "dataset.db")
    converter = json.loads((package / "data" / "converter_2025.json").read_text(encoding="utf-8"))
    old_provinces = _rows(
        db,
        "SELECT DISTINCT provinceCode AS code, province AS name, provinceKey AS key "
        "FROM admin_units_legacy ORDER BY provinceCode",
    )
    new_provinces = _rows(
        db,
        "SELECT DISTINCT provinceCode AS code, province AS name, provinceKey AS key "
        "FROM admin_units ORDER BY provinceCode",
    )
    old_by_key = {p["key"]: p["code"] for p in old_provinces}
    new_by_key = {p["key"]: p["code"] for p in new_provinces}
    province_successor = {
        old_by_key[old]: new_by_key[new]
        for new, olds in converter["DICT_PROVINCE"].items()
        for old in olds
    }
    seeded = [
        commune.code
        for province in PROVINCES.values()
        for district in province.districts
        for commune in district.communes
    ]
    old_wards: list[dict[str, Any]] = []
    successors: dict[str, list[str]] = {}
    new_codes: set[str] = set()
    for code in seeded:
        (row,) = _rows(
            db,
            "SELECT wardCode AS code, ward AS name, districtCode AS district_code, "
            "district AS district_name, provinceCode AS province_code, provinceKey AS pk, "
            "districtKey AS dk, wardKey AS wk FROM admin_units_legacy WHERE wardCode = ?",
            code,
        )
        key = f"{row.pop('pk')}_{row.pop('dk')}_{row.pop('wk')}"
        new_province = province_successor[row["province_code"]]
        new_province_key = next(k for k, c in new_by_key.items() if c == new_province)
        whole = converter["DICT_PROVINCE_WARD_NO_DIVIDED"][new_province_key]
        keys = [new_key for new_key, olds in whole.items() if key in olds]
        divided = converter["DICT_PROVINCE_WARD_DIVIDED"].get(new_province_key, {}).get(key, [])
        divided = sorted(divided, key=lambda part: not part["isDefaultNewWard"])  # default first
        keys += [part["newWardKey"] for part in divided if part["newWardKey"] not in keys]
        codes = []
        for ward_key in keys:
            (found,) = _rows(
                db,
                "SELECT wardCode AS code FROM admin_units WHERE provinceKey = ? AND wardKey = ?",
                new_province_key,
                ward_key,
            )
            if found["code"] not in NOT_SUCCESSORS.get(code, set()):
                codes.append(found["code"])
        if not codes:
            raise SystemExit(f"no successor found for {code} {row['name']}")
        successors[code] = codes  # the package's default successor first
        new_codes.update(codes)
        old_wards.append(row)
    new_wards = [
        _rows(
            db,
            "SELECT wardCode AS code, ward AS name, provinceCode AS province_code "
            "FROM admin_units WHERE wardCode = ?",
            code,
        )[0]
        for code in sorted(new_codes | set(SEAT_WARDS))
    ]
    return {
        "source": "National Statistics Office list of administrative units, as packaged by "
        "vietnamadminunits 1.0.4 (MIT, data of August 2025); generated by tools/admin_units.py",
        "effective": "2025-07-01",
        "2024": {
            "provinces": [{"code": p["code"], "name": p["name"]} for p in old_provinces],
            "wards": sorted(old_wards, key=lambda ward: ward["code"]),
        },
        "2026": {
            "provinces": [{"code": p["code"], "name": p["name"]} for p in new_provinces],
            "wards": new_wards,
        },
        "province_successor": dict(sorted(province_successor.items())),
        "ward_successors": dict(sorted(successors.items())),
    }


def main() -> None:
    table = build()
    OUT.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")  # noqa: T201 - a tool run by hand


if __name__ == "__main__":
    main()
