"""Calls across a weak link (tests/rooms/netlink.py): fixtures that put the app server and coturn at the link's
server address, the site's GP in a Chromium inside the site's namespace and the cardiologist in one inside the
hub's, and helpers that read each page's getStats. Used by tests/rooms/test_link_*.py and bench/room_link.py."""

from __future__ import annotations

import datetime
import time
from types import SimpleNamespace

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _running_server
from tests.rooms import netlink
from tests.rooms.conftest import running_turnserver

SERVER_PORT = 18201
TURN_PORT = 18210
TURN_RELAY_PORTS = (18220, 18259)
TURN_SECRET = "link-test-turn-secret-for-the-namespaces-only"
LINK_DELAY_MS = 150  # each way: a 300 ms round trip, as a satellite hop or a loaded 3G cell
MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# Each page's media figures, summed over its connections (getStats).
FIGURES = """async () => {
  const totals = {frames: 0, audioBytes: 0, concealed: 0, samples: 0, peers: 0, connected: 0, relayed: false,
                  sent: {audio: 0, video: 0}};
  for (const {pc} of window.caravaneRoom?.peers.values() || []) {
    totals.peers += 1;
    if (pc.connectionState === "connected") totals.connected += 1;
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") totals.frames += r.framesDecoded || 0;
      if (r.type === "inbound-rtp" && r.kind === "audio") {
        totals.audioBytes += r.bytesReceived || 0;
        totals.concealed += r.concealedSamples || 0;
        totals.samples += r.totalSamplesReceived || 0;
      }
      if (r.type === "outbound-rtp") totals.sent[r.kind] += (r.bytesSent || 0) + (r.headerBytesSent || 0);
      if (r.type === "transport" && r.selectedCandidatePairId) {
        const local = report.get(report.get(r.selectedCandidatePairId)?.localCandidateId);
        if (local?.candidateType === "relay") totals.relayed = true;
      }
    });
  }
  return totals;
}"""
# Only relayed candidates: the call must go through TURN (as behind a symmetric NAT).
RELAY_ONLY = """{
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config = {}) { return new Native({...config, iceTransportPolicy: "relay"}); };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
}"""


def skip_without_link():
    """Skip the test where a link cannot be built or Chromium is absent."""
    reason = netlink.missing() or (None if CHROMIUM.exists() else f"{CHROMIUM} is not installed")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def link():
    """The weak link, shaped per test (``link.shape(rate_kbit=..., loss=...)``); the round trip is 300 ms."""
    skip_without_link()
    with netlink.Link("rl", delay_ms=LINK_DELAY_MS) as built:
        yield built


@pytest.fixture(scope="session")
def link_turn(link, tmp_path_factory):
    """coturn at the server's address on the link, on this worktree's ports."""
    with running_turnserver(tmp_path_factory.mktemp("link-turn"), host=netlink.SERVER_ADDRESS, port=TURN_PORT,
                            relay_ports=TURN_RELAY_PORTS, secret=TURN_SECRET) as server:
        yield server


@pytest.fixture(scope="session")
def link_server(django_db_setup, link, link_turn, tmp_path_factory):
    """The app at the server's address, its ICE servers the coturn above (credentials from the shared secret)."""
    with _running_server(tmp_path_factory.mktemp("link-asgi") / "server.log", host=netlink.SERVER_ADDRESS,
                         port=SERVER_PORT, CARAVANE_ALLOWED_HOSTS=netlink.SERVER_ADDRESS,
                         CARAVANE_TURN_URLS=link_turn.url, CARAVANE_TURN_SECRET=TURN_SECRET,
                         CARAVANE_STUN_URLS=f"stun:{netlink.SERVER_ADDRESS}:{TURN_PORT}") as server:
        yield server


@pytest.fixture
def live_link(link_server, link, transactional_db):
    """The server across the link, with the test's data committed; the link back to a plain 300 ms round trip."""
    link.shape(rate_kbit=None, loss=0)
    yield link_server
    link.shape(rate_kbit=None, loss=0)


