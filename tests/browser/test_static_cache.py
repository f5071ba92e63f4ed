"""Assets once (issue 10, point 10): on a 256 kbit/s link, a second visit to a page downloads no CSS or JavaScript
again; the pages name them by content hash, served to be kept a year."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser

PASSWORD = "caravane-test-pass"
# 256 kbit/s each way, with a rural link's latency (Chromium's DevTools throttling, in bytes per second).
SLOW_LINK = {"offline": False, "latency": 300, "downloadThroughput": 256_000 / 8, "uploadThroughput": 256_000 / 8}
ASSET = re.compile(r"/static/.+\.(css|js)$")
HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")


class AssetLog:
    """What the browser fetched for .css and .js, from the DevTools protocol: over the network or from cache."""

    def __init__(self, session):
        self.urls, self.cached, self.headers = {}, set(), {}
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.requestServedFromCache", lambda event: self.cached.add(event["requestId"]))
        session.on("Network.responseReceived", self._received)

    def _sent(self, event):
        if ASSET.search(event["request"]["url"].split("?")[0]):
            self.urls[event["requestId"]] = event["request"]["url"]

    def _received(self, event):
        if event["requestId"] in self.urls:
            response = event["response"]
            if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
                self.cached.add(event["requestId"])
            self.headers[event["requestId"]] = {k.lower(): v for k, v in response["headers"].items()}

    def start(self):
        self.urls.clear(), self.cached.clear(), self.headers.clear()

    def over_the_network(self) -> list[str]:
        return sorted(url for request, url in self.urls.items() if request not in self.cached)


@pytest.fixture
def gp_at_work(live_served, site_factory, staff_factory):
    """A GP at a rural health centre (committed: the server sees it)."""
    site = site_factory(name="CSR Imilchil")
    return staff_factory(role="gp", site=site, username="gp.cache").user


def test_a_second_visit_on_a_slow_link_downloads_no_css_or_javascript(live_served, browser, gp_at_work, screenshot):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", SLOW_LINK)
    assets = AssetLog(session)
    page.goto(live_served.url(reverse("accounts:login")))
    page.fill("#id_username", "gp.cache")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")

    pages = [reverse(name) for name in ("homes:gp", "care:queue", "patients:search", "telemed:requests",
                                        "network_dashboard", "site_list", "mobile_units", "site_map")]
    first = {}
    for path in pages:
        assets.start()
        page.goto(live_served.url(path), wait_until="load")
        first[path] = dict(assets.urls)
        for request, url in assets.urls.items():
            assert HASHED.search(url), f"{path}: {url} is not named by its content"
            headers = assets.headers.get(request)
            if headers is not None and request not in assets.cached:
                assert "max-age=31536000" in headers["cache-control"] and "immutable" in headers["cache-control"]
    assert any("leaflet" in url for url in first[reverse("site_map")].values())
    assert any("live." in url for url in first[reverse("homes:gp")].values())  # and the module it imports

    for path in pages:
        assets.start()
        page.goto(live_served.url(path), wait_until="load")
        assert not assets.over_the_network(), f"{path}: downloaded again {assets.over_the_network()}"
    page.wait_for_selector("#site-map[data-markers]")  # the map's modules ran from the cache
    screenshot(page, "static-cache-second-visit-map")
    context.close()
