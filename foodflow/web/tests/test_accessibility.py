"""Accessibility (issue 11, part 7), in Chromium on the demo company: the main pages pass
axe-core (from npm, WCAG 2.0–2.2 A and AA rules) without a serious or critical violation, and on
the home page, a list with filters and the quotation form the keyboard reaches every visible
control, with a visible focus indicator and no trap; the menus open with Enter and with Space.

The pages are served from the test's own database connection (``shared_server``): the demo
company, seeded once for the module inside a rolled-back transaction, is seen by the server on
PostgreSQL too, and no test flushes the database."""

import threading
from pathlib import Path

import pytest
from django.urls import reverse

from foodflow.web.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser]

AXE_JS = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
TIMEOUT_MS = 30_000

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((node) => node.target.join(" ")),
  }));
}"""

# Marks the visible controls a keyboard user must reach (a radio group is one stop: the checked
# radio, else the first) and remembers each one's unfocused box-shadow; then logs every focus.
CONTROLS_MARK = """() => {
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]";
  const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const controls = [...document.querySelectorAll(selector)].filter((e) =>
    !e.disabled && e.getAttribute("tabindex") !== "-1" && !e.closest("[inert]") && visible(e)
    && !(e.type === "radio" && e.form && [...e.form.elements].some((other) =>
        other.type === "radio" && other.name === e.name && other !== e && (other.checked
          || (!e.checked && other.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)))));
  controls.forEach((e, i) => { e.dataset.a11yControl = i; e.dataset.a11yShadow = getComputedStyle(e).boxShadow; });
  window.a11yFocusLog = [];
  document.addEventListener("focusin", (event) => {
    const e = event.target, style = getComputedStyle(e);
    window.a11yFocusLog.push({
      control: e.dataset.a11yControl === undefined ? null : Number(e.dataset.a11yControl),
      skipLink: e.matches("a[href='#main']"),
      indicator: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
        || (e.dataset.a11yShadow !== undefined && style.boxShadow !== e.dataset.a11yShadow),
      html: e.outerHTML.slice(0, 160),
    });
  });
  return controls.map((e) => e.outerHTML.slice(0, 160));
}"""


class SharedConnectionServer:
    """Django's threaded test server answering from the test's own database connection, one
    request at a time (a connection runs one query at a time): it sees the data of the test's
    transaction on every database, as Django's live server does only on in-memory SQLite."""

    def __init__(self):
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import ThreadedWSGIServer
        from django.db import connections
        from django.test.testcases import QuietWSGIRequestHandler

        self.connection = connection = connections["default"]  # the wrapper itself, not the proxy
        self.serving = threading.Lock()
        serving = self.serving

        class Server(ThreadedWSGIServer):
            def _close_connections(self):
                pass  # Django closes a request's connections: this one holds the test's transaction

        def one_at_a_time(environ, start_response, app=StaticFilesHandler(WSGIHandler())):
            with serving:
                return app(environ, start_response)

        self.httpd = Server(
            ("127.0.0.1", 0),
            QuietWSGIRequestHandler,
            allow_reuse_address=False,
            connections_override={"default": connection},
        )
        self.httpd.set_app(one_at_a_time)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        from django.core import signals
        from django.db import close_old_connections

        # each request would close a connection "left in a transaction": the test's is, on purpose
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        self.connection.inc_thread_sharing()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        from django.core import signals
        from django.db import close_old_connections

        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
        self.connection.dec_thread_sharing()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def shared_server(seeded_company):
    with SharedConnectionServer() as server:
        yield server


@pytest.fixture
def server(demo, shared_server):
    """The server, for one test; at its end no request is still running when the test's
    savepoint is rolled back."""
    yield shared_server
    with shared_server.serving:
        pass


@pytest.fixture(scope="module")
def axe_source():
    if not AXE_JS.exists():
        pytest.fail("axe-core is missing: run `./dev setup` (npm ci installs it)")
    return AXE_JS.read_text()


@pytest.fixture
def main_pages(demo):
    """Who looks at which page: {username or None (not logged in): [(path, expected status)]}.
    Looked up before the browser starts (inside Playwright's event loop Django would open a
    second connection, outside the test's transaction)."""
    from foodflow.contracts.models import Contract
    from foodflow.crm.models import Customer
    from foodflow.sales.models import Quotation, SalesOrder
    from foodflow.service.models import Complaint

    rep = demo["users"]["rep"]
    customer = Customer.objects.filter(owner=rep).order_by("pk").first()
    quotation = Quotation.objects.filter(customer__owner=rep, state="pending_approval").order_by("pk").first()
    order = SalesOrder.objects.filter(customer__owner=rep, state="confirmed").order_by("pk").first()
    complaint = Complaint.objects.filter(state="in_progress").order_by("pk").first()
    contract = Contract.objects.filter(state="active").order_by("pk").first()
    return {
        None: [(reverse("accounts:login"), 200), (reverse("service_public:complaint"), 200)],
        "rep": [
            (reverse("web:home"), 200),
            (reverse("crm:customers"), 200),
            (reverse("crm:customer_detail", args=[customer.pk]), 200),
            (reverse("sales:quotations"), 200),
            (reverse("sales:quotation_create"), 200),
            (reverse("sales:quotation_detail", args=[quotation.pk]), 200),
            (reverse("sales:orders"), 200),
            (reverse("sales:order_detail", args=[order.pk]), 200),
            ("/no-such-page/", 404),
        ],
        "manager": [(reverse("web:home"), 200), (reverse("sales:approvals"), 200)],
        "director": [
            (reverse("web:home"), 200),
            (reverse("service:complaints"), 200),
            (reverse("service:complaint_detail", args=[complaint.pk]), 200),
            (reverse("contracts:ledger"), 200),
            (reverse("contracts:detail", args=[contract.pk]), 200),
            (reverse("analytics:dashboard"), 200),
            (reverse("web:audit"), 200),
            (reverse("imports:new"), 200),
        ],
        "planner": [(reverse("sales:deliveries"), 200), (reverse("inventory:stock"), 200)],
    }


