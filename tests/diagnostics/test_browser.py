"""The acceptance in a browser, in French and Arabic at 1024x768: the public WFDB record and a DICOM 12-lead ECG
import and the viewer draws every lead, the right duration and a plausible rate; calipers measure; the DICOM
photographs show with their thumbnails side by side; the site's recording streams live to the specialist."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    CHROMIUM, CHROMIUM_ARGS, asgi_server, browser, live_asgi, login, module_chromium, playwright_instance)

from .conftest import SHARED, needs_shared

pytestmark = [pytest.mark.browser, needs_shared]
SCREENSHOTS = Path("/tmp/diagnostics-shots")
def _page(browser, login, user, locale):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale=locale)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, user.username)
    return page, errors


def _until(page, expression, timeout_s=15):
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_a_wfdb_record_imported_from_the_visit_is_drawn_whole_in_french(live_asgi, browser, login, visit, people):
    page, errors = _page(browser, login, people.gp, "fr-FR")
    page.goto(live_asgi.url(f"/care/visits/{visit.pk}/"))
    page.click("#diagnostics summary")
    folder = SHARED / "ecg" / "wfdb" / "mitdb_100"
    page.set_input_files("#diagnostics-files-visit", [str(folder / "100.hea"), str(folder / "100.dat")])
    with page.expect_navigation():
        page.click("#diagnostics button[type=submit]")
    assert "/diagnostics/ecg/" in page.url, page.content()[:2000]
    _until(page, "document.getElementById('ecg-viewer').dataset.drawnLeads === 'MLII V5'")
    assert page.inner_text("#ecg-duration") == "1805,6 s"
    rate = int(page.inner_text("#ecg-rate").split("/")[0])
    assert 60 <= rate <= 90
    assert page.locator("#ecg-drawn li").all_inner_texts() == ["MLII (mV) · 1805.6 s", "V5 (mV) · 1805.6 s"]
    page.click("#ecg-next")
    _until(page, "document.getElementById('ecg-window').textContent.startsWith('10.0')")
    _shot(page, "ecg-wfdb-fr")
    assert not errors, errors


def test_a_dicom_12_lead_ecg_in_arabic_with_calipers(live_asgi, browser, login, visit, people, twelve_lead):
    from caravane.diagnostics.actions import Filing, Received, do_import_ecg
    from caravane.diagnostics.synthetic import to_dicom_ecg

    ecg = do_import_ecg(actor=people.gp, filing=Filing(encounter=visit),
                        received=[Received("ecg12.dcm", "application/dicom", to_dicom_ecg(twelve_lead))])
    page, errors = _page(browser, login, people.nurse, "ar")
    page.goto(live_asgi.url(f"/diagnostics/ecg/{ecg.pk}/"))
    _until(page, "document.getElementById('ecg-viewer').dataset.drawnLeads?.split(' ').length === 12")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.inner_text("#ecg-duration").replace("٫", ",").replace(".", ",") == "10,0 s"
    box = page.locator("#ecg-canvas").bounding_box()
    page.click("#ecg-calipers")
    page.mouse.click(box["x"] + 100, box["y"] + 60)
    page.mouse.click(box["x"] + 100 + box["width"] / 10, box["y"] + 60)  # a tenth of 10 s: 1000 ms
    reading = page.inner_text("#ecg-caliper-reading")
    assert abs(int(reading.split()[1]) - 1000) <= 5, reading  # within a pixel of the click
    _shot(page, "ecg-dicom-12-ar")
    page.select_option("#ecg-layout", "all")
    _until(page, "document.getElementById('ecg-viewer').dataset.drawnLeads?.split(' ').length === 12")
    assert not errors, errors


def test_dicom_photographs_side_by_side_in_arabic(live_asgi, browser, login, visit, people):
    page, errors = _page(browser, login, people.nurse, "ar")
    for name in ("examples_rgb_color.dcm", "SC_jpeg_no_color_transform.dcm", "CT_small.dcm"):
        page.goto(live_asgi.url(f"/care/visits/{visit.pk}/"))
        page.click("#diagnostics summary")
        page.check("#diagnostics input[name=kind][value=image]")
        page.select_option("#diagnostics-site-visit", "368208006")
        page.set_input_files("#diagnostics-files-visit", str(SHARED / "dicom" / name))
        with page.expect_navigation():
            page.click("#diagnostics button[type=submit]")
    # The CT slice is refused, naming the file, on the import page.
    assert "CT_small.dcm" in page.inner_text("[role=alert]")
    _shot(page, "photo-refused-ar")
    page.goto(live_asgi.url(f"/care/visits/{visit.pk}/"))
    page.locator("#diagnostics").scroll_into_view_if_needed()  # thumbnails load lazily
    _until(page, "[...document.querySelectorAll('#diagnostics img')].filter(i => i.naturalWidth > 0).length === 2")
    _shot(page, "visit-panel-ar")
    page.click("#diagnostics .diagnostics-thumbs a >> nth=0")
    _until(page, "[...document.querySelectorAll('.photo-pan img')].filter(i => i.naturalWidth > 0).length === 2")
    page.click("[data-zoom=in]")
    assert "scale(1.5)" in page.locator(".photo-pan img").first.get_attribute("style")
    _shot(page, "photos-ar")
    assert not errors, errors


def test_the_site_streams_a_recording_live_to_the_specialist(live_asgi, browser, login, request_act, people,
                                                             twelve_lead):
    from caravane.diagnostics.actions import Filing, Received, do_import_ecg
    from caravane.diagnostics.synthetic import to_dicom_ecg
    from caravane.telemed.actions import do_accept

    act = do_accept(actor=people.cardiologist, act=request_act())
    do_import_ecg(actor=people.gp, filing=Filing(act=act),
                  received=[Received("ecg12.dcm", "application/dicom", to_dicom_ecg(twelve_lead))])
    specialist, specialist_errors = _page(browser, login, people.cardiologist, "fr-FR")
    specialist.goto(live_asgi.url(f"/diagnostics/acts/{act.pk}/stream/"))
    site, site_errors = _page(browser, login, people.nurse, "ar")
    site.goto(live_asgi.url(f"/diagnostics/acts/{act.pk}/stream/"))
    _until(site, "document.getElementById('live-status').textContent !== document.getElementById('live-ecg')"
                 ".dataset.labelWaiting")
    site.click("#live-start")
    _until(specialist, "Number(document.getElementById('live-ecg').dataset.frames || 0) >= 10")
    leads = specialist.evaluate("document.getElementById('live-ecg').dataset.leads").split()
    assert set(leads) == {"I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III", "aVR", "aVL", "aVF"}
    assert specialist.evaluate("document.getElementById('live-ecg').dataset.gaps") == "0"
    _shot(specialist, "live-fr")
    _shot(site, "live-site-ar")
    site.click("#live-stop")
    assert not specialist_errors and not site_errors, specialist_errors + site_errors
