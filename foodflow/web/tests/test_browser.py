"""The main flow in a real browser: Debian's Chromium driven by Playwright."""

from pathlib import Path
from urllib.parse import urlparse

import pytest

from foodflow.web.demo import DEMO_PASSWORD, demo_seed

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

pytestmark = [pytest.mark.browser]


@pytest.fixture
def demo_company(transactional_db):
    # Seeded before Playwright starts: inside its event loop Django would open a second
    # database connection in another context, which nothing closes.
    return demo_seed()


def test_login_chinese_home_switch_to_english_and_nothing_leaves_the_server(demo_company, browser, live_server):
    server = urlparse(live_server.url).netloc
    page = browser.new_page(locale="en-US")  # the browser asks for English; the company default wins
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", "rep")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1.page-title").inner_text().strip() == "张伟，您好"
    assert page.locator("text=我的客户").count() == 1
    # the stylesheet really loaded: Tabler styles the navbar
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar-vertical')).display") != "inline"

    page.click("[data-testid=switch-language]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1.page-title").inner_text().strip() == "Good day, 张伟"
    assert page.locator("text=My customers").count() == 1

    # the global search answers as you type (htmx from our own static files)
    page.fill("input[name=q]", "Order")
    page.wait_for_selector("#search-dropdown [data-testid=search-results]")
    assert "Order to cash" in page.inner_text("#search-dropdown")

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "home-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone

    foreign = [url for url in requested if urlparse(url).netloc not in {server, ""}]
    assert foreign == []
    assert any("/static/vendor/tabler/tabler.min.css" in url for url in requested)
    assert any("/static/django_htmx/" in url for url in requested)