def new_page(browser, *, axe_source: str | None = None):
    """A browser context of its own for one person, with reduced motion (a focus ring is there
    at once, not after a transition) and, given its source, axe-core in every page: an init
    script goes in through DevTools, where the Content-Security-Policy (scripts from our own
    files only) does not apply; an inline <script> would be refused."""
    context = browser.new_context(reduced_motion="reduce", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    if axe_source:
        context.add_init_script(script=axe_source)
    return context.new_page()


def log_in(page, server, username: str):
    """Logs in through the login page; the answer of the home page it lands on."""
    page.goto(f"{server.url}{reverse('accounts:login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation() as landing:
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/", f"{username} could not log in"
    return landing.value


def test_main_pages_have_no_serious_accessibility_violation(main_pages, server, axe_source, browser):
    found = []
    for username, pages in main_pages.items():
        page = new_page(browser, axe_source=axe_source)
        landing = log_in(page, server, username) if username else None
        for path, status in pages:
            url = f"{server.url}{path}"
            # the home page the login landed on is checked as it is
            response = landing if landing and page.url == url else page.goto(url, wait_until="load")
            landing = None
            assert response.status == status, f"{username} {path}: {response.status}"
            for violation in page.evaluate(AXE_RUN, WCAG_TAGS):
                if violation["impact"] in BLOCKING:
                    found.append(
                        f"{path} ({username or 'anonymous'}): {violation['rule']} [{violation['impact']}] "
                        f"{violation['help']}: {', '.join(violation['targets'][:8])}"
                        + (f" … {len(violation['targets'])} in all" if len(violation["targets"]) > 8 else "")
                    )
        page.context.close()
    assert found == [], "\n".join(found)


@pytest.fixture
def keyboard_pages():
    """The home page, a list with filters, a form with a formset."""
    return [reverse("web:home"), reverse("sales:quotations"), reverse("sales:quotation_create")]


def tab_through(page) -> tuple[list[str], list[dict]]:
    """Every visible control of the page, and what Tab focused, in order, from the top of the
    page until the focus came round to the first stop again."""
    page.wait_for_load_state("networkidle")  # htmx fills parts of the page after load
    controls = page.evaluate(CONTROLS_MARK)
    for _ in range(len(controls) + 30):
        page.keyboard.press("Tab")
        if page.evaluate("window.a11yFocusLog.filter((focus) => focus.skipLink).length") >= 2:
            break
    return controls, page.evaluate("window.a11yFocusLog")


def test_the_keyboard_reaches_every_control_with_a_visible_focus_and_no_trap(keyboard_pages, server, browser):
    page = new_page(browser)
    log_in(page, server, "rep")
    for path in keyboard_pages:
        page.goto(f"{server.url}{path}", wait_until="load")
        controls, focused = tab_through(page)
        assert focused and focused[0]["skipLink"], f"{path}: the first Tab goes to {focused[:1]}, not the skip link"
        assert page.locator("main#main").count() == 1, f"{path}: the skip link leads nowhere"
        assert sum(focus["skipLink"] for focus in focused) == 2, (
            f"{path}: Tab never came round (a trap?): {focused[-3:]}"
        )
        reached = {focus["control"] for focus in focused}
        missed = [html for index, html in enumerate(controls) if index not in reached]
        assert missed == [], f"{path}: never focused by Tab:\n" + "\n".join(missed)
        unmarked = [focus["html"] for focus in focused if not focus["indicator"]]
        assert unmarked == [], f"{path}: no visible focus indicator on:\n" + "\n".join(unmarked)
    page.context.close()


def test_menus_open_with_enter_and_with_space(server, browser):
    page = new_page(browser)
    log_in(page, server, "rep")
    closed_area = page.locator(".navbar-vertical .dropdown-toggle[aria-expanded=false]").first
    toggles = {
        "user menu": "header [data-bs-toggle=dropdown]",
        "sidebar area": f"[aria-controls='{closed_area.get_attribute('aria-controls')}']",
    }
    for key in ("Enter", "Space"):
        page.goto(f"{server.url}/", wait_until="load")
        for name, selector in toggles.items():
            toggle = page.locator(selector)
            menu = toggle.locator("xpath=following-sibling::*[contains(@class, 'dropdown-menu')]")
            toggle.focus()
            page.keyboard.press(key)
            assert toggle.get_attribute("aria-expanded") == "true", f"{name} does not open with {key}"
            assert menu.is_visible(), f"{name}: its menu stays hidden after {key}"
            page.keyboard.press("Tab")
            assert menu.evaluate("(menu) => menu.contains(document.activeElement)"), f"{name}: Tab skips its items"
            toggle.focus()
            page.keyboard.press(key)
            assert toggle.get_attribute("aria-expanded") == "false", f"{name} does not close with {key}"
    page.context.close()
