"""The agencies of each seeded province, with their QĐ 20/2020 organ ids and what they decide.

Every mock that names an agency uses this one directory: the portal (DVC) files dossiers with
the receiving agency, whose id starts every dossier number (`mocks/dvc/codes.py`); the document
endpoints (QLVB) and the national axis (VDXP) send between agencies and find their provinces
here. Organ ids (`mã định danh`, DOMAIN.md §6.2) have the strict form `000.00.0N.Hxx`.

What is sourced and what is not:
- **Hậu Giang `H30`** is the only provincial letter code DOMAIN.md §6.2 verifies.
- **Kiên Giang H33, Tiền Giang H58, Bình Thuận H11, Bình Định H08 are mock-assigned.** They are
  each province's place in the alphabetical list of the 63 pre-2025 provinces, a pattern that
  fits every letter code seen in public code (H20 Đồng Tháp, H22 Hà Giang, H29 TP HCM, H30 Hậu
  Giang, H38 Lào Cai, H41 Nghệ An, H48 Quảng Ngãi, H55 Thái Nguyên, H56 Thanh Hóa) — INFERENCE.
- **Every unit number below the province (`000.00.0N`) is mock-assigned**, following the seed
  proposal of DOMAIN.md §8.7 (level-2 agencies numbered 01, 02, …); the real numbering differs.
- `AGENCIES` are those of the pre-1 July 2025 provinces, like the rest of the seed: districts
  still exist, and the former Sở Kế hoạch và Đầu tư's business registration sits in Sở Tài
  chính, which absorbed it in the 2025 reorganisation. Era 2024 files criminal-record
  certificates with Sở Tư pháp, as the seeds always did.
- `TODAYS_AGENCIES` (era 2026) are the merged provinces' bodies from 1 July 2025, under the
  level-1 code the province kept (QĐ 09/2025/QĐ-TTg; `formats.agency_codes`): no district
  bodies. What the district received (certified copies, household businesses, house building
  permits) goes to the commune: that these moved to the commune level is the INFERENCE of
  FIDELITY-2026.md §1 (not verified procedure by procedure), so it is assigned. In both eras a
  commune-level dossier goes to the bodies of the applicant's commune of residence
  (`COMMUNE_BODIES`, `receiving_agency`; assigned, the sources name no rule): in era 2024 the
  old commune's, named with its district, as era 2026 routes a dossier filed before the merger;
  without one, to the capital ward's (000.00.06/07).
  Criminal-record certificates go to Công an tỉnh, which issues them since 1 March 2025
  (soha.vn; Tiền Giang's handover of 28 Feb 2025, thtg.vn), in era 2026 also for dossiers
  filed between then and the merger (`receiving_agency`).
- Addresses, telephones and e-mails are assigned (plausible, not a register): the street and
  number, the line's last digits and the mailbox are invented; the ward, the province and the
  telephone area code are real.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal

from formats.agency_codes import CLOSED, CLOSED_FROM
from mocks.directory.admin_units import ADMIN_UNITS, Era
from mocks.directory.units import PROVINCES as UNITS

AgencyLevel = Literal["province", "district", "commune"]
LLTP_TO_POLICE = date(2025, 3, 1)
"""Công an tỉnh issues criminal-record certificates (Phiếu lý lịch tư pháp) from this day."""
LLTP = "3.999001"
POLICE_UNIT = "000.00.04."  # Công an tỉnh in both directories
SOURCED_LETTER_CODES = frozenset({"H30", "H20", "H21"})
"""Hậu Giang's and Đồng Tháp's are verified (DOMAIN.md §6.2), Gia Lai's is in its own iGate's
procedure codes (FIDELITY-2026.md §1); every other letter code is assigned."""


@dataclass(frozen=True)
class Agency:
    """One agency: its organ id, name, level and the procedures (national `MaTTHC`) it decides."""

    organ_id: str
    name: str
    province_code: str
    """The seeded (pre-2025) province's code: the directory's key, what instances route by."""
    level: AgencyLevel
    procedure_codes: tuple[str, ...]
    era: Era = "2024"
    """2024: a body of the seeded province before 1 July 2025; 2026: of today's province."""
    todays_code: str | None = None
    """Era 2026: the code of today's province (68 for ex-Bình Thuận's Lâm Đồng, where the key
    is 60); None in era 2024, whose bodies carry the old code."""
    address: str = ""
    ward_code: str | None = None
    """The ward or commune of `address`, a unit of the era's official list."""
    telephone: str = ""
    email: str = ""

    @property
    def letter_code(self) -> str:
        return self.organ_id.rpartition(".")[2]

    @property
    def official_code(self) -> str:
        """The province code the body carries in its era: what every answer shows of it
        (60 and 93 were retired on 1 July 2025, FIDELITY-2026.md's gap table)."""
        return self.todays_code or self.province_code


