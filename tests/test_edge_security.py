"""The gateway refuses what does not come from podium's own page (issue 12, finding 1).

Each test plays the attacker from outside, over a real socket: a page on
another site driving podium with "simple" requests (no preflight), and DNS
rebinding (the attacker's name resolving to 127.0.0.1, so the browser sends
``Host: evil.example``). podium's own page must keep working.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.same_origin import ServedNames
from tests.gateway_server import Served, serve_in_thread

EVIL = "https://evil.example"
TOKEN = secrets.token_urlsafe(16)


def new_session(client: httpx.Client, **headers: str) -> httpx.Response:
    return client.post("/api/sessions", json={"title": "edge"}, headers=headers)


def assert_refused(response: httpx.Response, status: int = 403) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["detail"]


def session_titles(client: httpx.Client) -> list[str]:
    return [s["title"] for s in client.get("/api/sessions").json()["sessions"]]


def test_a_rebound_name_reads_nothing(client: httpx.Client) -> None:
    """DNS rebinding: the browser connects to 127.0.0.1 but says Host: evil.example."""
    assert new_session(client).status_code == 201
    for path in ("/api/sessions", "/", "/app.js", "/style.css", "/api/openapi.json"):
        assert_refused(client.get(path, headers={"Host": "evil.example"}))
        assert_refused(client.get(path, headers={"Host": "evil.example:9403"}))


def test_a_host_naming_another_port_or_nothing_is_refused(
    client: httpx.Client, served: Served
) -> None:
    assert_refused(client.get("/api/sessions", headers={"Host": "127.0.0.1:1"}))
    assert_refused(client.get("/api/sessions", headers={"Host": "localhost"}))
    assert_refused(client.get("/api/sessions", headers={"Host": "127.0.0.1:99999"}))
    assert_refused(client.get("/api/sessions", headers={"Host": "user@127.0.0.1"}))
    own = urlsplit(served.url).netloc
    assert raw_status(served, [f"Host: {own}", "Host: evil.example"]) == 400
    assert raw_status(served, []) == 403  # HTTP/1.0 lets a client leave Host out


def raw_status(served: Served, header_lines: list[str]) -> int:
    """The status of a GET sent byte by byte, with headers no HTTP client library would send."""
    request = "\r\n".join(["GET /api/sessions HTTP/1.0", *header_lines, "", ""]).encode()
    url = urlsplit(served.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        connection.sendall(request)
        status_line = connection.makefile("rb").readline()
    return int(status_line.split()[1])


def test_the_loopback_names_with_podiums_port_are_served(
    client: httpx.Client, served: Served
) -> None:
    port = urlsplit(served.url).port
    for name in ("127.0.0.1", "localhost", "LocalHost", "[::1]"):
        response = client.get("/api/sessions", headers={"Host": f"{name}:{port}"})
        assert response.status_code == 200, (name, response.text)


def test_a_post_from_another_site_is_refused(client: httpx.Client) -> None:
    assert_refused(new_session(client, Origin=EVIL))
    assert_refused(new_session(client, Origin="null"))  # sandboxed frames, file: pages
    assert session_titles(client) == []


def test_a_foreign_origin_is_refused_on_reads_too(client: httpx.Client) -> None:
    assert_refused(client.get("/api/sessions", headers={"Origin": EVIL}))


def test_simple_requests_without_json_change_nothing(client: httpx.Client) -> None:
    """What a form or a no-cors fetch can send without a preflight: never accepted."""
    created = new_session(client).json()["session_id"]
    messages = f"/api/sessions/{created}/messages"
    simple = [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {"Content-Type": "text/plain; application/json"},
        {},  # no content type at all
    ]
    for headers in simple:
        body = '{"text": "run rm -rf ~"}'
        assert_refused(client.post(messages, content=body, headers=headers), 415)
        assert_refused(client.post("/api/sessions", content='{"title": "x"}', headers=headers), 415)
        assert_refused(client.delete(f"/api/sessions/{created}/agents/a", headers=headers), 415)
    assert session_titles(client) == ["edge"]
    chat = client.get(f"/api/sessions/{created}/chat").json()["items"]
    assert chat == []


def test_podiums_own_page_still_works(client: httpx.Client, served: Served) -> None:
    port = urlsplit(served.url).port
    for origin in (served.url, f"http://localhost:{port}"):
        created = new_session(client, Origin=origin)
        assert created.status_code == 201, created.text
    json_with_charset = client.post(
        "/api/sessions",
        content='{"title": "charset"}',
        headers={"Content-Type": "application/json; charset=utf-8", "Origin": served.url},
    )
    assert json_with_charset.status_code == 201, json_with_charset.text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_cors_stays_off(client: httpx.Client, served: Served) -> None:
    preflight = client.options(
        "/api/sessions",
        headers={"Origin": served.url, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in client.get("/api/sessions").headers


@pytest.fixture
def public(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """podium up --public-url https://podium.example.com --token T (behind a TLS proxy)."""
    url = "https://podium.example.com"
    with serve_in_thread(database_url, tmp_path, token=TOKEN, public_url=url) as running:
        yield running


def test_the_public_url_is_served_and_nothing_else(public: Served) -> None:
    own = {"Host": "podium.example.com", "Origin": "https://podium.example.com"}
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=public.url, timeout=30, headers=bearer) as client:
        assert new_session(client, **own).status_code == 201
        assert client.get("/api/sessions", headers={"Host": "podium.example.com:443"}).is_success
        assert client.get("/api/sessions").is_success  # loopback still works
        assert_refused(new_session(client, Host="podium.example.com", Origin=EVIL))
        insecure = {"Host": "podium.example.com", "Origin": "http://podium.example.com"}
        assert_refused(new_session(client, **insecure))
        assert_refused(client.get("/", headers={"Host": "podium.example.org"}))
    with httpx.Client(base_url=public.url, timeout=30) as browser:
        arrived = browser.get("/", params={"token": TOKEN}, headers={"Host": "podium.example.com"})
        assert arrived.status_code == 303
        assert "secure" in arrived.headers["set-cookie"].lower()  # https only, behind TLS


def test_a_public_url_requires_a_token_even_bound_to_loopback(
    database_url: str, tmp_path: Path
) -> None:
    """Behind a proxy, loopback is the whole world: podium generates a token if given none."""
    url = "https://podium.example.com"
    with serve_in_thread(database_url, tmp_path, public_url=url) as running:
        assert running.running.token
        with httpx.Client(base_url=running.url, timeout=30) as client:
            assert_refused(client.get("/api/sessions"), 401)


def test_a_wildcard_bind_answers_to_the_address_each_request_arrived_at() -> None:
    """`--host 0.0.0.0` (or `::`): the interface address a connection came in on is podium's
    own name for it; an attacker's name is not. (Checked on the rule itself: the tests
    bind loopback only.)"""
    for bound, server in (("0.0.0.0", "192.168.1.5"), ("::", "::ffff:192.168.1.5")):
        names = ServedNames(bound)
        scope = {"type": "http", "scheme": "http", "server": (server, 9403)}
        assert names.host_allowed(scope, "192.168.1.5:9403")
        assert names.origin_allowed(scope, "http://192.168.1.5:9403")
        assert not names.host_allowed(scope, "192.168.1.6:9403")
        assert not names.host_allowed(scope, "192.168.1.5:9404")
        assert not names.host_allowed(scope, "evil.example:9403")
        assert not names.origin_allowed(scope, "https://192.168.1.5:9403")