@pytest.fixture
def sides(playwright_instance, link, link_server, monkeypatch):
    """``open(side, user, locale, init_script=None)``: a signed-in 1024x768 page in a Chromium inside ``side``'s
    namespace (``link.site`` or ``link.hub``), as ``(page, errors)``."""
    browsers = {}
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    def open_page(side, user, locale="fr-FR", init_script=None):
        if side not in browsers:
            browsers[side] = playwright_instance.chromium.launch(
                executable_path=link.chromium_in(side, str(CHROMIUM)), headless=True,
                args=[*CHROMIUM_ARGS, *MEDIA_ARGS,
                      f"--unsafely-treat-insecure-origin-as-secure={link_server.base_url}"])
        context = browsers[side].new_context(viewport={"width": 1024, "height": 768}, locale=locale)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_default_timeout(30_000)  # pages cross the weak link too
        page.goto(link_server.url("/accounts/login/"))
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        assert "/accounts/login/" not in page.url, f"login failed for {user.username}"
        return page, errors

    yield SimpleNamespace(open=open_page)
    for browser in browsers.values():
        browser.close()


@pytest.fixture
def booked_act(request_act, people, network):
    """A cardiology teleconsultation from the spoke, accepted and booked by the regional centre's cardiologist."""
    from django.utils import timezone

    from caravane.telemed.actions import do_accept, do_book, do_open_slot

    act = do_accept(actor=people.cardiologist, act=request_act())
    start = timezone.now() + datetime.timedelta(minutes=2)
    slot = do_open_slot(actor=people.cardiologist, hub=network.regional, start=start,
                        end=start + datetime.timedelta(minutes=30))
    do_book(actor=people.cardiologist, act=act, slot=slot)
    return act


# What a failed wait shows of the room: its mode, its socket, and each connection's states.
STATE = """() => { const room = window.caravaneRoom; return {mode: room.mode(), socket: room.socket()?.readyState,
  peers: [...room.peers.values()].map((p) => [p.pc.connectionState, p.pc.iceConnectionState])}; }"""


def until(page, expression, timeout_s=20.0):
    """Poll ``expression`` in the page until it is true; how long it took (the pages' CSP forbids eval)."""
    started = time.monotonic()
    while not page.evaluate(expression):
        if time.monotonic() - started >= timeout_s:
            raise AssertionError(f"never true within {timeout_s} s: {expression}; the page: {page.evaluate(STATE)}")
        time.sleep(0.1)
    return time.monotonic() - started


def figures(page) -> dict:
    """The page's media: frames decoded, audio bytes, concealed and received audio samples, RTP bytes sent."""
    return page.evaluate(FIGURES)


def wait_for_frames(page, timeout_s=20.0) -> dict:
    """Wait until the page has decoded remote video and received audio; its figures then."""
    started = time.monotonic()
    totals = {}
    while time.monotonic() - started < timeout_s:
        totals = figures(page)
        if totals["frames"] > 0 and totals["audioBytes"] > 0:
            return totals
        time.sleep(0.05)
    raise AssertionError(f"no remote media decoded within {timeout_s} s: {totals}")


def call_now(server, gp_page, cardio_page, act) -> float:
    """The GP opens the room and says the patient is ready; the cardiologist presses "call now" on the worklist.
    Returns the moment of the press (time.monotonic())."""
    cardio_page.goto(server.url("/telemed/worklist/"))
    cardio_page.wait_for_selector("#worklist[data-live=on]")
    gp_page.goto(server.url(f"/rooms/{act.pk}/"))
    with gp_page.expect_navigation():
        gp_page.click("#patient-ready")
    until(gp_page, "document.getElementById('room').dataset.state === 'waiting'")
    row = cardio_page.locator(f"tr.worklist-row[data-act='{act.pk}']")
    row.locator(".patient-ready").wait_for()
    pressed = time.monotonic()
    with cardio_page.expect_navigation():
        row.locator(".call-now button").click()
    return pressed


def incidents(act) -> list[str]:
    """The act's technical incidents, oldest first, as their descriptions."""
    from caravane.telemed.models import TechnicalIncident

    return list(TechnicalIncident.objects.filter(act=act).order_by("occurred_at").values_list("description",
                                                                                              flat=True))


def relayed_bytes(turn) -> int:
    """The bytes coturn has relayed so far in closed and live sessions (the usage lines of its log)."""
    total = 0
    for line in turn.log().splitlines():
        if "usage:" in line:
            fields = dict(part.strip().split("=", 1) for part in line.split("usage:", 1)[1].split(",")
                          if "=" in part)
            total += int(fields.get("rb", 0)) + int(fields.get("sb", 0))
    return total
