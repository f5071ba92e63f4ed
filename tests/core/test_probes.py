def test_healthz_answers_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_checks_database_migrations_and_task_queue(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    expected = {"database": "ok", "migrations": "ok", "cache": "ok", "channel_layer": "ok", "task_queue": "ok"}
    assert body["checks"] == expected


def test_pages_require_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_security_headers(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
