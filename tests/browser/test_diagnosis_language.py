"""Issue 10's diagnoses in the clinician's language: the GP at Imilchil types "HTA", picks essential
hypertension from the suggestions with the keyboard, sees it in French, and the Arabic summary prints it in
Arabic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 10_000
COPIES = Path(os.environ.get("CARAVANE_SCREENSHOT_COPIES", "/tmp/icd10"))


@pytest.fixture
def imilchil(live_asgi, site_factory, staff_factory):
    """The Imilchil health centre, its GP, and a patient waiting for the GP (committed: the server sees them)."""
    import datetime

    from caravane.care import actions
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    site = site_factory(name="CSR Imilchil")
    staff = {role: staff_factory(role=role, site=site, username=f"{role}.imilchil").user
             for role in ("assistant", "nurse", "gp")}
    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name="Itto",
                                     family_name="Ait Ali", gender="female", birth_date=datetime.date(1968, 2, 9),
                                     registration_site=site)
    visit = actions.do_check_in(actor=staff["assistant"], patient=patient, site=site)
    visit = actions.do_advance(actor=staff["nurse"], encounter=visit, to="with_nurse")
    actions.do_record_vitals(actor=staff["nurse"], encounter=visit, values={"systolic": "168", "diastolic": "98"})
    return actions.do_advance(actor=staff["nurse"], encounter=visit, to="with_gp")


def _keep(path: Path) -> None:
    COPIES.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, COPIES / path.name)


def test_gp_codes_hta_in_french_and_the_arabic_summary_prints_it_in_arabic(live_asgi, person, screenshot, imilchil):
    from caravane.care.models import Condition

    _context, page, errors = person("gp.imilchil")
    page.goto(live_asgi.url(f"/care/visits/{imilchil.pk}/"))
    page.fill("#reason", "Céphalées, tension élevée au contrôle")
    with page.expect_navigation():
        page.click("#save-note")

    field = page.locator("#icd10_code")
    field.click()
    field.press_sequentially("HTA", delay=60)
    options = page.locator("#icd10_code-options [role=option]")
    options.first.wait_for(timeout=WAIT_MS)
    assert field.get_attribute("aria-expanded") == "true"
    assert options.first.inner_text().startswith("I10")
    assert "Hypertension essentielle" in options.first.inner_text()
    assert "Suggestions" in page.locator(".icd10-status").inner_text()
    _keep(screenshot(page, "icd10-suggestions-fr"))

    field.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == "icd10_code-options-0"
    field.press("Enter")  # picks the suggestion; does not submit the form
    assert field.input_value() == "I10 — Hypertension essentielle (primitive)"
    assert field.get_attribute("aria-expanded") == "false"
    with page.expect_navigation():
        page.click("#add-diagnosis")
    diagnoses = page.locator("ul.conditions")
    assert "I10" in diagnoses.inner_text() and "Hypertension essentielle (primitive)" in diagnoses.inner_text()
    diagnoses.scroll_into_view_if_needed()
    _keep(screenshot(page, "icd10-visit-fr"))

    condition = Condition.objects.get()
    assert (condition.icd10_code, condition.icd10_label) == ("I10", "Hypertension essentielle (primitive)")

    # A category needs the explicit tick: typed by hand, E11 is refused with its subdivisions named.
    field = page.locator("#icd10_code")
    field.fill("E11")
    with page.expect_navigation():
        page.click("#add-diagnosis")
    refusal = page.locator(".errors [data-field=icd10_code]").inner_text()
    assert "catégorie" in refusal and "E11.9" in refusal
    assert Condition.objects.count() == 1
    _keep(screenshot(page, "icd10-category-refused-fr"))

    # The same page read in Arabic: the coded diagnosis and the suggestions are in Arabic.
    _arabic_context, arabic, arabic_errors = person("gp.imilchil", locale="ar")
    arabic.goto(live_asgi.url(f"/care/visits/{imilchil.pk}/"))
    assert "ارتفاع ضغط الدم الأساسي (الأولي)" in arabic.locator("ul.conditions").inner_text()
    arabic.locator("#icd10_code").press_sequentially("الملاريا", delay=40)
    first = arabic.locator("#icd10_code-options [role=option]").first
    first.wait_for(timeout=WAIT_MS)
    assert first.inner_text().startswith("B54") and "الملاريا، غير محددة" in first.inner_text()
    _keep(screenshot(arabic, "icd10-suggestions-ar"))
    assert not arabic_errors, arabic_errors

    with page.expect_navigation():
        page.click("#close-visit")
    page.goto(live_asgi.url(f"/care/visits/{imilchil.pk}/summary/ar/"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    summary = page.locator("main").inner_text()
    assert "ارتفاع ضغط الدم الأساسي (الأولي)" in summary and "Hypertension" not in summary
    _keep(screenshot(page, "icd10-summary-ar"))
    assert not errors, errors
