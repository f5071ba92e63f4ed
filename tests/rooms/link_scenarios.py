"""The scenarios bench/room_link.py measures (not collected by the test run: the name is not test_*.py). Each
appends its figures, as JSON lines, to the file named by ROOM_LINK_FIGURES."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    CHROMIUM, CHROMIUM_ARGS, asgi_server, live_asgi, login, playwright_instance)
from tests.rooms.linkroom import (  # noqa: F401 (fixtures)
    MEDIA_ARGS, RELAY_ONLY, booked_act, call_now, figures, incidents, link, link_server, link_turn, live_link, sides,
    until, wait_for_frames)
from tests.rooms.test_room_browser import WEAK_LINK

pytestmark = pytest.mark.browser

MODE = "window.caravaneRoom.mode()"
SETTLE_S = float(os.environ.get("ROOM_LINK_SETTLE_S", "60"))


def _record(name, **values):
    with open(os.environ["ROOM_LINK_FIGURES"], "a") as out:
        out.write(json.dumps({"scenario": name, **values}) + "\n")


def _first_frames(server, gp, cardio, act):
    pressed = call_now(server, gp, cardio, act)
    wait_for_frames(cardio, timeout_s=30)
    cardio_s = time.monotonic() - pressed
    wait_for_frames(gp, timeout_s=30)
    return cardio_s, time.monotonic() - pressed


def test_loopback(live_asgi, booked_act, people, playwright_instance, login):
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, *MEDIA_ARGS, f"--unsafely-treat-insecure-origin-as-secure={live_asgi.base_url}"])
    pages = []
    for user in (people.gp, people.cardiologist):
        page = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR").new_page()
        login(page, user.username)
        pages.append(page)
    cardio_s, gp_s = _first_frames(live_asgi, *pages, booked_act)
    _record("loopback", first_frame_cardiologist_s=round(cardio_s, 2), first_frame_gp_s=round(gp_s, 2))
    browser.close()


def _settle(link, gp, cardio, seconds):
    """Run the call ``seconds``: the modes each page went through, and the share of audio each concealed."""
    start = {"gp": figures(gp), "cardio": figures(cardio)}
    modes = {"gp": [gp.evaluate(MODE)], "cardio": [cardio.evaluate(MODE)]}
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        for name, page in (("gp", gp), ("cardio", cardio)):
            if page.evaluate(MODE) != modes[name][-1]:
                modes[name].append(page.evaluate(MODE))
        time.sleep(1)
    concealed = {}
    for name, page in (("gp", gp), ("cardio", cardio)):
        end = figures(page)
        samples = end["samples"] - start[name]["samples"]
        concealed[name] = round(100 * (end["concealed"] - start[name]["concealed"]) / samples, 1) if samples else None
    return modes, concealed


@pytest.mark.parametrize("loss", [0, 0.05])
def test_256k_300ms(live_link, link, booked_act, people, sides, loss):
    link.shape(rate_kbit=256, loss=loss)
    gp, _ = sides.open(link.site, people.gp)
    cardio, _ = sides.open(link.hub, people.cardiologist)
    cardio_s, gp_s = _first_frames(live_link, gp, cardio, booked_act)
    modes, concealed = _settle(link, gp, cardio, SETTLE_S)
    _record(f"256kbit/s 300ms loss {loss:.0%}", first_frame_cardiologist_s=round(cardio_s, 2),
            first_frame_gp_s=round(gp_s, 2), settle_s=SETTLE_S, modes=modes, concealed_pct=concealed,
            incidents=len(incidents(booked_act)), dropped=link.dropped())


def test_32k(live_link, link, booked_act, people, sides):
    link.shape(rate_kbit=256, loss=0)
    gp, _ = sides.open(link.site, people.gp)
    cardio, _ = sides.open(link.hub, people.cardiologist)
    _first_frames(live_link, gp, cardio, booked_act)
    link.shape(rate_kbit=32, loss=0)
    started = time.monotonic()
    until(gp, f"{MODE} === 'conversation'", timeout_s=60)
    to_conversation = time.monotonic() - started
    time.sleep(5)  # the incident's report crosses the weak link
    booked_act.refresh_from_db()
    _record("32kbit/s 300ms", gp_conversation_after_s=round(to_conversation, 1),
            modes={"gp": gp.evaluate(MODE), "cardio": cardio.evaluate(MODE)}, incidents=incidents(booked_act),
            act_status=booked_act.status)


def _veth_bytes(link):
    """Bytes through the hub's way to the server (TURN included), both directions."""
    out = subprocess.run(["ip", "-n", link.hub, "-s", "-j", "link", "show", f"{link.prefix}v1"], capture_output=True,
                         text=True).stdout
    stats = json.loads(out)[0]["stats64"]
    return stats["rx"]["bytes"] + stats["tx"]["bytes"]


def test_turn_relay_only(live_link, link, booked_act, people, sides):
    link.shape(rate_kbit=None, loss=0)
    script = RELAY_ONLY + "\n" + WEAK_LINK
    gp, _ = sides.open(link.site, people.gp, init_script=script)
    cardio, _ = sides.open(link.hub, people.cardiologist, init_script=script)
    cardio_s, gp_s = _first_frames(live_link, gp, cardio, booked_act)
    assert figures(gp)["relayed"] and figures(cardio)["relayed"]
    per_minute, gp_sends = {}, {}
    for mode, kbps in (("video", 0), ("audio", 90)):
        for page in (gp, cardio):
            page.evaluate(f"window.__availableKbps = {kbps}")
        if mode == "audio":
            until(gp, f"{MODE} === 'audio'", timeout_s=20)
            until(cardio, f"{MODE} === 'audio'", timeout_s=20)
        time.sleep(3)
        before, sent, started = _veth_bytes(link), figures(gp)["sent"], time.monotonic()
        time.sleep(SETTLE_S / 2)
        elapsed = time.monotonic() - started
        per_minute[mode] = round((_veth_bytes(link) - before) * 60 / elapsed)
        gp_sends[mode] = {kind: round((count - sent[kind]) * 8 / elapsed / 1000, 1)
                          for kind, count in figures(gp)["sent"].items()}
    _record("TURN relay only", first_frame_cardiologist_s=round(cardio_s, 2), first_frame_gp_s=round(gp_s, 2),
            relayed=True, turn_host_bytes_per_minute=per_minute, gp_rtp_kbit_s=gp_sends)
