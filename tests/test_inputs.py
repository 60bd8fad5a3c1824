"""Bad input through HTTP gets a 4xx problem document, never a 500 (issue 12, findings 2, 8, 12).

Every request goes to a real podium on a real socket; each check names the
request it made, so one run shows every input path that still misbehaves.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest

from gateway.bodies import MAX_BODY
from gateway.problems import TITLES
from tests.gateway_server import Served, until

PAGED = ("events", "chat", "logs", "file-changes")
BIGINT_MAX = 2**63 - 1


def new_session(client: httpx.Client) -> str:
    created = client.post("/api/sessions", json={"title": "inputs"})
    assert created.status_code == 201, created.text
    return created.json()["session_id"]


def paged_urls(session: str) -> list[str]:
    return [*(f"/api/sessions/{session}/{name}" for name in PAGED), "/api/system-logs"]


def is_problem(response: httpx.Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["status"] == status
    )


def stream_status(client: httpx.Client, **request: object) -> int:
    """The status /api/stream answers with (its body never ends, so it is not read)."""
    with client.stream("GET", "/api/stream", **request) as response:  # type: ignore[arg-type]
        return response.status_code


def test_numbers_are_ascii_digits_in_range_or_422(client: httpx.Client) -> None:
    session = new_session(client)
    bad = ["²", "\u0661", "-1", "1.5", " 1", "9" * 30, str(BIGINT_MAX + 1), "9" * 5000]
    wrong = []
    for url in paged_urls(session):
        for name in ("after", "limit"):
            for value in bad:
                response = client.get(url, params={name: value})
                if not is_problem(response, 422):
                    wrong.append((url, name, value[:40], response.status_code))
        if client.get(url, params={"after": BIGINT_MAX}).status_code != 200:
            wrong.append((url, "after", "2**63-1", "refused"))
    assert wrong == []


def test_stream_resume_ids_are_checked(client: httpx.Client) -> None:
    bad = ["²", "9" * 30, str(BIGINT_MAX + 1), "9" * 5000]
    wrong = []
    for value in bad:
        if (status := stream_status(client, params={"after": value})) != 422:
            wrong.append(("after", value[:40], status))
        if (status := stream_status(client, headers={"Last-Event-ID": value.encode()})) != 422:
            wrong.append(("Last-Event-ID", value[:40], status))
    assert wrong == []
    assert stream_status(client, headers={"Last-Event-ID": str(BIGINT_MAX)}) == 200


def test_empty_optional_parameters_mean_not_given(client: httpx.Client) -> None:
    session = new_session(client)
    for url in paged_urls(session):
        response = client.get(url, params={"after": "", "limit": ""})
        assert response.status_code == 200, (url, response.text)
    logs = client.get(
        f"/api/sessions/{session}/logs",
        params={"agent": "", "category": "", "type": "", "q": ""},
    )
    assert logs.status_code == 200, logs.text
    assert client.get("/api/system-logs", params={"level": ""}).status_code == 200
    assert stream_status(client, params={"after": "", "session": "", "agent": ""}) == 200


def text_fields(session: str) -> Iterator[tuple[str, dict[str, object], str]]:
    """(url, a valid body, a text field of it) for every text field of every body."""
    yield "/api/sessions", {"title": "t"}, "title"
    yield "/api/sessions", {"cwd": "."}, "cwd"
    yield f"/api/sessions/{session}/messages", {"text": "hello"}, "text"
    agent = {"name": "carol", "system_prompt": "p", "model": "sonnet", "template": "reviewer"}
    for field in ("name", "system_prompt", "model", "template"):
        yield f"/api/sessions/{session}/agents", agent, field
    yield f"/api/sessions/{session}/agents/bob/commands", {"command": "go"}, "command"


def test_nul_in_any_body_text_field_is_422_naming_it(client: httpx.Client) -> None:
    session = new_session(client)
    assert client.post(f"/api/sessions/{session}/agents", json={"name": "bob"}).status_code == 201
    wrong = []
    for url, body, field in text_fields(session):
        poisoned = {**body, field: f"a\x00{body[field]}"}
        response = client.post(url, json=poisoned)
        if not is_problem(response, 422) or field not in response.json()["detail"]:
            wrong.append((url, field, response.status_code, response.text[:200]))
    assert wrong == []


def test_lone_surrogates_are_422_and_bad_utf8_is_400(client: httpx.Client) -> None:
    session = new_session(client)
    url = f"/api/sessions/{session}/messages"
    headers = {"Content-Type": "application/json"}
    for raw in (b'{"text": "\\ud800"}', b'{"text": "a\\udc00b"}', b'{"text": "\\ud800\\u0041"}'):
        response = client.post(url, content=raw, headers=headers)
        assert is_problem(response, 422), (raw, response.text)
        assert "text" in response.json()["detail"]
    for raw in (b'{"text": "\xff"}', b'{"text": "\xed\xa0\x80"}', b"\xc3"):
        response = client.post(url, content=raw, headers=headers)
        assert is_problem(response, 400), (raw, response.text)


def test_nul_in_query_parameters_is_422(client: httpx.Client) -> None:
    session = new_session(client)
    logs = f"/api/sessions/{session}/logs"
    for url, name in [
        (logs, "q"),
        (logs, "agent"),
        (logs, "type"),
        (logs, "category"),
        (f"/api/sessions/{session}/file-changes", "agent"),
        ("/api/system-logs", "level"),
    ]:
        response = client.get(url, params={name: "a\x00b"})
        assert is_problem(response, 422), (url, name, response.text)
    for name in ("agent", "session", "category"):
        assert stream_status(client, params={name: "a\x00b"}) == 422, name


def test_cwd_too_long_or_with_nul_is_422(client: httpx.Client) -> None:
    for cwd in ["a" * 4096, "a" * 5000, "a" * 256, "é" * 2100, "x/\x00", "\x00"]:
        response = client.post("/api/sessions", json={"cwd": cwd})
        assert is_problem(response, 422), (cwd[:20], len(cwd), response.text)
        assert "cwd" in response.json()["detail"]


def test_body_limit_is_enforced_while_reading(client: httpx.Client, served: Served) -> None:
    chunk = b"x" * 65536
    total = 128 * len(chunk)  # 8 MiB, chunked: no Content-Length to refuse it by

    def body() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(total // len(chunk)):
            yield chunk
        yield b'"}'

    response = client.post(
        "/api/sessions", content=body(), headers={"Content-Type": "application/json"}
    )
    assert is_problem(response, 413), response.text
    assert str(total) not in response.json()["detail"]  # refused before it was all read
    assert client.get("/healthz").status_code == 200

    # A Content-Length over the limit is refused before a byte of the body is sent.
    address = urlsplit(served.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as raw:
        raw.sendall(
            b"POST /api/sessions HTTP/1.1\r\n"
            + f"Host: {address.netloc}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {MAX_BODY * 400}\r\n\r\n".encode()
        )
        assert raw.recv(65536).startswith(b"HTTP/1.1 413 ")
    assert client.get("/healthz").status_code == 200


def test_method_not_allowed_says_what_is_allowed(client: httpx.Client) -> None:
    response = client.put("/api/sessions", json={})
    assert is_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    agent = client.get(f"/api/sessions/{new_session(client)}/agents/bob/commands")
    assert is_problem(agent, 405)
    assert agent.headers["allow"] == "POST"


def test_every_refusal_has_a_title() -> None:
    for status in (400, 401, 403, 404, 405, 409, 413, 415, 422):
        assert status in TITLES, status
    assert TITLES[403] == "Forbidden"


def test_log_search_matches_text_literally(client: httpx.Client, served: Served) -> None:
    session = new_session(client)
    assert client.post(f"/api/sessions/{session}/agents", json={"name": "bob"}).status_code == 201
    texts = ["50% done", "a_b", "back\\slash", "plain words", "ab", "back slash"]
    agent = served.app.find_agent(UUID(session), "bob")
    for text in texts:
        agent.emit_text(text)
    served.app.save(agent)
    url = f"/api/sessions/{session}/logs"

    def found(q: str) -> list[str]:
        return [item["summary"] for item in client.get(url, params={"q": q}).json()["items"]]

    until(lambda: found("plain"))
    assert [s for s in found("%") if "%" not in s] == []
    assert any("50% done" in s for s in found("%"))
    assert [s for s in found("_") if "_" not in s] == []
    assert any("a_b" in s for s in found("a_b"))
    assert [s for s in found("\\") if "\\" not in s] == []
    assert any("back\\slash" in s for s in found("k\\s"))


def working(client: httpx.Client, session: str, name: str) -> bool:
    agents = client.get(f"/api/sessions/{session}/agents").json()["agents"]
    return any(a["name"] == name and a["status"] == "working" for a in agents)


def test_commands_racing_a_delete_are_answered_without_a_traceback(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    session = new_session(client)
    json_type = {"Content-Type": "application/json"}
    answers: list[int] = []
    for round_ in range(4):
        agent = f"/api/sessions/{session}/agents/racer{round_}"
        assert client.post(f"/api/sessions/{session}/agents", json={"name": f"racer{round_}"})
        # A working agent: the runtime appends its turn to the stream the requests decide on.
        client.post(f"{agent}/commands", json={"command": "create a simple hello world app"})
        until(lambda name=f"racer{round_}": working(client, session, name))
        with ThreadPoolExecutor(8) as pool:
            racing = [
                *(pool.submit(client.post, f"{agent}/commands", json={"command": t}) for t in "ab"),
                *(pool.submit(client.post, f"{agent}/interrupt", headers=json_type) for _ in "ab"),
                *(pool.submit(client.delete, agent, headers=json_type) for _ in "ab"),
            ]
            answers += [future.result().status_code for future in racing]
    assert all(status < 500 for status in answers), answers
    # The edge's part: what the gateway and its server log (the runtime's reaction to the
    # same race is the runtime's to test).
    edge = [r for r in caplog.records if r.name.startswith(("gateway.", "uvicorn."))]
    assert [r.getMessage() for r in edge if r.exc_info] == []
