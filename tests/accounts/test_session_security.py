"""Sessions expire after inactivity; CSRF, security headers and the CSP hold; production hardens cookies."""

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

SRC = Path(__file__).resolve().parents[2] / "src" / "caravane"


def _at(moment):
    """Pretend the clock reads ``moment`` (sessions read it through django.utils.timezone.now)."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_idle_session_is_logged_out_but_activity_keeps_it_alive(client, staff_factory):
    staff = staff_factory(role="nurse")
    idle = django_settings.SESSION_COOKIE_AGE
    start = timezone.now()
    with _at(start):
        assert client.post(reverse("accounts:login"),
                           {"username": staff.user.username, "password": "caravane-test-pass"}).status_code == 302
    # Each request pushes the expiry on: two visits a little under the limit apart stay signed in.
    with _at(start + datetime.timedelta(seconds=idle - 60)):
        assert client.get(reverse("network_dashboard")).status_code == 200
    with _at(start + datetime.timedelta(seconds=2 * idle - 120)):
        assert client.get(reverse("network_dashboard")).status_code == 200
    # Then an idle spell longer than the limit ends the session.
    with _at(start + datetime.timedelta(seconds=3 * idle)):
        response = client.get(reverse("network_dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_activity_within_a_minute_does_not_write_the_session(client, staff_factory):
    from django.contrib.sessions.models import Session

    staff = staff_factory(role="nurse")
    client.force_login(staff.user)
    client.get(reverse("network_dashboard"))
    expiry = Session.objects.get().expire_date
    start = timezone.now()
    with _at(start + datetime.timedelta(seconds=30)):
        client.get(reverse("network_dashboard"))
    assert Session.objects.get().expire_date == expiry  # no write for a page a few seconds later
    with _at(start + datetime.timedelta(seconds=90)):
        client.get(reverse("network_dashboard"))
    assert Session.objects.get().expire_date > expiry  # a minute on, the expiry moves


def test_session_settings_measure_inactivity():
    assert "caravane.accounts.middleware.SessionActivityMiddleware" in django_settings.MIDDLEWARE
    assert django_settings.SESSION_COOKIE_AGE == django_settings.CARAVANE.session_idle_seconds
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


def test_post_without_csrf_token_is_refused(db, staff_factory):
    staff = staff_factory(role="nurse")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("accounts:login"), {"username": staff.user.username,
                                                       "password": "caravane-test-pass"})
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session
    strict.force_login(staff.user)
    assert strict.post(reverse("accounts:logout")).status_code == 403
    assert strict.get(reverse("network_dashboard")).status_code == 200, "the refused logout must not sign out"


def test_post_with_csrf_token_is_accepted(db, staff_factory):
    staff = staff_factory(role="nurse")
    strict = Client(enforce_csrf_checks=True)
    strict.get(reverse("accounts:login"))
    token = strict.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = strict.post(reverse("accounts:login"), {"username": staff.user.username,
                                                       "password": "caravane-test-pass",
                                                       "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self' ws://testserver wss://testserver"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


# An inline <script> with a body (a <script src=...></script> is fine), an on*= event handler,
# a style= attribute or a <style> element: all are blocked by the policy above.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def _templates():
    return sorted(path for path in SRC.rglob("templates/**/*.html"))


def test_template_scan_finds_what_it_must():
    offending = ['<script>alert(1)</script>', '<button onclick="go()">', '<div style="color:red">', "<style>p{}</style>"]
    clean = ['<script type="module" src="/static/x.js"></script>', '<a href="/x" data-on="y">', '<p class="onx">']
    checks = (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT)
    assert all(any(check.search(text) for check in checks) for text in offending)
    assert not any(check.search(text) for check in checks for text in clean)


def test_no_template_uses_inline_script_handlers_or_styles():
    templates = _templates()
    assert len(templates) > 3
    problems = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for name, check in (("inline <script>", INLINE_SCRIPT), ("on*= handler", EVENT_HANDLER),
                            ("style= attribute", STYLE_ATTRIBUTE), ("<style> element", STYLE_ELEMENT)):
            for match in check.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(SRC)}:{line}: {name}")
    assert not problems, "The CSP blocks these:\n" + "\n".join(problems)


def _production_settings(tmp_path, names, **environ):
    """The named Django settings as a production process computes them from ``environ``."""
    env = {**os.environ, "CARAVANE_ENV": "production",
           "CARAVANE_SECRET_KEY": "q8Vd-2LmZr_x7TbNc4WkYs9HjPf3EaGu0R1oIv6K",
           "CARAVANE_ALLOWED_HOSTS": "caravane.example.org", "CARAVANE_DEBUG": "0",
           "CARAVANE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "caravane.settings", **environ}
    env.pop("DATABASE_URL", None)
    code = ("import json; from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_production_settings_force_https_hsts_and_secure_cookies(tmp_path):
    values = _production_settings(tmp_path, [
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "DEBUG", "SECURE_REDIRECT_EXEMPT"])
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert (values["SECURE_HSTS_INCLUDE_SUBDOMAINS"], values["SECURE_HSTS_PRELOAD"]) == (False, False)
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["DEBUG"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_production_hsts_covers_subdomains_and_preload_when_configured(tmp_path):
    values = _production_settings(tmp_path, ["SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"],
                                  CARAVANE_HSTS_INCLUDE_SUBDOMAINS="1", CARAVANE_HSTS_PRELOAD="1")
    assert values == {"SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True}


def test_development_settings_do_not_force_https():
    assert not django_settings.SESSION_COOKIE_SECURE
    assert not getattr(django_settings, "SECURE_SSL_REDIRECT", False)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_stay_reachable_over_plain_http_in_production(path):
    import re as regex

    exempt = [r"^healthz$", r"^readyz$"]
    assert any(regex.search(pattern, path.lstrip("/")) for pattern in exempt)
