"""Today's map by default: the merged provinces answer, and the old provinces' bases still
answer for them, marked deprecated (RFC 9745) with a sunset and a successor (RFC 8594)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.dialects import lgspaccesstoken as lat
from formats.cccd import make_cccd
from formats.dates import VIETNAM_TIME
from lgsp.settings import Settings
from lgsp.topology import TOPOLOGY_2024, TOPOLOGY_2026, Topology, load_topology, topology_toml
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.directory.admin_units import ADMIN_UNITS
from tests.e2e.test_dvcqg_sync_callers import sync_body
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import TEST_PUBLIC_URL, bearer, bus_settings, fetch_token
from tests.fixtures.documents import canonical_document, local_document
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

AG, KG, DT = "/lgsp/angiang", "/lgsp/kiengiang", "/lgsp/dongthap"
# 1 July 2025, 00:00 in Vietnam (UTC+7), when NQ 202/2025/QH15 took effect
MERGED_AT = 1751302800


@pytest.fixture
def settings(bus_database_url: str, bus_data_dir: Path) -> Settings:
    """The tests' bus in today's era, the default of `lgsp serve`."""
    return bus_settings(bus_database_url, bus_data_dir).model_copy(update={"era": "2026"})


def test_today_is_the_default_era(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LGSP_ERA")  # the suite's own default (tests/conftest.py)

    assert Settings(_env_file=None).era == "2026"  # type: ignore[call-arg]
    assert load_topology(None) is TOPOLOGY_2026
    assert load_topology(None, "2024") is TOPOLOGY_2024


def test_each_merged_province_knows_its_old_codes_and_the_seeded_one_it_holds() -> None:
    found = {
        i.name: (i.province_code, i.legacy_codes, i.seed_code, i.aliases)
        for i in TOPOLOGY_2026.instances
        if i.kind == "province"
    }

    assert found == {
        "angiang": ("91", ("89", "91"), "91", ("kiengiang",)),
        "dongthap": ("82", ("82", "87"), "82", ("tiengiang",)),
        "lamdong": ("68", ("60", "67", "68"), "60", ("binhthuan",)),
        "cantho": ("92", ("92", "93", "94"), "93", ("haugiang",)),
        "gialai": ("52", ("52", "64"), "52", ("binhdinh",)),
    }
    # the seeded world is what era 2024 gives, unchanged
    assert [(i.name, i.province_code) for i in TOPOLOGY_2024.instances] == [
        ("ndxp", None),
        ("kiengiang", "91"),
        ("tiengiang", "82"),
        ("binhthuan", "60"),
        ("haugiang", "93"),
        ("binhdinh", "52"),
    ]


def test_the_records_map_is_the_seeded_provinces_in_both_eras() -> None:
    """Agencies' ids carry the old codes: routing by them finds today's instance."""
    assert TOPOLOGY_2026.provinces == {
        "91": "angiang",
        "82": "dongthap",
        "60": "lamdong",
        "93": "cantho",
        "52": "gialai",
    }


async def test_the_index_says_the_era_and_the_old_names(client: httpx.AsyncClient) -> None:
    index = (await client.get("/")).json()

    assert index["era"] == "2026"
    angiang = next(i for i in index["instances"] if i["name"] == "angiang")
    assert angiang["aliases"] == ["kiengiang"]
    assert angiang["title"] == "LGSP An Giang"


async def test_todays_instance_holds_the_seeded_records(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    citizen = generate_citizens(province_code="91", seed=settings.seed, count=1)[0]
    token = await fetch_token(client, AG)

    answer = await client.get(
        f"{AG}/dancu/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(token)
    )

    assert answer.status_code == 200, answer.text
    assert "Deprecation" not in answer.headers


@pytest.mark.parametrize(
    ("registered_in", "owner"),
    [("60", "lamdong"), ("93", "cantho"), ("87", "dongthap"), ("89", None)],
)
async def test_a_citizen_of_a_merged_province_is_pointed_to_the_instance_serving_it(
    client: httpx.AsyncClient, registered_in: str, owner: str | None
) -> None:
    """Asked at An Giang: 060… (ex-Bình Thuận) is Lâm Đồng's, whose records hold it; 093… Cần
    Thơ's; 087… (the old Đồng Tháp) today's Đồng Tháp's. 089… is the old An Giang's, merged
    into this instance, whose records (ex-Kiên Giang's) do not hold it: no other is named."""
    cccd = make_cccd(
        province_code=f"0{registered_in}", gender="male", birth_year=1986, serial=779730
    )
    token = await fetch_token(client, AG)

    answer = await client.get(f"{AG}/dancu/v1/citizens/{cccd}", headers=bearer(token))

    problem = assert_problem(answer, 404, "CITIZEN_NOT_FOUND")
    assert problem.get("target_instance") == owner
    assert "no instance of this bus serves" not in problem["hint"]
    if owner is None:
        assert "the citizen is not in this instance's records" in problem["hint"]


async def test_an_old_base_answers_for_its_successor_marked_deprecated(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    citizen = generate_citizens(province_code="91", seed=settings.seed, count=1)[0]
    token = await fetch_token(client, KG)  # a token from the old base works at the new one

    old = await client.get(f"{KG}/dancu/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(token))
    new = await client.get(f"{AG}/dancu/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(token))

    assert old.status_code == new.status_code == 200, old.text
    assert old.json() == new.json()
    assert old.headers["Deprecation"] == f"@{MERGED_AT}"
    assert parsedate_to_datetime(old.headers["Sunset"]).date() == settings.legacy_path_sunset
    assert old.headers["Link"] == f'<{TEST_PUBLIC_URL}{AG}>; rel="successor-version"'


async def test_an_old_base_marks_its_errors_too(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"{KG}/dancu/v1/citizens/091000000000")

    assert answer.status_code == 401
    assert answer.headers["Deprecation"] == f"@{MERGED_AT}"


async def test_a_name_that_only_starts_like_an_old_base_is_not_moved(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/lgsp/kiengiangx/services")

    assert answer.status_code == 404
    assert "Deprecation" not in answer.headers


# --- an old province's name in a target header, as its old base -------------------------------


@pytest.mark.parametrize(
    ("records", "old_name", "name"),
    [("82", "tiengiang", "dongthap"), ("91", "kiengiang", "angiang")],
)
async def test_an_old_name_as_target_reaches_its_successor_marked_deprecated(
    client: httpx.AsyncClient, settings: Settings, records: str, old_name: str, name: str
) -> None:
    """Tiền Giang is part of Đồng Tháp: `X-LGSP-Target: tiengiang` reaches Đồng Tháp's records,
    marked as `/lgsp/tiengiang/…` is; Kiên Giang's name at An Giang is An Giang itself."""
    citizen = generate_citizens(province_code=records, seed=settings.seed, count=1)[0]
    token = await fetch_token(client, AG)
    path = f"{AG}/dancu/v1/citizens/{citizen.so_dinh_danh}"

    old = await client.get(path, headers={**bearer(token), "X-LGSP-Target": old_name})
    new = await client.get(path, headers={**bearer(token), "X-LGSP-Target": name})

    assert old.status_code == new.status_code == 200, old.text
    assert old.json() == new.json()
    assert old.headers["Deprecation"] == f"@{MERGED_AT}"
    assert parsedate_to_datetime(old.headers["Sunset"]).date() == settings.legacy_path_sunset
    assert old.headers["Link"] == f'<{TEST_PUBLIC_URL}/lgsp/{name}>; rel="successor-version"'
    assert "Deprecation" not in new.headers


@pytest.mark.parametrize("target", ["kiengiangx", "kiengiang ,", "KIENGIANG"])
async def test_a_name_that_is_no_old_province_is_still_no_target(
    client: httpx.AsyncClient, settings: Settings, target: str
) -> None:
    citizen = generate_citizens(province_code="82", seed=settings.seed, count=1)[0]
    token = await fetch_token(client, AG)

    answer = await client.get(
        f"{AG}/dancu/v1/citizens/{citizen.so_dinh_danh}",
        headers={**bearer(token), "X-LGSP-Target": target},
    )

    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "TARGET_NOT_FOUND"
    assert "Deprecation" not in answer.headers


class TestReceiverCode:
    @pytest.fixture
    def settings(
        self, bus_database_url: str, bus_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Settings:
        """Today's map, An Giang speaking `lgspaccesstoken` too (as Cần Thơ does by default)."""
        instances = tuple(
            i.model_copy(update={"dialects": ("bus", "lgspaccesstoken")})
            if i.name == "angiang"
            else i
            for i in TOPOLOGY_2026.instances
        )
        path = tmp_path_factory.mktemp("era-topology") / "lgspaccesstoken.toml"
        path.write_text(topology_toml(Topology(instances=instances)), encoding="utf-8")
        return bus_settings(bus_database_url, bus_data_dir, era="2026", topology_file=path)

    async def test_receiver_code_takes_an_old_name_as_x_lgsp_target_does(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        """RECEIVER_CODE names the province at the `lgspaccesstoken` door: an old one (Tiền
        Giang, in Đồng Tháp since 2025) is read as today's, marked as its old base is."""
        citizen = generate_citizens(province_code="82", seed=settings.seed, count=1)[0]
        token = await fetch_token(client, AG)
        own = await client.get(
            f"{AG}/dancu/v1/citizens/{citizen.so_dinh_danh}",
            headers={**bearer(token), "X-LGSP-Target": "dongthap"},
        )
        credentials = lat.AccessToken("QLVB", "demo", "lgsp-demo-secret", "000.00.01.H01", "")

        answer = await client.get(
            f"{AG}/lgspaccesstoken/dancu/v1/citizens/{citizen.so_dinh_danh}",
            headers={lat.HEADER: lat.encode(credentials), "RECEIVER_CODE": "tiengiang"},
        )

        assert own.status_code == answer.status_code == 200, answer.text
        assert answer.json() == {"error_code": "0", "message": "Thành công", "data": own.json()}
        assert answer.headers["Deprecation"] == f"@{MERGED_AT}"
        link = f'<{TEST_PUBLIC_URL}/lgsp/dongthap>; rel="successor-version"'
        assert answer.headers["Link"] == link


def test_the_sunset_is_an_assigned_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_LEGACY_PATH_SUNSET", "2028-01-01")

    assert Settings(_env_file=None).legacy_path_sunset == date(2028, 1, 1)  # type: ignore[call-arg]


@pytest.mark.parametrize("service", ["dancu", "csdlqgdc"])
async def test_addresses_are_in_todays_units_with_the_record_s_own_as_legacy(
    client: httpx.AsyncClient, settings: Settings, service: str
) -> None:
    citizen = generate_citizens(province_code="91", seed=settings.seed, count=1)[0]
    made = citizen.thuong_tru
    token = await fetch_token(client, AG)

    answer = await client.get(
        f"{AG}/{service}/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(token)
    )

    assert answer.status_code == 200, answer.text
    (ward, *_) = ADMIN_UNITS.successors(made.ma_phuong_xa)
    assert answer.json()["permanent_address"] == {
        "province_code": "91",
        "province": "Tỉnh An Giang",
        "district_code": None,
        "district": None,
        "commune_code": ward.code,
        "commune": ward.name,
        "street": made.chi_tiet,
        "country": "VN",
        "legacy": {
            "province_code": "91",
            "province": "Tỉnh Kiên Giang",
            "district_code": made.ma_quan_huyen,
            "district": made.ten_quan_huyen,
            "commune_code": made.ma_phuong_xa,
            "commune": made.ten_phuong_xa,
        },
    }


async def national_lookup_of_a_haugiang_citizen(
    client: httpx.AsyncClient, settings: Settings
) -> tuple[CitizenRecord, httpx.Response]:
    """A citizen registered in Hậu Giang (93, retired), asked of the national database."""
    citizen = generate_citizens(province_code="93", seed=settings.seed, count=1)[0]
    token = await fetch_token(client, AG)
    answer = await client.get(
        f"{AG}/csdlqgdc/v1/citizens/{citizen.so_dinh_danh}", headers=bearer(token)
    )
    return citizen, answer


async def test_a_province_whose_code_changed_answers_with_today_s(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Hậu Giang's 93 is retired: at NDXP its citizens now live in Cần Thơ, 92."""
    citizen, answer = await national_lookup_of_a_haugiang_citizen(client, settings)

    assert answer.status_code == 200, answer.text
    address = answer.json()["permanent_address"]
    assert (address["province_code"], address["province"]) == ("92", "Thành phố Cần Thơ")
    assert address["legacy"]["province_code"] == "93"


# --- the administrative-units service at NDXP ------------------------------------------------


async def dmhc(client: httpx.AsyncClient, path: str) -> httpx.Response:
    token = await fetch_token(client, AG)
    return await client.get(f"{AG}/dmhc/v1{path}", headers=bearer(token))


async def test_a_number_names_a_unit_in_each_era(client: httpx.AsyncClient) -> None:
    today = await dmhc(client, "/units/30769")
    before = await dmhc(client, "/units/30769?era=2024")

    assert today.status_code == before.status_code == 200, today.text
    assert today.json() == {
        "era": "2026",
        "level": "ward",
        "code": "30769",
        "name": "Phường Hà Tiên",
        "province_code": "91",
        "district_code": None,
        "district": None,
    }
    assert before.json()["name"] == "Phường Đông Hồ"
    assert (before.json()["district_code"], before.json()["district"]) == (
        "900",
        "Thành phố Hà Tiên",
    )


async def test_old_to_new_and_back(client: httpx.AsyncClient) -> None:
    successors = await dmhc(client, "/units/30733/successors")
    predecessors = await dmhc(client, "/units/30742/predecessors")
    province = await dmhc(client, "/units/68/predecessors")

    assert successors.status_code == 200, successors.text
    assert [(u["code"], u["name"]) for u in successors.json()["successors"]] == [
        ("30742", "Phường Rạch Giá")
    ]
    assert "30733" in [u["code"] for u in predecessors.json()["predecessors"]]
    assert [u["code"] for u in province.json()["predecessors"]] == ["60", "67", "68"]


async def test_a_district_is_a_unit_of_era_2024_only(client: httpx.AsyncClient) -> None:
    """The README promises a unit by code in either era: districts existed until 1 July 2025."""
    before = await dmhc(client, "/units/900?era=2024")
    successors = await dmhc(client, "/units/900/successors")
    today = await dmhc(client, "/units/900")

    assert before.status_code == 200, before.text
    assert before.json() == {
        "era": "2024",
        "level": "district",
        "code": "900",
        "name": "Thành phố Hà Tiên",
        "province_code": "91",
        "district_code": None,
        "district": None,
    }
    assert successors.status_code == 200, successors.text
    assert [(u["code"], u["name"]) for u in successors.json()["successors"]] == [
        ("30766", "Phường Tô Châu"),  # what Hà Tiên's wards the table holds went into
        ("30769", "Phường Hà Tiên"),
    ]
    assert today.status_code == 400
    assert "no districts since 1 July 2025" in today.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/units/1234", 400, "INVALID_UNIT_REQUEST"),
        ("/units/123?era=2024", 404, "UNIT_NOT_FOUND"),
        ("/units/30769?era=2025", 400, "INVALID_UNIT_REQUEST"),
        ("/units/30769?era=2024&era=2026", 400, "INVALID_UNIT_REQUEST"),
        ("/units/60", 404, "UNIT_NOT_FOUND"),  # Bình Thuận's code is retired today
        ("/units/99999/successors", 404, "UNIT_NOT_FOUND"),
    ],
)
async def test_bad_unit_requests_are_refused(
    client: httpx.AsyncClient, path: str, status: int, code: str
) -> None:
    answer = await dmhc(client, path)

    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


# --- DVCQG's province filter across eras ------------------------------------------------------


async def national_dossiers(client: httpx.AsyncClient, province: str) -> dict[str, Any]:
    token = await fetch_token(client, AG)
    answer = await client.get(
        f"{AG}/dvcqg/v1/dossiers?province={province}&size=100", headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def test_today_s_code_covers_the_provinces_merged_into_it(client: httpx.AsyncClient) -> None:
    today = await national_dossiers(client, "92")  # Cần Thơ, holding ex-Hậu Giang
    retired = await national_dossiers(client, "93")  # Hậu Giang's own code

    assert (today["province_era"], today["province_codes"]) == ("2026", ["92", "93", "94"])
    assert (retired["province_era"], retired["province_codes"]) == ("2024", ["93"])
    assert today["total"] == retired["total"] > 0
    assert {item["province_code"] for item in today["items"]} == {"93"}


async def test_a_code_of_both_eras_is_read_as_today_s(client: httpx.AsyncClient) -> None:
    """91 was Kiên Giang and is An Giang, which absorbed it: the seeded 91 dossiers answer."""
    page = await national_dossiers(client, "91")

    assert (page["province_era"], page["province_codes"]) == ("2026", ["89", "91"])
    assert page["total"] > 0


# --- agency codes closed by QĐ 09/2025 --------------------------------------------------------


@pytest.mark.parametrize(("day", "status"), [("2025-06-30", 202), ("2025-07-01", 422)])
async def test_a_closed_agency_code_is_refused_on_documents_after_the_merger(
    client: httpx.AsyncClient, day: str, status: int
) -> None:
    token = await fetch_token(client, AG)
    document = local_document("41", subject="V/v sáp nhập", date=day)

    answer = await client.post(f"{AG}/qlvb/v1/documents", json=document, headers=bearer(token))

    assert answer.status_code == status, answer.text
    if status == 422:
        problem = answer.json()
        assert problem["code"] == "AGENCY_CODE_CLOSED"
        assert problem["organ_id"] == "000.00.01.H33"
        assert problem["successor_organ_id"] == "000.00.01.H01"
        assert problem["successor_province"] == "Tỉnh An Giang"
        assert problem["assigned"] is True


@pytest.mark.parametrize(
    ("organ_id", "day", "status"),
    [
        ("000.00.06.H33", date(2025, 6, 30), 200),  # filed before the merger: keeps its code
        ("000.00.06.H33", date(2025, 7, 1), 422),
        ("000.00.06.H01", date(2025, 7, 1), 200),  # the body that succeeds it
    ],
)
async def test_the_national_portal_takes_no_new_dossier_under_a_closed_agency_code(
    client: httpx.AsyncClient, organ_id: str, day: date, status: int
) -> None:
    """DVCQG's sync refuses a dossier dated since 1 July 2025 under a closed code as the bus
    refuses such an organ id everywhere (AGENCY_CODE_CLOSED, naming the successor)."""
    token = await fetch_token(client, AG)
    at = datetime.combine(day, datetime.min.time(), VIETNAM_TIME).replace(hour=9).isoformat()
    code = f"{organ_id}-{day:%y%m%d}-0777"
    body = sync_body(code, organ_id)
    body["dossier"]["submitted_at"] = body["progress"]["at"] = at

    answer = await client.post(f"{AG}/dvcqg/v1/dossiers/sync", json=body, headers=bearer(token))

    assert answer.status_code == status, answer.text
    if status == 422:
        problem = assert_problem(answer, 422, "AGENCY_CODE_CLOSED")
        assert (problem["organ_id"], problem["successor_organ_id"]) == (organ_id, "000.00.06.H01")
        gone = await client.get(f"{AG}/dvcqg/v1/dossiers/{code}", headers=bearer(token))
        assert gone.status_code == 404, gone.text


@pytest.mark.parametrize(
    ("recipient", "successor"),
    [
        ("000.00.03.H33", "000.00.03.H01"),  # a level-1 body: today's of the same unit
        ("000.00.05.H33", None),  # a district body: its work went to the communes
    ],
)
async def test_a_document_to_a_closed_body_names_a_successor_only_where_there_is_one(
    client: httpx.AsyncClient, recipient: str, successor: str | None
) -> None:
    token = await fetch_token(client, AG)
    document = canonical_document(
        "47",
        [{"organ_id": recipient, "organ_name": "Kiên Giang"}],
        sender="000.00.01.H01",
        sender_name="Sở Tư pháp tỉnh An Giang",
        notation="STP-VP",
        subject="V/v bàn giao",
        date="2025-07-02",
    )

    answer = await client.post(f"{AG}/qlvb/v1/documents", json=document, headers=bearer(token))

    problem = assert_problem(answer, 422, "AGENCY_CODE_CLOSED")
    assert (problem["organ_id"], problem["successor_code"]) == (recipient, "H01")
    assert problem.get("successor_organ_id") == successor


async def sent_before_the_merger(client: httpx.AsyncClient, token: str, number: str) -> str:
    """The id of a document Kiên Giang's Sở Tư pháp sent on 30 June 2025 to its Sở Tài chính
    (000.00.03.H33) and UBND thành phố Rạch Giá (000.00.05.H33, a district: no successor)."""
    recipients = [
        {"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính tỉnh Kiên Giang"},
        {"organ_id": "000.00.05.H33", "organ_name": "Ủy ban nhân dân thành phố Rạch Giá"},
    ]
    document = canonical_document(
        number, recipients, notation="STP-VP", subject="V/v bàn giao", date="2025-06-30"
    )
    sent = await client.post(f"{AG}/qlvb/v1/documents", json=document, headers=bearer(token))
    assert sent.status_code == 202, sent.text
    key: str = sent.json()["id"]
    return key


@pytest.mark.parametrize(
    ("reporter", "timestamp", "successor"),
    [
        ("000.00.03.H33", None, "000.00.03.H01"),  # reported today
        ("000.00.03.H33", "2025-07-01T08:00:00", "000.00.03.H01"),  # the merger's first day
        ("000.00.05.H33", None, None),  # a district body: nothing succeeds it body for body
    ],
)
async def test_a_body_the_merger_closed_reports_no_status_after_it(
    client: httpx.AsyncClient, reporter: str, timestamp: str | None, successor: str | None
) -> None:
    token = await fetch_token(client, AG)
    key = await sent_before_the_merger(client, token, "43")
    report = {"organ_id": reporter, "status_code": "01", "timestamp": timestamp}

    answer = await client.post(
        f"{AG}/qlvb/v1/documents/{key}/status", json=report, headers=bearer(token)
    )

    problem = assert_problem(answer, 422, "AGENCY_CODE_CLOSED")
    assert (problem["organ_id"], problem["successor_code"]) == (reporter, "H01")
    assert problem.get("successor_organ_id") == successor
    document = await client.get(f"{AG}/qlvb/v1/documents/{key}", headers=bearer(token))
    assert {r["organ_id"]: r["status"] for r in document.json()["recipients"]} == {
        "000.00.03.H33": None,
        "000.00.05.H33": None,
    }  # nothing recorded


async def test_a_status_reported_before_the_merger_keeps_the_old_code(
    client: httpx.AsyncClient,
) -> None:
    """Its Timestamp says when it was reported: one of 30 June 2025 is the old body's own."""
    token = await fetch_token(client, AG)
    key = await sent_before_the_merger(client, token, "44")
    report = {"organ_id": "000.00.03.H33", "status_code": "01", "timestamp": "2025-06-30T16:00:00"}

    answer = await client.post(
        f"{AG}/qlvb/v1/documents/{key}/status", json=report, headers=bearer(token)
    )

    assert answer.status_code == 200, answer.text


async def test_the_successor_reports_and_reads_the_closed_body_s_documents(
    client: httpx.AsyncClient,
) -> None:
    """Sở Tài chính tỉnh An Giang carries on Kiên Giang's: a document addressed to 000.00.03.H33
    before the merger is its to read and report on; another body of today's is no party."""
    token = await fetch_token(client, AG)
    key = await sent_before_the_merger(client, token, "45")
    status = f"{AG}/qlvb/v1/documents/{key}/status"

    reported = await client.post(
        status, json={"organ_id": "000.00.03.H01", "status_code": "01"}, headers=bearer(token)
    )
    stranger = await client.post(
        status, json={"organ_id": "000.00.02.H01", "status_code": "01"}, headers=bearer(token)
    )
    read = await client.get(
        f"{AG}/qlvb/v1/documents/{key}?organ_id=000.00.03.H01", headers=bearer(token)
    )

    assert reported.status_code == 200, reported.text
    assert {r["organ_id"]: r["status"] for r in reported.json()["recipients"]} == {
        "000.00.03.H33": "01",
        "000.00.05.H33": None,
    }
    assert "UID=000.00.03.H01" in reported.json()["signature"]["subject"]
    assert_problem(stranger, 403, "NOT_A_PARTY")
    assert read.status_code == 200, read.text
    assert [r["organ_id"] for r in read.json()["recipients"]] == ["000.00.03.H33"]


async def test_the_successor_s_inbox_lists_what_was_addressed_to_the_closed_body(
    client: httpx.AsyncClient,
) -> None:
    """Sở Tài chính tỉnh An Giang (000.00.03.H01) receives what was addressed to Kiên Giang's
    (000.00.03.H33) before the merger; another body of today's does not."""
    token = await fetch_token(client, AG)
    key = await sent_before_the_merger(client, token, "46")
    inbox = f"{AG}/qlvb/v1/documents/inbox"

    successor = await client.get(inbox, params={"organ_id": "000.00.03.H01"}, headers=bearer(token))
    stranger = await client.get(inbox, params={"organ_id": "000.00.02.H01"}, headers=bearer(token))

    assert successor.status_code == 200, successor.text
    (item,) = [item for item in successor.json()["items"] if item["id"] == key]
    assert item["organ_id"] == "000.00.03.H33"  # the code it was addressed to, not its own
    assert stranger.status_code == 200, stranger.text
    assert key not in [item["id"] for item in stranger.json()["items"]]


async def test_the_successor_s_inbox_lists_statuses_addressed_to_the_closed_sender(
    client: httpx.AsyncClient,
) -> None:
    """A status on what Kiên Giang's Sở Tư pháp (000.00.01.H33) sent before the merger is
    addressed to it: An Giang's (000.00.01.H01) lists it; another body of today's does not."""
    token = await fetch_token(client, AG)
    key = await sent_before_the_merger(client, token, "48")
    reported = await client.post(
        f"{AG}/qlvb/v1/documents/{key}/status",
        json={"organ_id": "000.00.03.H01", "status_code": "01"},
        headers=bearer(token),
    )
    assert reported.status_code == 200, reported.text
    inbox = f"{AG}/qlvb/v1/documents/inbox"

    lists = [
        await client.get(
            inbox, params={"organ_id": organ_id, "kind": "status"}, headers=bearer(token)
        )
        for organ_id in ("000.00.01.H01", "000.00.02.H01")
    ]

    assert [answer.status_code for answer in lists] == [200, 200], lists[0].text
    successor, stranger = ([item["id"] for item in a.json()["items"]] for a in lists)
    assert key in successor
    assert key not in stranger


async def test_the_successor_s_status_on_another_province_s_document_reaches_its_sender(
    client: httpx.AsyncClient,
) -> None:
    """Code review: Tiền Giang's Sở Tư pháp (Đồng Tháp's today) wrote to Kiên Giang's Sở Tài
    chính on 30 June 2025; An Giang's (000.00.03.H01), its successor, reports 01. The axis
    counts it as the closed body's, as An Giang's document system does: it reached no sender
    (403 NOT_A_PARTY, a dead letter in An Giang's outbox)."""
    ag, dt = bearer(await fetch_token(client, AG)), bearer(await fetch_token(client, DT))
    document = canonical_document(
        "49", [{"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính tỉnh Kiên Giang"}],
        sender="000.00.01.H58", sender_name="Sở Tư pháp tỉnh Tiền Giang",
        notation="STP-VP", subject="V/v bàn giao", date="2025-06-30",
    )  # fmt: skip
    sent = await client.post(f"{DT}/qlvb/v1/documents", json=document, headers=dt)
    assert sent.status_code == 202, sent.text
    document_id = sent.json()["document_id"]
    inbox = await eventually(
        lambda: client.get(
            f"{AG}/qlvb/v1/documents/inbox", params={"organ_id": "000.00.03.H01", "size": 100},
            headers=ag,
        ),
        lambda r: document_id in [i["document_id"] for i in r.json()["items"]],
    )  # fmt: skip
    (key,) = [i["id"] for i in inbox.json()["items"] if i["document_id"] == document_id]

    reported = await client.post(
        f"{AG}/qlvb/v1/documents/{key}/status",
        json={"organ_id": "000.00.03.H01", "status_code": "01"}, headers=ag,
    )  # fmt: skip

    assert reported.status_code == 200, reported.text
    seen = await eventually(
        lambda: client.get(f"{DT}/qlvb/v1/documents/{sent.json()['id']}", headers=dt),
        lambda r: r.json()["recipients"][0]["status"] is not None,
    )
    assert {r["organ_id"]: r["status"] for r in seen.json()["recipients"]} == {
        "000.00.03.H33": "01"
    }
    outbox = await client.get(f"{AG}/admin/outbox", headers=ag)
    assert [m for m in outbox.json()["messages"] if m["state"] == "dead"] == []


@pytest.mark.parametrize("days", [0, 2])
async def test_a_document_dated_after_today_is_refused_as_future_dated(
    client: httpx.AsyncClient, days: int
) -> None:
    """The document system checks the date against its clock, past the assigned
    `LGSP_DOCUMENT_CLOCK_SKEW_SECONDS`: a document is dated the day it is issued."""
    token = await fetch_token(client, AG)
    day = datetime.now(VIETNAM_TIME).date() + timedelta(days=days)
    recipient = {"organ_id": "000.00.03.H01", "organ_name": "Sở Tài chính tỉnh An Giang"}
    document = canonical_document(
        f"6{days}", [recipient], sender="000.00.01.H01", sender_name="Sở Tư pháp tỉnh An Giang",
        notation="STP-VP", subject="V/v lịch công tác", date=day.isoformat(),
    )  # fmt: skip

    answer = await client.post(f"{AG}/qlvb/v1/documents", json=document, headers=bearer(token))

    if days == 0:
        assert answer.status_code == 202, answer.text
    else:
        problem = assert_problem(answer, 422, "INVALID_EDXML")
        assert problem["rule"] == "future_dated"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("admin/ca/certificates", {"password": "doi-mat-khau-1"}),
        ("admin/clients", {"name": "STP portal desk", "rights": {"dvc": "*"}}),
    ],
    ids=["certificate", "client"],
)
@pytest.mark.parametrize(
    ("organ_id", "status", "successor"),
    [
        ("000.00.01.H01", 201, None),  # Sở Tư pháp tỉnh An Giang, today's
        ("000.00.01.H33", 422, "000.00.01.H01"),  # Kiên Giang's, closed: An Giang's succeeds it
        ("000.00.05.H33", 422, None),  # UBND thành phố Rạch Giá: no district body today
    ],
)
async def test_no_credentials_are_made_for_a_body_the_merger_closed(
    client: httpx.AsyncClient,
    path: str,
    body: dict[str, Any],
    organ_id: str,
    status: int,
    successor: str | None,
) -> None:
    """Its old documents keep the closed code, but no new client or certificate is made for a
    body that no longer exists: the problem names the code that succeeds it (and the body, if
    today's province has one)."""
    token = await fetch_token(client, AG)
    key = "organ_id" if path.startswith("admin/ca") else "organisation"

    answer = await client.post(f"{AG}/{path}", json={**body, key: organ_id}, headers=bearer(token))

    assert answer.status_code == status, answer.text
    if status == 422:
        problem = answer.json()
        assert problem["code"] == "AGENCY_CODE_CLOSED"
        assert (problem["organ_id"], problem["successor_code"]) == (organ_id, "H01")
        assert problem.get("successor_organ_id") == successor


async def test_a_cccd_keeps_its_birth_code_and_names_today_s_province(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    citizen, answer = await national_lookup_of_a_haugiang_citizen(client, settings)

    assert answer.status_code == 200, answer.text
    assert citizen.so_dinh_danh.startswith("093")  # unchanged by the merger
    assert answer.json()["birth_registration"] == {
        "province_code": "93",
        "province": "Tỉnh Hậu Giang",
        "successor_code": "92",
        "successor": "Thành phố Cần Thơ",
    }
