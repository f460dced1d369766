"""Fixtures of the browser tests: Debian's headless Chromium driven by Selenium.

The tests drive the Chromium and ChromeDriver that Debian packages
(`apt-get install chromium chromium-driver`); nothing is ever downloaded.
Without them the browser tests skip, except under CI=true, where they fail.
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
]


@pytest.fixture(scope="session")
def chromium(live_server):
    """One headless Chromium for the whole session (starting one takes a second).

    It depends on the live server so that it quits first: its open keep-alive
    connections must close while the server still shares the test database.
    """
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        reason = (
            "browser tests need Chromium and ChromeDriver on PATH "
            "(Debian: apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    # The console log, where Chromium reports each Content Security Policy
    # violation; the page fixture fails a test that caused one.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager never looks for (or downloads) one.
    service = webdriver.ChromeService(executable_path=driver)
    chrome = webdriver.Chrome(options=options, service=service)
    yield chrome
    chrome.quit()


class Page:
    """What a person does with a page: open it, fill fields by label, press buttons."""

    def __init__(self, driver, base_url, screenshots):
        self.driver = driver
        self.base_url = base_url
        self.screenshots = screenshots

    @property
    def path(self):
        return urlsplit(self.driver.current_url).path

    def open(self, path):
        self.driver.get(self.base_url + path)

    def text(self, css="main"):
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def field(self, label):
        """The input that a <label> names (its text without the trailing colon)."""
        xpath = f"//label[translate(normalize-space(), ':', '')='{label}']"
        element = self.driver.find_element(By.XPATH, xpath)
        return self.driver.find_element(By.ID, element.get_attribute("for"))

    def fill(self, label, value):
        field = self.field(label)
        field.clear()
        field.send_keys(value)

    def attach(self, label, path):
        """Choose a file for a file input, as the file picker would."""
        self.field(label).send_keys(str(path))

    def wait_for_image(self, css):
        """Wait until the <img> shows a real picture, not a broken link."""
        image = self.driver.find_element(By.CSS_SELECTOR, css)
        loaded = "return arguments[0].complete && arguments[0].naturalWidth > 0"
        WebDriverWait(self.driver, 10).until(
            lambda driver: driver.execute_script(loaded, image)
        )

    def press(self, button):
        """Click a button and wait for the page it leads to."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(
            By.XPATH, f"//button[normalize-space()='{button}']"
        ).click()
        # While the old document is being replaced, Chromium may answer the
        # staleness check with "Node with given id does not belong to the
        # document" instead of a stale element: ask again.
        wait = WebDriverWait(self.driver, 10, ignored_exceptions=[WebDriverException])
        wait.until(expected_conditions.staleness_of(page))

    def csp_violations(self):
        """The CSP violations Chromium logged since the last call (reading empties the log)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if "Content Security Policy" in entry["message"]
        ]

    def screenshot(self, name):
        """Save the page as <name>.png in SCREENSHOT_DIR (or the test's tmp dir)."""
        assert re.fullmatch(r"[a-z0-9-]+", name), name
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot of {name}"
        return path


@pytest.fixture
def page(live_server, chromium, settings, tmp_path):
    """A fresh visit (no cookies) of the live server in the shared Chromium."""
    settings.ROOT_URLCONF = f"{__package__}.browser_urls"
    chromium.delete_all_cookies()
    screenshots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "screenshots")
    page = Page(chromium, live_server.url, screenshots)
    page.csp_violations()  # forget an earlier test's
    yield page
    chromium.delete_all_cookies()
    # Local and production settings enforce the same policy: a page that
    # breaks it here would be broken for real visitors.
    assert page.csp_violations() == []
