"""A request for permission, and its one decision: an aggregate of its own.

When Claude Code asks whether an agent may use a tool, the runtime records
``ApprovalRequested`` on a stream of its own, whose id is stable (the agent
and the tool use it is for), and waits. A person decides once: granted (for
this use, for the agent or for the session), denied (with a message the agent
receives) or, when nobody did in time or a restart cut the agent short,
expired. Whatever comes second is refused (``AlreadyDecided``); two decisions
at once are told apart by the stream's version: the loser decides again on
fresh state and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from domain.aggregate import PodiumAggregate
from domain.errors import AlreadyDecided
from domain.events import Payload, PodiumCreated, PodiumEvent

APPROVAL_NAMESPACE = UUID("0b6f3f55-6c1d-4b8e-9f0e-2f4f4d7a9c31")


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    DENIED = "denied"
    EXPIRED = "expired"


class Scope(StrEnum):
    """How far a grant reaches: this one use, the agent's other uses, the session's."""

    ONCE = "once"
    AGENT = "agent"
    SESSION = "session"


def approval_id(agent_id: UUID, tool_use_id: str) -> UUID:
    """The request's id: the same for the same tool use of the same agent, so a
    request recorded twice (a retried save) is one stream."""
    return uuid5(APPROVAL_NAMESPACE, f"{agent_id}:{tool_use_id}")


class Approval(PodiumAggregate):
    """One request for permission and its decision."""

    agent_id: UUID
    session_id: UUID
    agent: str
    tool: str
    input: dict[str, Any]
    status: ApprovalStatus
    scope: Scope | None
    message: str

    def __init__(self, payload: ApprovalRequestedV1) -> None:
        self.agent_id = payload.agent_id
        self.session_id = payload.session_id
        self.agent = payload.agent
        self.tool = payload.tool
        self.input = payload.input
        self.status = ApprovalStatus.PENDING
        self.scope = None
        self.message = ""

    @classmethod
    def request(
        cls,
        *,
        agent_id: UUID,
        session_id: UUID,
        agent: str,
        task: str | None,
        tool: str,
        tool_use_id: str,
        tool_input: dict[str, Any],
        rule: str = "",
    ) -> Approval:
        payload = ApprovalRequestedV1(
            agent_id=agent_id,
            session_id=session_id,
            agent=agent,
            task=task,
            tool=tool,
            tool_use_id=tool_use_id,
            input=tool_input,
            rule=rule,
        )
        return cls._create(
            ApprovalRequested, id=approval_id(agent_id, tool_use_id), payload=payload
        )

    @property
    def is_decided(self) -> bool:
        return self.status is not ApprovalStatus.PENDING

    def _check_pending(self) -> None:
        if self.is_decided:
            raise AlreadyDecided(self.id, self.status)

    def grant(self, scope: str, by: str) -> None:
        self._check_pending()
        self.trigger_event(ApprovalGranted, payload=ApprovalGrantedV1(scope=Scope(scope), by=by))

    def deny(self, message: str, by: str) -> None:
        self._check_pending()
        self.trigger_event(ApprovalDenied, payload=ApprovalDeniedV1(message=message, by=by))

    def expire(self, reason: str) -> None:
        self._check_pending()
        self.trigger_event(ApprovalExpired, payload=ApprovalExpiredV1(reason=reason))


# --- payloads and events -----------------------------------------------------


class ApprovalRequestedV1(Payload, frozen=True):
    agent_id: UUID
    session_id: UUID
    agent: str
    task: str | None
    tool: str
    tool_use_id: str
    input: dict[str, Any]
    rule: str = ""  # the permission rule that asked ("" before rules exist)


class ApprovalGrantedV1(Payload, frozen=True):
    scope: Scope
    by: str


class ApprovalDeniedV1(Payload, frozen=True):
    message: str  # what the agent is told
    by: str


class ApprovalExpiredV1(Payload, frozen=True):
    reason: str


@dataclass(frozen=True)
class ApprovalRequested(PodiumCreated):
    payload: ApprovalRequestedV1


@dataclass(frozen=True)
class ApprovalGranted(PodiumEvent):
    payload: ApprovalGrantedV1

    def apply(self, approval: Approval) -> None:
        approval.status = ApprovalStatus.GRANTED
        approval.scope = self.payload.scope


@dataclass(frozen=True)
class ApprovalDenied(PodiumEvent):
    payload: ApprovalDeniedV1

    def apply(self, approval: Approval) -> None:
        approval.status = ApprovalStatus.DENIED
        approval.message = self.payload.message


@dataclass(frozen=True)
class ApprovalExpired(PodiumEvent):
    payload: ApprovalExpiredV1

    def apply(self, approval: Approval) -> None:
        approval.status = ApprovalStatus.EXPIRED
        approval.message = self.payload.reason
