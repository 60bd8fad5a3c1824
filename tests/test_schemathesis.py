"""schemathesis against a live podium: whatever it sends, no 5xx, and every answer is
what /api/openapi.json says it is (issue 12, "schemathesis runs in the suite").

Requests valid by the document and requests that break it, to every operation but
/api/stream (an SSE stream never ends; test_inputs.py covers its parameters), on
a real server over a real socket. Bounded by the number of examples (about a
minute here), not by a clock, so that a slow machine runs the same test.
"""

from __future__ import annotations

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from tests.gateway_server import Served

EXAMPLES = 600
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
# Commands without a body must still say JSON, as podium's page does (gateway/same_origin.py).
JSON = {"Content-Type": "application/json"}


def _session_with_agent(url: str, name: str) -> str:
    with httpx.Client(base_url=url) as client:
        session = client.post("/api/sessions", json={}).json()["session_id"]
        created = client.post(f"/api/sessions/{session}/agents", json={"name": name})
        assert created.status_code == 201, created.text
        return session


def test_schemathesis_finds_no_server_error_and_no_nonconformance(served: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{served.url}/api/openapi.json", timeout=30)
    operations = schema.exclude(path="/api/stream")
    # Random ids find no session: half the cases go to a real session and agent instead.
    # Not its messages or commands, which would start Claude Code turns by the hundred.
    known = {"session_id": _session_with_agent(served.url, "bob"), "name": "bob"}
    in_session = operations.include(path_regex="{session_id}").exclude(
        path_regex="/(messages|commands)$"
    )
    cases = st.one_of(
        *(operations.as_strategy(mode) for mode in GenerationMode),
        *(in_session.as_strategy(mode, path_parameters=known) for mode in GenerationMode),
    )
    http = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def answers_as_documented(case: Case) -> None:
        case.call_and_validate(session=http, headers=JSON, checks=CHECKS, timeout=30)

    with http:
        answers_as_documented()
