"""Requests larger than CARAVANE_MAX_REQUEST_BYTES get a 413 before their body is read, in the reader's language."""

import asyncio

import pytest

from caravane.asgi import application

LIMIT = 256 * 1024
CHUNK = 64 * 1024


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.CARAVANE_MAX_REQUEST_BYTES = LIMIT


class UnreadBody:
    """A request body that records whether anything read it."""

    def __init__(self):
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        return b"\0" * (args[0] if args and args[0] and args[0] > 0 else CHUNK)

    def readline(self, *args):
        return self.read(*args)


def post_declaring(client, path, length, **headers):
    body = UnreadBody()
    response = client.generic("POST", path, content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH=str(length), **{"wsgi.input": body}, **headers)
    return response, body


def test_an_api_request_declared_too_large_is_refused_unread_in_json(client, db):
    response, body = post_declaring(client, "/api/telemed/service-requests", LIMIT + 1, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 413 and body.reads == 0
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["errors"] == [] and "256" in answer["detail"] and "fichiers" in answer["detail"]


def test_a_page_request_declared_too_large_gets_a_page_in_arabic(client, db, staff_factory):
    client.force_login(staff_factory(role="gp").user)
    client.cookies["django_language"] = "ar"
    response, body = post_declaring(client, "/patients/", 10 * LIMIT)
    assert response.status_code == 413 and body.reads == 0
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'lang="ar"' in page and "الملفات" in page


def test_a_request_within_the_limit_is_served(client, db):
    response = client.post("/api/telemed/service-requests", b"{}", content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401


def asgi_post(path: str, chunks: int | None, *, declared: int | None = None, language: str = "en"):
    """POST through the ASGI application a body of ``chunks`` chunks (None: endless), with or without a
    Content-Length; returns the response's status, its body and how many chunks the application pulled."""
    headers = [(b"host", b"testserver"), (b"content-type", b"application/octet-stream"),
               (b"accept-language", language.encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    pulled, sent = [], []

    async def receive():
        await asyncio.sleep(0)
        if chunks is not None and len(pulled) == chunks:
            await asyncio.Event().wait()  # the client has sent everything and waits for the answer
        pulled.append(CHUNK)
        more = chunks is None or len(pulled) < chunks
        return {"type": "http.request", "body": b"\0" * CHUNK, "more_body": more}

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(application(scope, receive, send), timeout=30))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], body, len(pulled)


def test_an_asgi_body_declared_too_large_is_never_read():
    status, body, pulled = asgi_post("/api/telemed/service-requests", None, declared=LIMIT + 1)
    assert (status, pulled) == (413, 0)
    assert b"larger than" in body


def test_an_asgi_body_without_length_stops_being_read_at_the_limit():
    status, body, pulled = asgi_post("/api/telemed/service-requests", None, language="fr")
    assert status == 413
    assert pulled * CHUNK <= LIMIT + CHUNK
    assert "fichiers".encode() in body


@pytest.mark.django_db(transaction=True)
def test_an_asgi_body_within_the_limit_is_read_whole():
    from caravane.audit.models import AuditEvent

    status, _body, pulled = asgi_post("/accounts/login/", LIMIT // CHUNK)
    assert status == 403 and pulled == LIMIT // CHUNK  # read to its end, then refused by the CSRF check
    assert AuditEvent.objects.filter(action="csrf_failed", outcome="denied").exists()  # a security event
