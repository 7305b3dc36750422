"""The console and the API docs in a real browser: what an integrator clicks (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from lgsp.testing import LgspBus
from mocks.dancu.seed import generate_citizens
from tests.browser.conftest import requested_urls, screenshot
from tests.fixtures.documents import cross_province_document

pytestmark = pytest.mark.browser

SENDER, RECIPIENT = "kiengiang", "tiengiang"
SETTLE = 20


def assert_only_the_bus(driver: WebDriver, bus: LgspBus) -> None:
    """No request of the pages seen since the last check left the bus (no CDN, no fonts)."""
    urls = requested_urls(driver)
    assert urls
    outside = [url for url in urls if not url.startswith((bus.url, "data:"))]
    assert not outside, outside


def sign_in(driver: WebDriver, bus: LgspBus) -> None:
    driver.get(f"{bus.url}/console/login")
    driver.find_element(By.ID, "quick-sign-in").click()
    WebDriverWait(driver, SETTLE).until(lambda d: d.find_elements(By.ID, "topology"))


def test_the_docs_work_offline_and_authorize_with_client_credentials(
    browser: WebDriver, lgsp: LgspBus, tmp_path: Path
) -> None:
    browser.get(f"{lgsp.base_url(SENDER)}/docs")
    WebDriverWait(browser, SETTLE).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 10
    )

    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert any(path.startswith("/dancu/v1/citizens/") for path in paths), paths
    assert "/{service_id}/{version}/{path}" not in paths
    browser.find_element(By.CSS_SELECTOR, ".btn.authorize").click()
    browser.find_element(By.ID, "client_id_clientCredentials").send_keys(lgsp.demo_client_id)
    browser.find_element(By.ID, "client_secret_clientCredentials").send_keys(
        lgsp.demo_client_secret
    )
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .authorize").click()
    WebDriverWait(browser, SETTLE).until(
        lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='Logout']")
    )
    screenshot(browser, "docs", tmp_path)
    urls = requested_urls(browser)
    assert f"{lgsp.base_url(SENDER)}/token" in urls
    outside = [url for url in urls if not url.startswith((lgsp.url, "data:"))]
    assert not outside, outside


def test_follow_a_cross_province_document_to_its_trace(
    browser: WebDriver, lgsp: LgspBus, tmp_path: Path
) -> None:
    with lgsp.client() as http:
        sent = http.post(
            f"{lgsp.base_url(SENDER)}/qlvb/v1/documents",
            json=cross_province_document("88"),
            headers=lgsp.headers(SENDER),
        )
    assert sent.status_code == 202, sent.text
    lgsp.wait_for_document(sent, to=RECIPIENT)
    request_id = sent.headers["x-request-id"]

    sign_in(browser, lgsp)
    screenshot(browser, "overview", tmp_path)
    browser.get(f"{lgsp.url}/console/{SENDER}/journal?service=qlvb")
    screenshot(browser, "journal", tmp_path)
    browser.find_element(By.LINK_TEXT, request_id).click()

    svg = browser.find_element(By.ID, "sequence")
    lanes = {e.text for e in svg.find_elements(By.CSS_SELECTOR, ".lane text")}
    assert {SENDER, RECIPIENT, f"{RECIPIENT}/qlvb", "client demo"} <= lanes, lanes
    assert not svg.find_elements(By.CSS_SELECTOR, ".hop.failed")
    assert "Mọi chặng đều thành công" in browser.find_element(By.ID, "verdict").text
    screenshot(browser, "trace", tmp_path)
    assert_only_the_bus(browser, lgsp)


def test_add_and_remove_a_fault(browser: WebDriver, lgsp: LgspBus, tmp_path: Path) -> None:
    sign_in(browser, lgsp)
    browser.get(f"{lgsp.url}/console/{SENDER}/faults")

    form = browser.find_element(By.ID, "add-fault")
    form.find_element(By.NAME, "service").send_keys("dancu")
    form.find_element(By.NAME, "status").send_keys("503")
    form.find_element(By.NAME, "times").send_keys("3")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    rows = browser.find_elements(By.CSS_SELECTOR, "#faults tr[data-rule]")
    assert len(rows) == 1
    assert "503" in rows[0].text
    screenshot(browser, "faults", tmp_path)
    rows[0].find_element(By.CSS_SELECTOR, "button.remove").click()
    # The click submits a form: wait for the page it leaves, or the rows read may be the old one's.
    WebDriverWait(browser, SETTLE).until(staleness_of(rows[0]))
    browser.implicitly_wait(0)
    try:
        assert not browser.find_elements(By.CSS_SELECTOR, "#faults tr[data-rule]")
    finally:
        browser.implicitly_wait(5)
    assert_only_the_bus(browser, lgsp)


def test_re_drive_a_dead_letter(browser: WebDriver, lgsp: LgspBus, tmp_path: Path) -> None:
    citizen = generate_citizens(province_code="82", seed=7, count=1)[0].so_dinh_danh
    with lgsp.client() as http:
        fault = http.post(  # the first delivery is refused for good (4xx): a dead letter
            f"{lgsp.base_url(RECIPIENT)}/admin/faults",
            json={"service": "dancu", "status": 400, "times": 1},
            headers=lgsp.headers(RECIPIENT),
        )
        assert fault.status_code == 201, fault.text
        taken = http.get(
            f"{lgsp.base_url(SENDER)}/dancu/v1/citizens/{citizen}",
            headers={
                **lgsp.headers(SENDER),
                "Prefer": "respond-async",
                "X-LGSP-Target": RECIPIENT,
                "X-Request-ID": "browser-dead-1",
                "Idempotency-Key": "browser-dead-1",
            },
        )
    assert taken.status_code == 202, taken.text
    message = taken.json()["message_id"]
    sign_in(browser, lgsp)

    def shown_dead(driver: WebDriver) -> bool:
        driver.get(f"{lgsp.url}/console/{SENDER}/outbox?state=dead")
        return bool(driver.find_elements(By.CSS_SELECTOR, f'tr[data-message="{message}"]'))

    browser.implicitly_wait(0)
    try:
        WebDriverWait(browser, SETTLE, poll_frequency=0.2).until(shown_dead)
    finally:
        browser.implicitly_wait(5)
    screenshot(browser, "outbox", tmp_path)
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-message="{message}"]')
    row.find_element(By.CSS_SELECTOR, "button.redrive").click()

    lgsp.wait_for(
        RECIPIENT,
        path="/dancu/v1/citizens/*",
        request_id="browser-dead-1",
        status=200,
        timeout=SETTLE,
    )
    assert_only_the_bus(browser, lgsp)


def test_new_exchanges_appear_on_the_open_journal_without_a_reload(
    browser: WebDriver, lgsp: LgspBus, tmp_path: Path
) -> None:
    sign_in(browser, lgsp)
    browser.get(f"{lgsp.url}/console/{SENDER}/journal?service=dancu")
    page = browser.find_element(By.ID, "journal")  # the same element after the update
    WebDriverWait(browser, SETTLE).until(
        lambda d: "mỗi" in d.find_element(By.ID, "live-status").text
    )

    with lgsp.client() as http:
        http.get(
            f"{lgsp.base_url(SENDER)}/dancu/v1/citizens/091199999999",
            headers={**lgsp.headers(SENDER), "X-Request-ID": "browser-live-1"},
        )

    WebDriverWait(browser, SETTLE).until(lambda d: d.find_elements(By.LINK_TEXT, "browser-live-1"))
    assert page.find_elements(By.CSS_SELECTOR, "tr.new")  # put in place, not a new page
    screenshot(browser, "journal-live", tmp_path)
    assert_only_the_bus(browser, lgsp)


def test_a_dossier_is_drawn_where_it_is(browser: WebDriver, lgsp: LgspBus, tmp_path: Path) -> None:
    sign_in(browser, lgsp)
    browser.get(f"{lgsp.url}/console/{SENDER}/dossiers")
    browser.find_element(By.CSS_SELECTOR, "#dossiers tr[data-dossier] a").click()

    svg = browser.find_element(By.ID, "lifecycle")
    current = svg.find_elements(By.CSS_SELECTOR, ".state.current")
    assert len(current) == 1
    assert current[0].text in browser.find_element(By.ID, "current-state").text
    screenshot(browser, "dossier", tmp_path)
    assert_only_the_bus(browser, lgsp)


@pytest.fixture(autouse=True)
def _forget_earlier_requests(browser: WebDriver) -> None:
    requested_urls(browser)  # each test checks only the requests of its own pages
