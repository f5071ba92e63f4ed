"""The interactive API docs render in a real browser under the app's CSP, with no asset from elsewhere."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_swagger_ui_renders_from_local_assets(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    requested, refused = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(f"{live_server.url}/api/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
            assert "Caravane API" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector('.opblock-summary-path[data-path="/api/sites"]', timeout=15000)
        finally:
            browser.close()
    assert requested and all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested
    assert not refused, refused