@dataclass(frozen=True)
class AgencyProvince:
    """A province as the directory knows it: its name and the letter code of its organ ids."""

    name: str
    letter_code: str  # the last group of every organ id in the province
    letter_code_sourced: bool
    city: str  # the provincial capital (district level; codes in units.py)
    ward: str  # a ward of the capital (commune level)


# Legacy 2-digit province code (as in units.py) → its organs.
PROVINCES: Mapping[str, AgencyProvince] = MappingProxyType(
    {
        "91": AgencyProvince("Tỉnh Kiên Giang", "H33", False, "Rạch Giá", "Vĩnh Thanh"),
        "82": AgencyProvince("Tỉnh Tiền Giang", "H58", False, "Mỹ Tho", "1"),
        "60": AgencyProvince("Tỉnh Bình Thuận", "H11", False, "Phan Thiết", "Mũi Né"),
        "93": AgencyProvince("Tỉnh Hậu Giang", "H30", True, "Vị Thanh", "I"),
        "52": AgencyProvince("Tỉnh Bình Định", "H08", False, "Quy Nhơn", "Nhơn Bình"),
    }
)

# Unit number, name pattern, level, procedures. `{province}` is the name without "Tỉnh".
_AGENCY_TEMPLATES: tuple[tuple[str, str, AgencyLevel, tuple[str, ...]], ...] = (
    ("000.00.00", "Ủy ban nhân dân tỉnh {province}", "province", ()),
    ("000.00.01", "Sở Tư pháp tỉnh {province}", "province", ("3.999001",)),
    ("000.00.02", "Sở Xây dựng tỉnh {province}", "province", ("3.999003",)),
    ("000.00.03", "Sở Tài chính tỉnh {province}", "province", ("3.999004",)),
    ("000.00.04", "Công an tỉnh {province}", "province", ("3.999005",)),
    (
        "000.00.05",
        "Ủy ban nhân dân thành phố {city}",
        "district",
        ("2.000815", "1.001612", "3.999002"),
    ),
    (
        "000.00.06",
        "Ủy ban nhân dân phường {ward}, thành phố {city}",
        "commune",
        ("1.001193", "1.000894", "1.000656", "2.000635", "2.000884"),
    ),
    ("000.00.07", "Công an phường {ward}, thành phố {city}", "commune", ("1.004222", "1.004194")),
)


_STREETS = ("Trần Phú", "Lê Lợi", "Hùng Vương", "Nguyễn Huệ", "Quang Trung", "Lý Tự Trọng")


def _slug(text: str) -> str:
    """ASCII letters of a name, for a mailbox: "Phường Rạch Giá" → "rachgia"."""
    plain = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    letters = "".join(c for c in plain if c.isascii() and c.isalnum())
    return letters.lower()


def _unit_name(era: Era, code: str) -> str:
    unit = ADMIN_UNITS.unit(era, code)
    if unit is None:  # the table is generated with every ward the directory names
        raise ValueError(f"ward {code} is not in the {era} list")
    return unit.name


def _assigned_number(organ_id: str, digits: int) -> int:
    return int(hashlib.sha256(organ_id.encode()).hexdigest(), 16) % int(10**digits)


# Telephone area code and e-government domain of each seeded province (before 1 July 2025).
_OLD_CONTACTS = {
    "91": ("0297", "kiengiang.gov.vn"),
    "82": ("0273", "tiengiang.gov.vn"),
    "60": ("0252", "binhthuan.gov.vn"),
    "93": ("0293", "haugiang.gov.vn"),
    "52": ("0256", "binhdinh.gov.vn"),
}
_OLD_MAILBOXES = (
    "ubnd",
    "stp",
    "sxd",
    "stc",
    "congan",
    "ubnd.{city}",
    "ubnd.p{ward}.{city}",
    "ca.p{ward}.{city}",
)


