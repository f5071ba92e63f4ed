"""The quality ladder's answers to what a real link showed (docs/rooms-links.md): a bitrate estimate frozen while
nothing is sent does not hold the call on the conversation, and a step up the link cannot hold doubles the wait
before the next one, so that a link that carries sound but not video does not flap."""

from __future__ import annotations

import pytest

from tests.browser.conftest import asgi_server, live_asgi, login, playwright_instance  # noqa: F401 (fixtures)
from tests.rooms.test_room_browser import booked, chromium, media_chromium  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

LADDER = """async (script) => {
  const {Ladder} = await import("/static/rooms/quality.js");
  const ladder = new Ladder();
  const steps = [];
  for (const [sample, times] of script) {
    for (let i = 0; i < times; i++) steps.push(ladder.feed(sample));
  }
  return steps.map((step, index) => [index, step]).filter(([, step]) => step);
}"""
GOOD = {"rttMs": 300, "lossRatio": 0, "outKbps": 250}
LOSSY = {"rttMs": 300, "lossRatio": 0.3, "outKbps": 250}
SOUND_ONLY = {"rttMs": 300, "lossRatio": 0.1, "outKbps": 90}


@pytest.fixture
def ladder(live_asgi, booked, people, chromium, login):
    context = chromium.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
    page = context.new_page()
    login(page, people.gp.username)
    page.goto(live_asgi.url(f"/rooms/{booked.pk}/"))
    yield lambda script: page.evaluate(LADDER, script)
    context.close()


def test_a_frozen_estimate_does_not_hold_the_call_on_the_conversation(ladder):
    # Down to the conversation, then a clean link whose estimate stays at the 46 kbit/s it had when sending stopped
    # (as measured): five good samples bring the sound back; on sound the estimate stays near the sound's own rate
    # (60 kbit/s) and is not held against the video: five more bring it back.
    frozen = {"rttMs": 300, "lossRatio": 0, "outKbps": 46.4}
    assert ladder([[LOSSY, 4], [frozen, 5], [{**frozen, "outKbps": 60}, 5]]) == [
        [1, "audio"], [3, "conversation"], [8, "audio"], [13, "video"]]
    # On sound only, an estimate under 40 kbit/s still says that even the sound does not fit.
    assert ladder([[SOUND_ONLY, 2], [{"rttMs": 300, "lossRatio": 0, "outKbps": 30}, 2]]) == [
        [1, "audio"], [3, "conversation"]]


def test_a_step_up_the_link_cannot_hold_doubles_the_wait(ladder):
    # Sound fits, video does not: each failed return to video doubles the good samples the next one needs.
    steps = ladder([[SOUND_ONLY, 2], [GOOD, 5], [SOUND_ONLY, 2], [GOOD, 10], [SOUND_ONLY, 2], [GOOD, 19],
                    [GOOD, 1]])
    assert steps == [[1, "audio"], [6, "video"], [8, "audio"], [18, "video"], [20, "audio"], [40, "video"]]
    # A link that held video a long while resets the wait to five samples.
    steps = ladder([[SOUND_ONLY, 2], [GOOD, 5], [SOUND_ONLY, 2], [GOOD, 10], [GOOD, 11], [SOUND_ONLY, 2],
                    [GOOD, 5]])
    assert steps == [[1, "audio"], [6, "video"], [8, "audio"], [18, "video"], [31, "audio"], [36, "video"]]
