"""The report in a real browser: Debian's chromium driven by chromedriver (selenium).

Loaded at 1,400 px and 400 px wide, the page must not overflow horizontally, every image must be decoded and
every link of the claim summary must land on an element with its id. `.ci/run` installs chromium when missing;
outside CI the test is skipped with the reason when chromium or chromedriver is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from replab.report import build_report
from replab.runs import save_run
from tests.helpers import TinyConfig, TinyExperiment, tiny_result

pytestmark = pytest.mark.slow  # clusters, notebooks and browsers: the slow tier

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")
PAGE_LOAD_TIMEOUT_S = 60
WIDTHS = (1400, 400)


def _binary(*names: str) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


def _require_browser() -> tuple[str, str]:
    chromium, driver = _binary("chromium", "chromium-browser"), _binary("chromedriver")
    missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver)) if path is None]
    if missing or not _selenium_present():
        what = ", ".join(missing + ([] if _selenium_present() else ["selenium (pip install -e '.[dev]')"]))
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test but {what} is missing (.ci/run installs it)")
        pytest.skip(f"{what} not installed: `apt-get install -y chromium chromium-driver` to run the browser test")
    return chromium, driver


def _selenium_present() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return True


class Browser:
    """One headless chromium with a fresh profile, stopped through the driver process it started."""

    def __init__(self, chromium: str, driver: str, width: int, height: int = 900) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="replab-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        self.service = Service(executable_path=driver, log_output=subprocess.DEVNULL)
        self.driver = webdriver.Chrome(service=self.service, options=options)
        self.driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        self.driver.set_script_timeout(PAGE_LOAD_TIMEOUT_S)
        # a headless window is at least 500 px wide: emulate the viewport to get a true 400 px one
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            process = getattr(self.service, "process", None)
            if process is not None and process.poll() is None:  # only the chromedriver this test started
                process.kill()
                process.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)


def _measure_page(driver, url: str) -> dict:
    driver.get(url)
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const images = Array.from(document.images);
        // lazily loaded figures are decoded once they are scrolled to: bring each into view and decode it
        Promise.all(images.map(img => { img.loading = 'eager'; return img.decode().catch(() => null); }))
          .then(() => {
            const links = Array.from(document.querySelectorAll('#claims a[href^="#"]'));
            done({
              scrollWidth: document.documentElement.scrollWidth,
              innerWidth: window.innerWidth,
              images: images.length,
              undecoded: images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.alt),
              links: links.length,
              broken: links.map(a => a.getAttribute('href').slice(1))
                           .filter(id => !document.getElementById(decodeURIComponent(id))),
              wide: Array.from(document.querySelectorAll('body *'))
                         .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                         .slice(0, 5).map(e => e.tagName + '.' + e.className),
            });
          });
    """)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    save_run(out, "tiny", "Tiny", "Is it tiny?", TinyConfig(), tiny_result("a finding whose statement is long "
             "enough to wrap on a narrow screen, with a verdict badge that must stay visible"), wall_time_s=1.0)
    save_run(out, "other", "Other", "Another question?", TinyConfig(quick=True),
             TinyExperiment.run(TinyConfig(quick=True, label="other")), wall_time_s=1.0)
    return build_report(out)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_in_chromium_fits_decodes_its_figures_and_links_every_claim(report, width):
    chromium, driver = _require_browser()
    browser = Browser(chromium, driver, width)
    try:
        page = _measure_page(browser.driver, report.resolve().as_uri())
    finally:
        browser.close()
    assert page["innerWidth"] == width
    assert page["scrollWidth"] <= page["innerWidth"], f"horizontal overflow at {width} px: {page}"
    assert page["images"] >= 2 and not page["undecoded"], page
    assert page["links"] >= 4 and not page["broken"], page
