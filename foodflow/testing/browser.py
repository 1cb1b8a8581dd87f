"""Steps the browser tests share: one logged-in Chromium context per person, a form sent and
its answer checked for errors, a modal filled and confirmed. (The `browser` fixture in the
root conftest starts Debian's Chromium.)"""

from __future__ import annotations

TIMEOUT_MS = 15_000


def logged_in(browser, server: str, username: str, password: str):
    """A browser context of its own for one person, logged in through the login page."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    return page


def submit(page, button) -> None:
    """Click a button that sends a form, wait for the answer page, and fail with what the
    page says when it shows an error (a refused service, a form error)."""
    with page.expect_navigation():
        button.click()
    errors = page.locator(".alert-danger, [data-testid=form-errors], .invalid-feedback")
    assert errors.count() == 0, f"{page.url}: {errors.all_inner_texts()}"


def confirm_in_modal(page, opener, testid: str, **fields) -> None:
    """Open a modal, fill its fields (name → value) and press its confirm button."""
    opener.click()
    modal = page.locator(".modal.show")
    modal.wait_for()
    for name, value in fields.items():
        modal.locator(f"[name={name}]").fill(value)
    submit(page, modal.locator(f"[data-testid={testid}]"))


def migration_defaults_restore() -> None:
    """A transactional test starts from a flushed database: the data the migrations make
    (approval policies, contract templates, risk policy, SLAs) is laid again by the
    migrations' own functions."""
    import importlib

    from django.apps import apps

    for module in (
        "foodflow.sales.migrations.0002_defaults",
        "foodflow.contracts.migrations.0002_defaults",
        "foodflow.service.migrations.0002_defaults",
        "foodflow.service.migrations.0004_credit_policies_surveys",
    ):
        importlib.import_module(module).defaults(apps, None)
