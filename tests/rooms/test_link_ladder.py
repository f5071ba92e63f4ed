"""Issue 11's acceptance across a real weak link: the site's GP in one network namespace, the cardiologist in
another, a 300 ms round trip between them. When the link falls to 32 kbit/s with loss, the room steps down to sound
only and then to the conversation, each step recorded as an incident on the act, which stays in progress; when the
link comes back the call steps back up."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import playwright_instance  # noqa: F401 (fixture)
from tests.rooms.linkroom import (  # noqa: F401 (fixtures)
    booked_act, call_now, incidents, link, link_server, link_turn, live_link, sides, until, wait_for_frames)

# Real media across a real shaped link: how fast each step comes depends on the machine's load, so it runs on
# demand (-m link) beside bench/room_link.py, not in every suite run.
pytestmark = [pytest.mark.browser, pytest.mark.link]

MODE = "window.caravaneRoom.mode()"


def _recorded(act, text, timeout_s=20.0):
    """The act's incidents once one starts with ``text`` (its report crosses the weak link, so it may be late)."""
    started = time.monotonic()
    while not any(line.startswith(text) for line in incidents(act)):
        assert time.monotonic() - started < timeout_s, f"no incident {text!r}: {incidents(act)}"
        time.sleep(0.2)
    return incidents(act)


def test_a_falling_link_steps_down_to_sound_then_the_conversation_and_back(live_link, link, booked_act, people,
                                                                          sides):
    from django.conf import settings
    from django.utils import translation

    from caravane.rooms.consumers import BACK_TO_SOUND, INCIDENTS

    with translation.override(settings.LANGUAGE_CODE):
        to_sound, to_conversation = str(INCIDENTS["audio"]), str(INCIDENTS["conversation"])
        back_to_sound = str(BACK_TO_SOUND)
    link.shape(rate_kbit=256, loss=0)
    gp, gp_errors = sides.open(link.site, people.gp)
    cardio, cardio_errors = sides.open(link.hub, people.cardiologist)
    call_now(live_link, gp, cardio, booked_act)
    wait_for_frames(cardio)
    wait_for_frames(gp)
    assert gp.evaluate(MODE) == "video"

    # 32 kbit/s and 5 % loss: too little even for the sound. Two poor samples (3 s apart) per step.
    link.shape(rate_kbit=32, loss=0.05)
    until(gp, f"{MODE} === 'audio'", timeout_s=20)
    until(gp, f"{MODE} === 'conversation'", timeout_s=60)
    assert gp.locator("#room-mode").is_visible()
    assert gp.locator("#room-mode a").count() == 1  # the way to the act's conversation
    assert link.dropped() > 0
    recorded = _recorded(booked_act, to_conversation)
    first_sound = next(n for n, line in enumerate(recorded) if line.startswith(to_sound))
    first_conversation = next(n for n, line in enumerate(recorded) if line.startswith(to_conversation))
    assert first_sound < first_conversation, recorded
    booked_act.refresh_from_db()
    assert booked_act.status == "in_progress"  # never lost: the act goes on in its conversation

    # The link comes back: five good samples bring the sound back, the step recorded too.
    link.shape(rate_kbit=256, loss=0)
    until(gp, f"{MODE} !== 'conversation'", timeout_s=120)  # up to 40 good samples after a failed step up
    assert gp.locator("#room-mode").is_visible()  # on sound only, said so
    _recorded(booked_act, back_to_sound, timeout_s=10)  # the step up, recorded as a recovery
    booked_act.refresh_from_db()
    assert booked_act.status == "in_progress"
    assert not gp_errors and not cardio_errors, (gp_errors, cardio_errors)