def _agencies(province_code: str, province: AgencyProvince) -> tuple[Agency, ...]:
    short_name = province.name.removeprefix("Tỉnh ")
    capital = UNITS[province_code].districts[0]  # the province's capital comes first
    ward = next(c for c in capital.communes if c.name == f"Phường {province.ward}")
    area, domain = _OLD_CONTACTS[province_code]
    agencies = []
    for (unit, pattern, level, codes), mailbox in zip(
        _AGENCY_TEMPLATES, _OLD_MAILBOXES, strict=True
    ):
        organ_id = f"{unit}.{province.letter_code}"
        street = _STREETS[_assigned_number(organ_id, 4) % len(_STREETS)]
        box = mailbox.format(city=_slug(province.city), ward=_slug(province.ward))
        agencies.append(
            Agency(
                organ_id=organ_id,
                name=pattern.format(province=short_name, city=province.city, ward=province.ward),
                province_code=province_code,
                level=level,
                procedure_codes=codes,
                address=f"Số {_assigned_number(organ_id, 2) + 1} {street}, {ward.name}, "
                f"{capital.name}, {province.name}",
                ward_code=ward.code,
                telephone=f"{area} {3_800_000 + _assigned_number(organ_id, 5):07d}",
                email=f"{box}@{domain}",
            )
        )
    return tuple(agencies)


AGENCIES: Mapping[str, tuple[Agency, ...]] = MappingProxyType(
    {code: _agencies(code, province) for code, province in PROVINCES.items()}
)


def _lower(name: str) -> str:
    """ "phường Đông Hồ": a unit's name as it follows a body's name."""
    return name[0].lower() + name[1:]


def _pair_of_bodies(
    template: tuple[Agency, Agency], number: int, *, ward_code: str, place: str, address: str
) -> tuple[Agency, Agency]:
    """The people's committee and the police of one commune, modelled on the capital ward's
    (`template`: its 000.00.06 and 000.00.07 bodies): same procedures, era and province; unit
    numbers `number` and `number + 1` (assigned)."""
    bodies = []
    titles = ("Ủy ban nhân dân", "Công an")
    for offset, (body, title) in enumerate(zip(template, titles, strict=True)):
        organ_id = f"000.00.{number + offset:02d}.{body.letter_code}"
        street = _STREETS[_assigned_number(organ_id, 4) % len(_STREETS)]
        mailbox, _, domain = body.email.partition("@")
        bodies.append(
            Agency(
                organ_id=organ_id,
                name=f"{title} {place}",
                province_code=body.province_code,
                level="commune",
                procedure_codes=body.procedure_codes,
                era=body.era,
                todays_code=body.todays_code,
                address=f"Số {_assigned_number(organ_id, 2) + 1} {street}, {address}",
                ward_code=ward_code,
                telephone=f"{body.telephone[:4]} {3_800_000 + _assigned_number(organ_id, 5):07d}",
                email=f"{mailbox.partition('.')[0]}.{_slug(place.partition(',')[0])}@{domain}",
            )
        )
    return bodies[0], bodies[1]


FIRST_COMMUNE_UNIT = 10
"""Commune bodies other than the capital ward's are numbered from here in pairs (assigned)."""


def _old_commune_bodies(province_code: str) -> tuple[Agency, ...]:
    """The bodies of every seeded commune of the old province but the capital ward's (which
    are 000.00.06/07): named with their district, as they were before 1 July 2025."""
    capital = next(a for a in AGENCIES[province_code] if a.organ_id.startswith("000.00.06."))
    police = next(a for a in AGENCIES[province_code] if a.organ_id.startswith("000.00.07."))
    province = UNITS[province_code]
    bodies: list[Agency] = []
    communes = [
        (commune, district)
        for district in province.districts
        for commune in district.communes
        if commune.code != capital.ward_code
    ]
    for index, (commune, district) in enumerate(communes):
        bodies.extend(
            _pair_of_bodies(
                (capital, police),
                FIRST_COMMUNE_UNIT + 2 * index,
                ward_code=commune.code,
                place=f"{_lower(commune.name)}, {_lower(district.name)}",
                address=f"{commune.name}, {district.name}, {province.name}",
            )
        )
    return tuple(bodies)


