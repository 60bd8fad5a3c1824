"""The summarizer's model calls: the Messages API, on the user's own settings.

Like the agents' CLI, it talks to whatever the environment says:
``ANTHROPIC_BASE_URL`` (the API's own address when unset), ``ANTHROPIC_API_KEY``
or ``ANTHROPIC_AUTH_TOKEN``, and the usual proxy variables (httpx reads
``HTTPS_PROXY``, ``NO_PROXY`` and friends). One HTTP call per batch: no
Claude Code process is started for a summary.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from domain.events import Usage
from summarizer.request import read_answer

DEFAULT_BASE_URL = "https://api.anthropic.com"  # the SDK's and the CLI's default too
API_VERSION = "2023-06-01"
TIMEOUT_S = 60.0
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class CallFailed(Exception):
    """A model call that did not give summaries: why, and when to try again
    (``retry_after``: what the API asked for, if it did)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Answer:
    summaries: dict[int, str]
    usage: Usage
    duration_ms: int


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    headers: Mapping[str, str]
    proxies_from_env: bool = True  # False only for the model double, on loopback

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, proxies_from_env: bool = True
    ) -> ApiSettings:
        """The API the environment names (``env`` overlays os.environ, as the
        agents' ``cli_env`` does for the CLI)."""
        env = {**os.environ, **(env or {})}
        headers = {"anthropic-version": API_VERSION, "content-type": "application/json"}
        if key := env.get("ANTHROPIC_API_KEY"):
            headers["x-api-key"] = key
        elif token := env.get("ANTHROPIC_AUTH_TOKEN"):
            headers["authorization"] = f"Bearer {token}"
        base_url = env.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        return cls(base_url.rstrip("/"), headers, proxies_from_env)

    @property
    def usable(self) -> bool:
        """Whether it has a credential to call with."""
        return "x-api-key" in self.headers or "authorization" in self.headers


class MessagesApi:
    """``async with MessagesApi(settings) as api: await api.summaries(body)``."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=dict(settings.headers),
            timeout=TIMEOUT_S,
            trust_env=settings.proxies_from_env,
        )

    async def __aenter__(self) -> MessagesApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def summaries(self, body: dict[str, Any]) -> Answer:
        """One call; CallFailed when it gives no usable summaries."""
        started = time.monotonic()
        try:
            response = await self._client.post("/v1/messages", json=body)
        except httpx.HTTPError as error:
            raise CallFailed(f"the API could not be reached: {error!r}") from None
        duration_ms = round((time.monotonic() - started) * 1000)
        if response.status_code != 200:
            raise CallFailed(
                f"the API answered {response.status_code}: {_error_message(response)}",
                retry_after=_retry_after(response),
            )
        try:
            summaries, usage = read_answer(response.content)
        except ValueError as error:
            raise CallFailed(str(error)) from None
        return Answer(summaries, usage, duration_ms)


def quiet_request_logs() -> None:
    """httpx logs every request at INFO: the summarizer's calls are in the log
    already (SummarizerCalled), a line each in podium's own logs is noise."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _error_message(response: httpx.Response) -> str:
    try:
        said = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        said = response.text
    return " ".join(str(said).split())[:300]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None
