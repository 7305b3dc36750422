"""The browser tier (`make test-browser`): Debian's chromium, driven by Selenium, against a bus
served on a loopback port. Nothing is downloaded: the driver is `/usr/bin/chromedriver`, the
browser `/usr/bin/chromium` (`.ci/run` installs both when missing)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from lgsp.testing import BusOptions, LgspBus, start_bus

CHROMIUM = Path(os.environ.get("LGSP_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("LGSP_CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
"""Where `LGSP_UPDATE_SCREENSHOTS=1 make test-browser` writes the README's screenshots."""
UPDATE_SCREENSHOTS = os.environ.get("LGSP_UPDATE_SCREENSHOTS") == "1"
"""Read at import: the suite's autouse fixture clears `LGSP_*` variables before each test."""


@pytest.fixture(scope="module")
def lgsp_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LgspBus]:
    """A bus on a free loopback port, as a browser needs one; a small seed for speed; the
    seeds' world (era 2024), whose provinces and agency codes the tests' documents name, as
    the rest of the suite (tests/conftest.py; built before its per-test LGSP_ERA applies)."""
    options = BusOptions(
        data_dir=tmp_path_factory.mktemp("browser-bus"),
        mode="port",
        population=40,
        seed=7,
        settings_overrides={"era": "2024"},
    )
    with start_bus(options) as bus:
        yield bus


@pytest.fixture
def lgsp(lgsp_bus: LgspBus) -> LgspBus:
    lgsp_bus.reset()
    return lgsp_bus


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(
            f"no {CHROMIUM} or {CHROMEDRIVER}: `apt-get install -y chromium chromium-driver`"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-background-networking",  # no update checks, no safe-browsing lists
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """Every URL the browser requested since the last call (from Chrome's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def screenshot(driver: webdriver.Chrome, name: str, tmp_path: Path) -> Path:
    """A PNG of the page, kept for the README when `LGSP_UPDATE_SCREENSHOTS=1`."""
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path))
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / path.name)
    return path
