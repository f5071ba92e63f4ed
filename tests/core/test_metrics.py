"""The Prometheus endpoint: latency and answers by URL pattern, every process summed, registered collectors, the
database pool's figures when a pool exists, access by token or from this host only, and no audit row per scrape."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from types import SimpleNamespace

import pytest
from django.test import override_settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from caravane.audit.models import AuditEvent
from caravane.core import metrics

TOKEN = "metrics-token-0123456789abcdef"


def _samples(client, **extra) -> dict:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_url_pattern_never_by_path(client, db):
    before = _samples(client)
    pk = uuid.uuid4()
    client.get(f"/patients/{pk}/")  # the login redirect still resolved the pattern
    client.get("/healthz")
    client.get("/no/such/page")
    after = _samples(client)
    route = "patients/<uuid:pk>/"
    for name, labels in [
        ("caravane_http_responses_total", {"route": route, "method": "GET", "status": "3xx"}),
        ("caravane_http_responses_total", {"route": "healthz", "method": "GET", "status": "2xx"}),
        ("caravane_http_responses_total", {"route": "unmatched", "method": "GET", "status": "4xx"}),
        ("caravane_http_request_duration_seconds_count", {"route": "healthz", "method": "GET"}),
        ("caravane_http_request_duration_seconds_bucket", {"route": "healthz", "method": "GET", "le": "+Inf"}),
    ]:
        assert _value(after, name, **labels) == _value(before, name, **labels) + 1, (name, labels)
    assert not any(str(pk) in value for _name, labels in after for _key, value in labels)


def test_a_scrape_writes_no_audit_row(client, db):
    before = AuditEvent.objects.count()
    _samples(client)
    assert AuditEvent.objects.count() == before


def test_metrics_of_other_processes_are_summed(client, db):
    before = _value(_samples(client), "caravane_http_responses_total", route="elsewhere", method="GET", status="2xx")
    code = "from caravane.core.metrics import RESPONSES; RESPONSES.labels('elsewhere', 'GET', '2xx').inc(2)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    after = _value(_samples(client), "caravane_http_responses_total", route="elsewhere", method="GET", status="2xx")
    assert after == before + 2


class QueueLength:
    def collect(self):
        yield GaugeMetricFamily("caravane_test_queue_length", "Tasks waiting.", value=7)


def test_collectors_that_apps_register_are_exposed(client, db, monkeypatch):
    monkeypatch.setattr(metrics, "_COLLECTORS", [])
    metrics.register_collector(QueueLength())
    assert _value(_samples(client), "caravane_test_queue_length") == 7


class FakePool:
    def get_stats(self):
        return {"pool_min": 2, "pool_max": 8, "pool_size": 3, "pool_available": 1, "requests_waiting": 0}


def test_the_pool_is_reported_when_there_is_one(client, db):
    pooled = SimpleNamespace(settings_dict={"OPTIONS": {"pool": {"max_size": 8}}}, pool=FakePool())
    unpooled = SimpleNamespace(settings_dict={"OPTIONS": {}})  # reading .pool here would fail
    metrics.sample_pool(unpooled, now=1e9)
    metrics.sample_pool(pooled, now=2e9)
    samples = _samples(client)
    assert _value(samples, "caravane_db_pool_max") >= 8
    assert _value(samples, "caravane_db_pool_size") >= 3


@override_settings(CARAVANE_METRICS_TOKEN=TOKEN)
def test_a_token_is_required_when_one_is_set(client, db):
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    _samples(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.9")


@pytest.mark.parametrize("extra", [{"REMOTE_ADDR": "203.0.113.9"},
                                   {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}])
def test_without_a_token_only_this_host_may_scrape(client, db, extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 403 and b"CARAVANE_METRICS_TOKEN" in response.content


def test_a_short_token_is_refused_at_start():
    from caravane.config import Config

    assert any("CARAVANE_METRICS_TOKEN" in problem for problem in Config.from_environ({
        "CARAVANE_METRICS_TOKEN": "short"}).problems)


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                               "CONFIG": {"hosts": ["redis://127.0.0.1:8129/3"]}}})
def test_readiness_fails_when_the_channel_layer_does_not_answer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"].startswith("unreachable")


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": "redis://127.0.0.1:8129/3"}})
def test_readiness_fails_when_the_cache_does_not_answer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("unreachable")


def test_a_server_start_clears_the_files_of_earlier_runs(settings):
    directory = settings.CARAVANE.metrics_dir
    stale, own = directory / "counter_999999999.db", directory / f"counter_{os.getpid()}.db"
    stale.write_bytes(b"")
    kept = own.exists()
    metrics.reset_multiprocess_dir()
    assert not stale.exists() and own.exists() == kept
