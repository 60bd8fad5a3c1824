"""The gateway's input rules on their own, no PostgreSQL: query parameters, the
body limit, and which names and origins podium answers to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.bodies import NewMessage, read_body
from gateway.body_limit import BodyLimit
from gateway.params import ascii_number, choice_param, int_param, text_param, whole_number
from gateway.problems import HANDLERS, Problem
from gateway.same_origin import Origin, ServedNames, authority, public_origin


def status_of(call: object, *args: object) -> int:
    with pytest.raises(Problem) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.status


def test_numbers_are_ascii_digits_only() -> None:
    assert ascii_number("0") == 0
    assert ascii_number("9223372036854775807") == 2**63 - 1
    for not_one in ("", "-1", "+1", " 1", "1.0", "²", "\u0661", "1" * 20):
        assert ascii_number(not_one) is None, not_one


def test_whole_numbers_are_in_range_or_a_422_that_quotes_little() -> None:
    assert whole_number("7", "limit", 1, 10) == 7
    assert status_of(whole_number, "11", "limit", 1, 10) == 422
    with pytest.raises(Problem) as refused:
        whole_number("9" * 5000, "after", 0, 10)
    assert len(refused.value.detail) < 200


def test_an_empty_parameter_means_not_given_and_nul_is_refused() -> None:
    assert int_param({"limit": ""}, "limit", 200, 1, 1000) == 200
    assert choice_param({"level": ""}, "level", ("info",)) is None
    assert text_param({}, "q") is None
    assert status_of(text_param, {"q": "a\x00b"}, "q") == 422
    assert status_of(choice_param, {"level": "loud"}, "level", ("info",)) == 422
    assert status_of(text_param, {"q": "x" * 201}, "q") == 422


@pytest.fixture
def limited() -> Iterator[TestClient]:
    async def echo(request: Request) -> Response:
        return Response((await read_body(request, NewMessage)).text)

    async def unread(request: Request) -> Response:
        return Response("not read")

    app = Starlette(
        routes=[Route("/echo", echo, methods=["POST"]), Route("/unread", unread, methods=["POST"])],
        exception_handlers=HANDLERS,
    )
    app.add_middleware(BodyLimit, limit=64)
    with TestClient(app) as client:
        yield client


def test_a_body_within_the_limit_is_read(limited: TestClient) -> None:
    response = limited.post("/echo", json={"text": "hello"})
    assert response.status_code == 200 and response.text == "hello"


def test_a_declared_length_over_the_limit_is_refused(limited: TestClient) -> None:
    response = limited.post(
        "/echo", content=b"{}", headers={"Content-Length": "65", "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "the body is 65 bytes; the limit is 64"


def test_a_body_without_a_length_is_refused_once_past_the_limit(limited: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        yield b"x" * 100
        yield b'"}'

    response = limited.post("/echo", content=chunks())
    assert response.status_code == 413
    assert response.json()["detail"] == "the body is larger than the limit of 64 bytes"


def test_a_body_nobody_reads_is_not_refused(limited: TestClient) -> None:
    assert limited.post("/unread", content=b"x" * 100).status_code == 200


def test_authorities_and_origins() -> None:
    assert authority("Podium.example:8080", 80) == ("podium.example", 8080)
    assert authority("podium.example", 443) == ("podium.example", 443)
    for not_one in ("", "a/b", "user@host", "host:99999", "host:x", ":80"):
        assert authority(not_one, 80) is None, not_one
    assert Origin.parse("https://podium.example") == Origin("https", "podium.example", 443)
    assert Origin.parse("null") is None
    assert Origin.parse("ftp://podium.example") is None
    with pytest.raises(ValueError, match="root"):
        public_origin("https://podium.example/app")


def test_only_podiums_own_names_and_origins_are_served() -> None:
    scope = {"scheme": "http", "server": ("127.0.0.1", 8421)}
    names = ServedNames("127.0.0.1", public_origin("https://podium.example"))
    assert names.host_allowed(scope, "127.0.0.1:8421")
    assert names.host_allowed(scope, "localhost:8421")
    assert names.host_allowed(scope, "podium.example")
    assert not names.host_allowed(scope, "127.0.0.1:8422")  # another port
    assert not names.host_allowed(scope, "attacker.example:8421")  # a rebound name
    assert names.origin_allowed(scope, "http://localhost:8421")
    assert names.origin_allowed(scope, "https://podium.example")
    assert not names.origin_allowed(scope, "http://podium.example")  # not its scheme
    assert not names.origin_allowed(scope, "null")
