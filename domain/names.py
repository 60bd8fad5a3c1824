"""Agent names: what is valid, and the stream id each name claims."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from domain.errors import InvalidAgentName

AGENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def check_agent_name(name: str) -> str:
    if not AGENT_NAME.fullmatch(name):
        raise InvalidAgentName(name)
    return name


def agent_stream_id(session_id: UUID, name: str, incarnation: int) -> UUID:
    """The id of the ``incarnation``-th agent called ``name`` in a session.

    Names are unique per session, case-insensitively, and the store enforces
    it: two agents claiming the same name claim the same stream id, and the
    store refuses the second version 1. A name freed by deletion is claimed
    again by the next incarnation.
    """
    return uuid5(session_id, f"agent/{name.lower()}/{incarnation}")
