"""Token mode end to end (issue 12, findings 4 and 5).

An empty token is refused at start; the token comes once in the URL, becomes
an HttpOnly, SameSite=Strict cookie and leaves the address bar; from then on
the page, its assets, the API and the stream work with the cookie alone, in
a real browser too. The token never reaches a log.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from tests.gateway_server import Served, serve_in_thread
from tests.own_postgres import free_port

TOKEN = secrets.token_urlsafe(24)
BEARER = {"Authorization": f"Bearer {TOKEN}"}
GUARDED_PATHS = (
    "/",
    "/sessions/x",
    "/app.js",
    "/style.css",
    "/api/sessions",
    "/api/stream",
    "/metrics",
)


@pytest.fixture
def guarded(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """podium up --token TOKEN, serving on a free port."""
    with serve_in_thread(database_url, tmp_path, token=TOKEN) as running:
        yield running


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, (response.url, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert "set-cookie" not in response.headers


def test_the_token_in_the_url_becomes_a_cookie_and_leaves_the_url(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as browser:
        arrived = browser.get("/", params={"token": TOKEN})
        assert arrived.status_code == 303
        assert arrived.headers["location"] == "/"
        cookie = arrived.headers["set-cookie"]
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/"} <= attributes
        assert cookie.startswith("podium_token=") and TOKEN not in cookie
        deep = browser.get("/sessions/abc", params={"at": "7", "token": TOKEN})
        assert deep.status_code == 303
        assert deep.headers["location"] == "/sessions/abc?at=7"


def test_the_cookie_alone_opens_the_page_its_assets_the_api_and_the_stream(
    guarded: Served,
) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as browser:
        page = browser.get("/", params={"token": TOKEN}, follow_redirects=True)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert str(page.url) == f"{guarded.url}/"
        for path in ("/app.js", "/style.css", "/api.js", "/api/sessions"):
            assert browser.get(path).status_code == 200, path
        created = browser.post(
            "/api/sessions", json={"title": "t"}, headers={"Origin": guarded.url}
        )
        assert created.status_code == 201, created.text
        with browser.stream("GET", "/api/stream", params={"after": 0}) as stream:
            assert stream.status_code == 200
            assert next(stream.iter_lines()) == "retry: 2000"


def test_without_the_token_nothing_but_healthz_answers(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as stranger:
        for path in GUARDED_PATHS:
            assert_unauthorized(stranger.get(path))
        assert_unauthorized(stranger.get("/", params={"token": "wrong"}))
        assert_unauthorized(stranger.get("/", params={"token": TOKEN[:-1]}))
        assert_unauthorized(stranger.get("/api/sessions", headers={"Cookie": "podium_token=x"}))
        assert_unauthorized(stranger.get("/api/sessions", headers={"Authorization": "Bearer x"}))
        assert_unauthorized(stranger.post("/api/sessions", json={}))
        assert stranger.get("/healthz").json() == {"status": "ok"}
        # API clients keep using the bearer header.
        assert stranger.get("/api/sessions", headers=BEARER).status_code == 200
        assert stranger.post("/api/sessions", json={}, headers=BEARER).status_code == 201


def test_governing_needs_the_token(guarded: Served) -> None:
    """The approval queue, decisions, budgets and rules: nothing without the token."""
    session = httpx.post(
        f"{guarded.url}/api/sessions", json={}, headers={**BEARER, "Origin": guarded.url}
    ).json()["session_id"]
    some = uuid4()
    budget = {"budget_usd": 1}
    commands = [
        ("GET", "/api/approvals", None),
        ("GET", "/api/approvals?status=pending", None),
        ("POST", f"/api/approvals/{some}/decision", {"decision": "allow"}),
        ("POST", f"/api/sessions/{session}/budget", budget),
        ("POST", f"/api/sessions/{session}/agents/sam/budget", budget),
        ("GET", f"/api/sessions/{session}/permissions", None),
        ("POST", f"/api/sessions/{session}/permissions", {"allow": ["Bash"]}),
    ]
    with httpx.Client(base_url=guarded.url, timeout=30) as stranger:
        for method, path, body in commands:
            assert_unauthorized(stranger.request(method, path, json=body))
            wrong = {"Authorization": "Bearer not-it"}
            assert_unauthorized(stranger.request(method, path, json=body, headers=wrong))
        # With it, the same requests are answered (the request and agent do not exist).
        answered = [stranger.request(m, p, json=b, headers=BEARER) for m, p, b in commands]
        assert [a.status_code for a in answered] == [200, 200, 404, 200, 404, 200, 200]
    assert guarded.app.get_session(UUID(session)).budget_usd is not None
    assert guarded.app.get_session(UUID(session)).permissions.allow == ("Bash",)


def up(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    os.chmod(tmp_path, 0o755)
    command = [sys.executable, "-m", "gateway.cli", "up", "--cwd", str(tmp_path), *args]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def up_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PODIUM_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("PODIUM_TOKEN", None)
    return {**env, **extra}


def test_an_empty_or_unreadable_token_refuses_to_start(database_url: str, tmp_path: Path) -> None:
    empty, token_file = tmp_path / "empty", tmp_path / "token"
    empty.write_text("\n")
    token_file.write_text(TOKEN)
    env = up_env(database_url, tmp_path)
    refusals = [
        (["--token", ""], env, "--token"),
        (["--token", "  "], env, "--token"),
        ([], {**env, "PODIUM_TOKEN": ""}, "PODIUM_TOKEN"),
        (["--token-file", str(empty)], env, str(empty)),
        (["--token-file", str(tmp_path / "missing")], env, "missing"),
        ([f"--token={TOKEN}", "--token-file", str(token_file)], env, "--token-file"),
        (["--public-url", "ftp://x"], env, "--public-url"),
        (["--public-url", "not a url"], env, "--public-url"),
    ]
    for args, environment, named in refusals:
        podium = up("--port", str(free_port()), *args, env=environment, tmp_path=tmp_path)
        _, errors = podium.communicate(timeout=60)
        assert podium.returncode == 2, (args, errors)
        lines = errors.splitlines()
        assert len(lines) == 1 and lines[0].startswith("podium up: error: "), errors
        assert named in lines[0], errors


def test_a_token_file_guards_podium_up_and_the_token_reaches_no_log(
    database_url: str, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    env = up_env(database_url, tmp_path)
    podium = up("--port", str(port), "--token-file", str(token_file), env=env, tmp_path=tmp_path)
    try:
        terminal: list[str] = []
        while not any("podium: open" in line for line in terminal):
            line = podium.stderr.readline()
            assert line, f"podium up exited: {''.join(terminal)}"
            terminal.append(line)
        assert terminal[-1].strip() == f"podium: open http://127.0.0.1:{port}/?token={TOKEN}"
        base = f"http://127.0.0.1:{port}"
        assert_unauthorized(httpx.get(f"{base}/api/sessions"))
        assert_unauthorized(httpx.get(f"{base}/?token=not-{TOKEN}"))
        assert httpx.get(f"{base}/api/sessions", headers=BEARER).status_code == 200
        assert httpx.get(f"{base}/?token={TOKEN}").status_code == 303
        podium.send_signal(signal.SIGTERM)
        _, rest = podium.communicate(timeout=90)
        assert podium.returncode == 0
    finally:
        podium.kill()
    assert "".join(terminal).count(TOKEN) + rest.count(TOKEN) == 1  # printed once, to the terminal
    log_file = tmp_path / "data" / "logs" / "podium.log"
    assert "podium is up" in log_file.read_text() and TOKEN not in log_file.read_text()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600  # what agents did is nobody else's


def test_the_web_ui_works_in_token_mode(guarded: Served) -> None:
    """Open /?token= in Chromium: the panels fill from the API and the stream, with the cookie."""
    # test_ui skips itself where there is no Chromium, and that skips this test too.
    from playwright import sync_api

    from tests.test_ui import CHROMIUM, CHROMIUM_ARGS, HANDLED_PROBLEM, send

    expect = sync_api.expect
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not HANDLED_PROBLEM.match(message.text):
            errors.append(message.text)

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", console)
        page.goto(f"{guarded.url}/?token={TOKEN}")
        assert page.url == f"{guarded.url}/"  # the token left the address bar
        send(page, "create an agent called alice")
        expect(page.locator('#agents .agent[data-name="alice"]')).to_be_visible()
        expect(page.locator('.row[data-type="AgentCreated"]')).to_contain_text("alice")
        expect(page.locator("#live")).to_have_text("● live")
        [cookie] = context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            "podium_token",
            True,
            "Strict",
        )
        assert page.evaluate("document.cookie") == ""  # out of scripts' reach
        context.close()
        chromium.close()
    assert errors == []
