"""An integrator's CI: a token, a citizen, a dossier, a document for another province."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lgsp.testing import LgspBus

# Today's An Giang and Đồng Tháp, which hold the records of Kiên Giang and Tiền Giang; the
# document below is dated before 1 July 2025, so it names their agencies' codes of then.
KG, TG = "angiang", "dongthap"
SENDER, RECIPIENT = "000.00.01.H33", "000.00.01.H58"  # Sở Tư pháp of Kiên Giang, of Tiền Giang


def samples(http: httpx.Client, lgsp: LgspBus, instance: str = KG) -> dict[str, list[str]]:
    """Identifiers of the seeded data to try (citizens, procedures, dossiers, agencies)."""
    answer = http.get(f"{lgsp.base_url(instance)}/admin/samples", headers=lgsp.headers(instance))
    assert answer.status_code == 200, answer.text
    found: dict[str, list[str]] = answer.json()["samples"]
    return found


def test_a_client_gets_a_token_with_its_credentials(
    lgsp: LgspBus, lgsp_client: httpx.Client
) -> None:
    answer = lgsp_client.post(
        f"{lgsp.base_url(KG)}/token",
        data={"grant_type": "client_credentials"},
        auth=(lgsp.demo_client_id, lgsp.demo_client_secret),
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"].lower() == "bearer"


def test_a_citizen_is_found_by_cccd(
    lgsp: LgspBus, lgsp_client: httpx.Client, lgsp_token: str
) -> None:
    cccd = samples(lgsp_client, lgsp)["cccd"][0]

    answer = lgsp_client.get(
        f"{lgsp.base_url(KG)}/dancu/v1/citizens/{cccd}",
        headers={"Authorization": f"Bearer {lgsp_token}"},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["cccd"] == cccd
    assert answer.json()["full_name"]


def test_an_unknown_citizen_is_a_problem_with_a_stable_code(
    lgsp: LgspBus, lgsp_client: httpx.Client
) -> None:
    answer = lgsp_client.get(f"{lgsp.base_url(KG)}/dancu/v1/citizens/123", headers=lgsp.headers(KG))

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "INVALID_CCCD"


def file_a_dossier(lgsp: LgspBus, http: httpx.Client) -> httpx.Response:
    """A birth registration for the first adult among the seeded citizens."""
    found = samples(http, lgsp)
    citizens = (
        http.get(f"{lgsp.base_url(KG)}/dancu/v1/citizens/{cccd}", headers=lgsp.headers(KG)).json()
        for cccd in found["cccd"]
    )
    adult = next(c for c in citizens if c["date_of_birth"] < "2000-01-01")
    return http.post(
        f"{lgsp.base_url(KG)}/dvc/v1/dossiers",
        json={
            "procedure_code": found["procedure"][0],
            "applicant": {
                "cccd": adult["cccd"],
                "full_name": adult["full_name"],
                "date_of_birth": adult["date_of_birth"],
            },
            "summary": "Hồ sơ thử nghiệm từ CI của nhà cung cấp",
        },
        headers=lgsp.headers(KG),
    )


def test_a_dossier_is_filed_for_a_verified_applicant(
    lgsp: LgspBus, lgsp_client: httpx.Client
) -> None:
    filed = file_a_dossier(lgsp, lgsp_client)

    assert filed.status_code == 201, filed.text
    dossier = lgsp_client.get(
        f"{lgsp.base_url(KG)}/dvc/v1/dossiers/{filed.json()['code']}", headers=lgsp.headers(KG)
    )
    assert dossier.json()["status"]["code"] == 1


@pytest.mark.parametrize("turn", ["first", "second"])
def test_every_test_starts_from_the_seeded_dossiers(
    lgsp: LgspBus, lgsp_client: httpx.Client, turn: str
) -> None:
    listing = f"{lgsp.base_url(KG)}/dvc/v1/dossiers"
    before = lgsp_client.get(listing, headers=lgsp.headers(KG)).json()["total"]

    assert file_a_dossier(lgsp, lgsp_client).status_code == 201

    after = lgsp_client.get(listing, headers=lgsp.headers(KG)).json()["total"]
    assert before == 10  # one seeded dossier per status: the other turn's filing is gone
    assert after == before + 1


def document(number: str) -> dict[str, Any]:
    return {
        "from": {"organ_id": SENDER, "organ_name": "Sở Tư pháp tỉnh Kiên Giang"},
        "to": [{"organ_id": RECIPIENT, "organ_name": "Sở Tư pháp tỉnh Tiền Giang"}],
        "code": {"code_number": number, "code_notation": "STP-VP"},
        "promulgation": {"place": "Rạch Giá", "date": "2025-06-03"},
        "document_type": {"type": 1, "type_name": "Công văn"},
        "subject": "V/v xác minh hồ sơ liên tỉnh",
        "signer": {"position": "Giám đốc", "full_name": "Nguyễn Văn Hùng"},
        "other_info": {"priority": 0},
    }


def test_a_document_sent_to_another_province_arrives_in_its_inbox(
    lgsp: LgspBus, lgsp_client: httpx.Client
) -> None:
    sent = lgsp_client.post(
        f"{lgsp.base_url(KG)}/qlvb/v1/documents", json=document("43"), headers=lgsp.headers(KG)
    )
    assert sent.status_code == 202, sent.text

    lgsp.wait_for_document(sent, to=TG)  # store and forward: KG's outbox → NDXP → TG

    inbox = lgsp_client.get(
        f"{lgsp.base_url(TG)}/qlvb/v1/documents/inbox",
        params={"organ_id": RECIPIENT},
        headers=lgsp.headers(TG),
    )
    assert any(item["id"] == sent.json()["id"] for item in inbox.json()["items"]), inbox.text


def test_a_filed_dossier_is_synchronised_to_the_national_portal(
    lgsp: LgspBus, lgsp_client: httpx.Client
) -> None:
    filed = file_a_dossier(lgsp, lgsp_client)
    assert filed.status_code == 201, filed.text

    lgsp.wait_for_national_sync(filed)


@pytest.mark.anyio
async def test_async_code_reaches_the_bus_too(lgsp: LgspBus) -> None:
    async with lgsp.async_client() as http:
        answer = await http.get(f"{lgsp.base_url(KG)}/services", headers=lgsp.headers(KG))

    assert answer.status_code == 200
