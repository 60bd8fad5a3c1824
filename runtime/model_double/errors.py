"""Error answers in the real API's shape, and faults injected at runtime.

The Messages API answers an error with a JSON body
`{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}`
and a `request-id` header; 429s carry `retry-after`. Fault tests need the
same shape, or the CLI would treat them differently from real outages.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

ANY, AGENTS, SUMMARIES = "any", "agents", "summaries"  # whose requests a fault is for
REQUESTERS = (ANY, AGENTS, SUMMARIES)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_DEFAULT_MESSAGES = {
    429: "Number of request tokens has exceeded your per-minute rate limit (model double).",
    500: "Internal server error (model double).",
    529: "Overloaded (model double).",
}


@dataclass(frozen=True)
class ApiError:
    """An error answer: HTTP status, message, and for 429 a retry-after in seconds.

    `rule` and `step` name the scenario step that asked for it (None for a
    fault injected with `fail_next`).
    """

    status: int
    message: str | None = None
    retry_after: float | None = None
    rule: str | None = None
    step: int = 0

    @property
    def error_type(self) -> str:
        return ERROR_TYPES.get(self.status, "api_error")

    def body(self, request_id: str) -> dict[str, Any]:
        message = self.message or _DEFAULT_MESSAGES.get(self.status, self.error_type)
        return {
            "type": "error",
            "error": {"type": self.error_type, "message": message},
            "request_id": request_id,
        }

    def headers(self, request_id: str) -> dict[str, str]:
        headers = {"request-id": request_id}
        retry_after = self.retry_after
        if retry_after is None and self.status == 429:
            retry_after = 1.0
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        return headers


def new_request_id() -> str:
    return f"req_double_{uuid.uuid4().hex[:20]}"


class FaultQueue:
    """Errors to answer the next `/v1/messages` requests with: any request, or
    only the agents' (the CLI's) or only the summarizer's.

    Filled from test code (any thread), drained by the server's event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[tuple[ApiError, str]] = deque()

    def add(self, error: ApiError, times: int, of: str = ANY) -> None:
        if of not in REQUESTERS:
            raise ValueError(f"faults are for {', '.join(REQUESTERS)}, not {of!r}")
        with self._lock:
            self._pending.extend([(error, of)] * times)

    def take(self, requester: str) -> ApiError | None:
        """The first pending error for a request of ``requester`` (taken), if any."""
        with self._lock:
            for index, (error, of) in enumerate(self._pending):
                if of in (ANY, requester):
                    del self._pending[index]
                    return error
            return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
