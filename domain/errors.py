"""Domain errors: rule violations a person can read and act on.

Every error carries a message that names the offending value and what would
be accepted instead, so adapters (the CLI, the gateway, the orchestrator's
tools) can show it as it is.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a rule of the domain; nothing was recorded."""


class InvalidAgentName(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"invalid agent name {name!r}: use a letter followed by up to 63 "
            "letters, digits, '_' or '-'"
        )


class DuplicateAgentName(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"an agent called {name!r} already exists in this session")


class AgentNotFound(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no agent called {name!r} in this session")


class AgentIsDeleted(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"agent {name!r} has been deleted and takes no more commands")


class SessionNotFound(DomainError):
    def __init__(self, session_id: object) -> None:
        super().__init__(f"no session with id {session_id}")


class SessionIsEnded(DomainError):
    def __init__(self, session_id: object) -> None:
        super().__init__(f"session {session_id} has ended and takes no more commands")


class NegativeAmount(DomainError):
    def __init__(self, what: str, value: float) -> None:
        super().__init__(f"{what} cannot be negative (got {value})")


class EmptyText(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} cannot be empty")


class InvalidModel(DomainError):
    def __init__(self, model: str) -> None:
        super().__init__(
            f"unknown model {model!r}: use a Claude model id such as claude-sonnet-4-5, "
            "or sonnet, opus or haiku"
        )


class BudgetExhausted(DomainError):
    def __init__(self, who: str, budget_usd: float, spent_usd: float) -> None:
        super().__init__(
            f"{who} has spent ${spent_usd:.4f} of its ${budget_usd:.2f} budget and takes no "
            "more commands"
        )


class DirectoryOutsideSession(DomainError):
    def __init__(self, cwd: str) -> None:
        super().__init__(
            f"working directory {cwd!r} is outside the session's directory: "
            "give a path relative to it, without '..'"
        )


class ApprovalNotFound(DomainError):
    def __init__(self, approval_id: object) -> None:
        super().__init__(f"no approval request with id {approval_id}")


class AlreadyDecided(DomainError):
    def __init__(self, approval_id: object, status: str) -> None:
        super().__init__(
            f"approval request {approval_id} is {status} already: the first decision stands"
        )