@dataclass(frozen=True)
class TodaysProvince:
    """The province of today that holds a seeded one's records, as its bodies are named."""

    name: str  # "Tỉnh An Giang", "Thành phố Cần Thơ"
    seat: str  # the ward (today's code) of the provincial bodies, in the administrative centre
    ward: str  # the ward (today's code) succeeding the seeded capital's, whose bodies receive
    area_code: str  # telephone area code of the seat
    domain: str  # the province's e-government domain
    code: str  # today's province code (FIDELITY-2026.md §1: 68 Lâm Đồng, 92 Cần Thơ)

    @property
    def lower_name(self) -> str:
        """ "tỉnh An Giang": the unit as it follows a body's name."""
        return self.name[0].lower() + self.name[1:]


# Seeded (old) province code → today's province. Centres: Rạch Giá, Mỹ Tho, Quy Nhơn (sourced,
# FIDELITY-2026.md §1); Đà Lạt and Ninh Kiều (in ex-Lâm Đồng and ex-Cần Thơ per NQ 60).
TODAYS_PROVINCES: Mapping[str, TodaysProvince] = MappingProxyType(
    {
        "91": TodaysProvince("Tỉnh An Giang", "30742", "30742", "0297", "angiang.gov.vn", "91"),
        "82": TodaysProvince("Tỉnh Đồng Tháp", "28261", "28261", "0273", "dongthap.gov.vn", "82"),
        "60": TodaysProvince("Tỉnh Lâm Đồng", "24781", "22918", "0263", "lamdong.gov.vn", "68"),
        "93": TodaysProvince("Thành phố Cần Thơ", "31135", "31321", "0292", "cantho.gov.vn", "92"),
        "52": TodaysProvince("Tỉnh Gia Lai", "21601", "21601", "0256", "gialai.gov.vn", "52"),
    }
)
# The commune-level phone area code differs where the ward is far from the seat.
_WARD_AREA_CODES = {"22918": "0252", "31321": "0293"}

# Unit number, name pattern, level, procedures, mailbox. No district level; see the docstring.
_TODAYS_TEMPLATES: tuple[tuple[str, str, AgencyLevel, tuple[str, ...], str], ...] = (
    ("000.00.00", "Ủy ban nhân dân {province}", "province", (), "ubnd"),
    ("000.00.01", "Sở Tư pháp {province}", "province", (), "stp"),
    ("000.00.02", "Sở Xây dựng {province}", "province", ("3.999003",), "sxd"),
    ("000.00.03", "Sở Tài chính {province}", "province", ("3.999004",), "stc"),
    ("000.00.04", "Công an {province}", "province", (LLTP, "3.999005"), "congan"),
    (
        "000.00.06",
        "Ủy ban nhân dân {ward}",
        "commune",
        ("1.001193", "1.000894", "1.000656", "2.000635", "2.000884")
        + ("2.000815", "1.001612", "3.999002"),  # the district's, since 1 July 2025
        "ubnd.{slug}",
    ),
    ("000.00.07", "Công an {ward}", "commune", ("1.004222", "1.004194"), "congan.{slug}"),
)


def _todays_agencies(seed_code: str, province: TodaysProvince) -> tuple[Agency, ...]:
    letter = CLOSED[PROVINCES[seed_code].letter_code].successor
    ward = _unit_name("2026", province.ward)
    ward_short = ward.removeprefix("Phường ").removeprefix("Xã ")
    agencies = []
    for unit, pattern, level, codes, mailbox in _TODAYS_TEMPLATES:
        organ_id = f"{unit}.{letter}"
        seat = province.seat if level == "province" else province.ward
        street = _STREETS[_assigned_number(organ_id, 4) % len(_STREETS)]
        area = _WARD_AREA_CODES.get(seat, province.area_code)
        agencies.append(
            Agency(
                organ_id=organ_id,
                name=pattern.format(province=province.lower_name, ward=ward[0].lower() + ward[1:]),
                province_code=seed_code,
                level=level,
                procedure_codes=codes,
                era="2026",
                todays_code=province.code,
                address=f"Số {_assigned_number(organ_id, 2) + 1} {street}, "
                f"{_unit_name('2026', seat)}, {province.name}",
                ward_code=seat,
                telephone=f"{area} {3_800_000 + _assigned_number(organ_id, 5):07d}",
                email=f"{mailbox.format(slug=_slug(ward_short))}@{province.domain}",
            )
        )
    return tuple(agencies)


