"""Request bodies, validated by msgspec: every input has a shape and limits."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec
from starlette.requests import Request

from domain.names import AGENT_NAME
from gateway.problems import Problem

MAX_BODY = 256 * 1024
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
Name = Annotated[str, msgspec.Meta(pattern=f"^{AGENT_NAME.pattern}$")]  # the domain's rule
Usd = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]


class NewSession(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    cwd: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    budget_usd: Usd | None = None


class NewMessage(msgspec.Struct, forbid_unknown_fields=True):
    text: Text


class NewAgent(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    system_prompt: Annotated[str, msgspec.Meta(max_length=100_000)] = ""
    model: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    template: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    budget_usd: Usd | None = None


class NewCommand(msgspec.Struct, forbid_unknown_fields=True):
    command: Text


B = TypeVar("B", bound=msgspec.Struct)


async def read_body(request: Request, shape: type[B]) -> B:
    """The request's JSON body as ``shape``, or a 4xx problem saying what is wrong."""
    content_type = request.headers.get("content-type", "")
    if content_type and not content_type.startswith("application/json"):
        raise Problem(415, f"send JSON (Content-Type: application/json), not {content_type}")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Problem(413, f"the body is {len(raw)} bytes; the limit is {MAX_BODY}")
    try:
        return msgspec.json.decode(raw or b"{}", type=shape)
    except msgspec.ValidationError as error:
        raise Problem(422, f"invalid {shape.__name__} body: {error}") from None
    except msgspec.DecodeError as error:
        raise Problem(400, f"the body is not valid JSON: {error}") from None
