"""Acceptance: an import in Chromium, with the real background run (a thread of the server in the
embedded mode): upload, keep the guessed mapping, check, import, and the page follows the run
until it shows the counts."""

import pytest

from conftest import PASSWORD
from foodflow.crm.models import Customer
from foodflow.imports.models import ImportJob
from foodflow.testing import browser as browser_steps

pytestmark = [pytest.mark.browser]

CSV = (
    "客户编号,客户名称,渠道,大区,负责人,信用额度,账期天数\n"
    "OLD-001,上海联华超市,ka,EAST,rep_east1,200000,30\n"
    "OLD-002,杭州便民食品商行,零售,EAST,rep_east1,5000,0\n"
    "OLD-003,广州天河餐饮管理有限公司,food_service,SOUTH,rep_east1,80000.50,45\n"
).encode()


@pytest.fixture
def importer(transactional_db, make_user, settings):
    settings.IMPORTS_RUN_INLINE = False  # the real background path
    make_user("rep", username="rep_east1")
    return make_user("admin", unit="HQ", username="importer")


def test_a_file_is_uploaded_checked_and_imported_in_the_background(importer, browser, live_server):
    page = browser_steps.logged_in(browser, live_server.url, importer.username, PASSWORD)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/imports/")
    browser_steps.submit(page, page.locator("[data-testid=new-import]").first)

    page.locator("label:has([data-testid=kind-customers])").click()
    page.set_input_files("input[name=file]", files=[{"name": "客户.csv", "mimeType": "text/csv", "buffer": CSV}])
    browser_steps.submit(page, page.locator("[data-testid=upload]"))
    assert page.locator("[data-testid=preview-row]").count() == 3
    assert page.locator("select[name=map_owner]").input_value() == "负责人"  # the guess, kept
    # the preview follows a select as it changes (and back)
    page.select_option("select[name=map_invoice_title]", "客户名称")
    page.locator("[data-testid=preview-table] th[data-field=invoice_title][data-column=客户名称]").wait_for()
    page.select_option("select[name=map_invoice_title]", "")
    page.locator("[data-testid=preview-table] th[data-field=invoice_title][data-column='']").wait_for()

    browser_steps.submit(page, page.locator("[data-testid=check]"))
    result = page.locator("[data-testid=check-result]")
    assert (result.get_attribute("data-total"), result.get_attribute("data-invalid")) == ("3", "0")

    browser_steps.submit(page, page.locator("[data-testid=import-all]"))
    # the answer comes at once: the page shows the progress bar, then reloads with the counts
    page.locator("[data-testid=import-progress], [data-testid=count-created]").first.wait_for()
    page.locator("[data-testid=count-created]").wait_for()
    assert page.locator("[data-testid=count-created]").get_attribute("data-value") == "3"
    assert page.locator("[data-testid=job-state]").get_attribute("data-state") == "done"
    assert ImportJob.objects.get().state == ImportJob.State.DONE
    assert set(Customer.objects.values_list("code", flat=True)) == {"OLD-001", "OLD-002", "OLD-003"}
    assert errors == []