TODAYS_AGENCIES: Mapping[str, tuple[Agency, ...]] = MappingProxyType(
    {code: _todays_agencies(code, province) for code, province in TODAYS_PROVINCES.items()}
)
"""Seeded (old) province code → the bodies of today's province that holds its records."""


def _todays_commune_bodies(seed_code: str) -> tuple[Agency, ...]:
    """The bodies of every ward or commune of today that a seeded commune went into, but the
    one succeeding the capital's (000.00.06/07): no district in their names since 1 July 2025."""
    today = TODAYS_AGENCIES[seed_code]
    capital = next(a for a in today if a.organ_id.startswith("000.00.06."))
    police = next(a for a in today if a.organ_id.startswith("000.00.07."))
    province = TODAYS_PROVINCES[seed_code]
    wards = sorted(
        {
            unit.code: unit
            for district in UNITS[seed_code].districts
            for commune in district.communes
            for unit in ADMIN_UNITS.successors(commune.code)[:1]
            if unit.code != capital.ward_code
        }.values(),
        key=lambda unit: unit.code,
    )
    bodies: list[Agency] = []
    for index, ward in enumerate(wards):
        bodies.extend(
            _pair_of_bodies(
                (capital, police),
                FIRST_COMMUNE_UNIT + 2 * index,
                ward_code=ward.code,
                place=_lower(ward.name),
                address=f"{ward.name}, {province.name}",
            )
        )
    return tuple(bodies)


COMMUNE_BODIES: Mapping[tuple[Era, str], tuple[Agency, ...]] = MappingProxyType(
    {
        **{("2024", code): _old_commune_bodies(code) for code in PROVINCES},
        **{("2026", code): _todays_commune_bodies(code) for code in TODAYS_PROVINCES},
    }
)
"""(era of the directory, seeded province code) → the people's committees and police of the
communes where its citizens live, beside the capital ward's in `AGENCIES`/`TODAYS_AGENCIES`.
Both eras route a commune-level dossier to the applicant's commune (`receiving_agency`); they
are not document senders (QLVB), but the national agency catalogue lists them (DVCQG
`LayDanhMucCoQuan`): the bodies OpenCPS syncs dossiers of must be in it."""

_BY_ORGAN_ID = MappingProxyType(
    {
        agency.organ_id: agency
        for directory in (AGENCIES, TODAYS_AGENCIES, COMMUNE_BODIES)
        for agencies in directory.values()
        for agency in agencies
    }
)


def _successions() -> Mapping[str, Agency]:
    """Each seeded body → today's body of the same unit under the code its province kept."""
    found = {}
    for code, bodies in AGENCIES.items():
        today = {agency.organ_id.rpartition(".")[0]: agency for agency in TODAYS_AGENCIES[code]}
        for old in bodies:
            successor = today.get(old.organ_id.rpartition(".")[0])
            if successor is not None and old.letter_code in CLOSED:
                found[old.organ_id] = successor
    return MappingProxyType(found)


SUCCESSORS: Mapping[str, Agency] = _successions()
"""A seeded body under a level-1 code the 2025 merger closed → the body of today that
succeeds it (same unit number, `formats.agency_codes`): assigned, as the unit numbers are. The
district bodies (000.00.05) have none: their work went to the communes, which the sources do
not say body by body (FIDELITY-2026.md §1)."""

PREDECESSORS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        new.organ_id: frozenset(old for old, same in SUCCESSORS.items() if same == new)
        for new in SUCCESSORS.values()
    }
)
"""Today's body → the seeded bodies under closed codes whose work it carries on: a document
addressed to one of them is its to report on."""


def reported_on(timestamp: object) -> date | None:
    """The day in Vietnam a status message says it was reported (its Timestamp, QCVN 102 §3.4,
    zoneless); None for one that is no ISO date and time."""
    try:
        return datetime.fromisoformat(str(timestamp)).date()
    except ValueError:
        return None


def acting_for(era: Era, reporter: str, timestamp: object) -> frozenset[str]:
    """The closed bodies `reporter` reports for in a status message of `timestamp`: in era
    2026, from the merger on, those it succeeds (`PREDECESSORS`); none before it, nor in era
    2024 (the world before the merger whatever the date). One rule for the province's document
    system and the national axis, so a status one accepts the other forwards."""
    on = reported_on(timestamp)
    if era != "2026" or on is None or on < CLOSED_FROM:
        return frozenset()
    return PREDECESSORS.get(reporter, frozenset())


