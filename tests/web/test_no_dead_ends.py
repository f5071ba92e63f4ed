"""No dead ends: every link a page shows its reader opens for that reader (issue 10, point 7).

Each role of ``access_world`` walks the pages it can reach from the home page and a patient search, following
every link it is shown; none may answer with a refusal or an error. A button or link that a role may not use
is not shown: pages ask the gate (``gate.may``, the ``{% may %}`` tag), as the view behind the link will.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from .access_world import _staff

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<a\b[^>]*\bhref="([^"#][^"]*)"')
# Not pages: leaving, files, the admin (administrators only, walked by Django's own tests) and exports.
SKIPPED = ("/accounts/logout", "/static/", "/media/", "/admin/", "/audit/export", "/i18n/", "/api/")
PAGES_PER_ROLE = 80
QUERIES_PER_PATH = 2  # a paginated or dated list is walked a little, not through every page and day


def _walk(client: Client, starts: list[str]) -> list[tuple[str, int, str]]:
    """Follow the links of every page reached from ``starts``; (url, status, the page that showed it) of failures."""
    seen, per_path, failures = set(), {}, []
    queue = deque((url, "") for url in starts)
    while queue and len(seen) < PAGES_PER_ROLE:
        url, referrer = queue.popleft()
        url = urldefrag(url.replace("&amp;", "&"))[0]
        path = urlsplit(url).path
        if url in seen or not url.startswith("/") or url.startswith(SKIPPED):
            continue
        if per_path.get(path, 0) >= QUERIES_PER_PATH:
            continue
        seen.add(url)
        per_path[path] = per_path.get(path, 0) + 1
        response = client.get(url)
        if response.status_code >= 400:
            failures.append((url, response.status_code, referrer))
            continue
        if response.status_code in (301, 302):
            queue.append((response.url, url))
            continue
        if "text/html" in response.get("Content-Type", ""):
            queue.extend((link, url) for link in LINK.findall(response.content.decode()))
    return failures


@pytest.mark.parametrize("role", ["assistant", "nurse", "gp", "specialist", "coordinator", "pharmacist"])
def test_every_link_a_role_is_shown_opens_for_it(world, role):
    user = _staff("pharmacist", world.mine) if role == "pharmacist" else getattr(world, role)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    assert _walk(client, ["/", f"{reverse('patients:search')}?q=Mineur"]) == []


@pytest.mark.parametrize(("role", "shown", "hidden"), [
    ("assistant", ["check-in-patient", "Correct"], ["open-chart", "Merge a duplicate"]),
    ("pharmacist", [], ["open-chart", "check-in-patient", "Correct", "Record a consent"]),
    ("nurse", ["open-chart", "check-in-patient", "Record a consent"], ["Merge a duplicate"]),
    ("gp", ["open-chart", "check-in-patient", "Merge a duplicate"], []),
])
def test_the_patient_page_offers_each_role_only_what_it_may_do(world, role, shown, hidden):
    user = _staff("pharmacist", world.mine) if role == "pharmacist" else getattr(world, role)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    page = client.get(reverse("patients:detail", args=[world.my_patient.pk])).content.decode()
    for text in shown:
        assert text in page, (role, text)
    for text in hidden:
        assert text not in page, (role, text)


def test_a_refusal_for_a_missing_consent_leads_to_where_consent_is_recorded(world):
    from caravane.care import actions
    from caravane.patients.actions import do_register_patient

    patient = do_register_patient(actor=world.nurse, registration_site=world.mine, data={
        "given_name": "Ichou", "family_name": "Sansaccord", "gender": "male"})
    visit = actions.do_check_in(actor=world.nurse, patient=patient, site=world.mine)
    visit = actions.do_advance(actor=world.nurse, encounter=visit, to="with_nurse")
    visit = actions.do_advance(actor=world.nurse, encounter=visit, to="with_gp")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.gp)
    refused = client.post(reverse("telemed:request", args=[visit.pk]), {
        "kind": "teleconsultation", "specialty": "cardiology", "priority": "routine", "question": "Murmur?"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "No valid consent to" in page
    link = f'{reverse("patients:detail", args=[patient.pk])}#consent-form'
    assert f'id="record-consent-now" href="{link}"' in page
    # The link lands on the consent form of the patient page, which the GP may fill in.
    assert 'id="consent-form"' in client.get(link.split("#")[0]).content.decode()