CENTRAL_AGENCIES: Mapping[str, str] = MappingProxyType({"000.00.00.G22": "Văn phòng Chính phủ"})
"""Central bodies (organ id → name) the national document axis serves itself: no province's.
VPCP `000.00.00.G22` is sourced (DOMAIN.md §6.2, the VDXP SDK samples' sender); any other is
a setting (`SystemConfig.central_agencies`, assigned)."""


def central_agencies(assigned: Mapping[str, str]) -> Mapping[str, str]:
    """Every central body: the sourced ones, then the `assigned` ones of the configuration."""
    return {**CENTRAL_AGENCIES, **assigned}


def known_province(province_code: str) -> AgencyProvince:
    """The province, or ValueError naming the ones the directory knows."""
    if province_code not in PROVINCES:
        known = ", ".join(sorted(PROVINCES))
        raise ValueError(f"no agencies for province {province_code!r} (known: {known})")
    return PROVINCES[province_code]


def find_agency(organ_id: str) -> Agency | None:
    return _BY_ORGAN_ID.get(organ_id)


def agencies_of(
    province_code: str, *, era: Era = "2024", on: date | None = None
) -> tuple[Agency, ...]:
    """The bodies of the seeded province `province_code` on `on` (None: today): in era 2024
    always the seeded ones; in era 2026 those of today's province from 1 July 2025."""
    known_province(province_code)
    if era == "2026" and (on is None or on >= CLOSED_FROM):
        return TODAYS_AGENCIES[province_code]
    return AGENCIES[province_code]


def receiving_agency(
    province_code: str,
    procedure_code: str,
    *,
    era: Era = "2024",
    on: date | None = None,
    home: tuple[Era, str] | None = None,
) -> Agency:
    """The agency of the province that receives dossiers of `procedure_code` filed on `on`
    (None: today). A commune-level procedure goes to the people's committee or police of
    `home`, the applicant's commune of residence (the era of its code, the code) as the
    citizen database holds it, when the directory knows that commune; else to the capital
    ward's. In era 2024 the bodies are the seeded province's whatever the date."""
    agencies = agencies_of(province_code, era=era, on=on)
    if era == "2026" and procedure_code == LLTP and on is not None and on >= LLTP_TO_POLICE:
        police = next(a for a in agencies if a.organ_id.startswith(POLICE_UNIT))
        if on < CLOSED_FROM:  # the old province's police, before the merger
            return police
    for agency in agencies:
        if procedure_code in agency.procedure_codes:
            if agency.level == "commune" and home is not None:
                return _commune_body(agency, province_code, procedure_code, home) or agency
            return agency
    raise ValueError(f"no agency of province {province_code} handles procedure {procedure_code}")


def _commune_body(
    default: Agency, province_code: str, procedure_code: str, home: tuple[Era, str]
) -> Agency | None:
    """The body of the applicant's commune in `default`'s directory that decides the
    procedure: the commune converted to today's when the directory is today's."""
    home_era, code = home
    if default.era == "2026" and home_era == "2024":
        successors = ADMIN_UNITS.successors(code)
        code = successors[0].code if successors else code
    elif default.era != home_era:
        return None  # today's code names no single old commune
    candidates = (
        *agencies_in_era(default.era, province_code),
        *COMMUNE_BODIES[(default.era, province_code)],
    )
    return next(
        (
            body
            for body in candidates
            if body.level == "commune"
            and body.ward_code == code
            and procedure_code in body.procedure_codes
        ),
        None,
    )


def agencies_in_era(era: Era, province_code: str) -> tuple[Agency, ...]:
    """The province's bodies of one directory: the seeded ones (2024) or today's (2026)."""
    return TODAYS_AGENCIES[province_code] if era == "2026" else AGENCIES[province_code]


def level_today(procedure_code: str) -> AgencyLevel | None:
    """The level of the body that receives `procedure_code` since 1 July 2025."""
    for _unit, _pattern, level, codes, _mailbox in _TODAYS_TEMPLATES:
        if procedure_code in codes:
            return level
    return None
