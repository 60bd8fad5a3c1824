"""The application service: the commands of podium's write side.

Every adapter (the gateway's routes, the orchestrator's tools, the runtime,
the CLI) calls these methods; each loads the aggregates it needs, lets them
decide, and saves their new events the one way podium saves
(domain/saving.py: group commit, and a save another writer beat decided
again on fresh state).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.agent import Agent
from domain.approval import Approval, Scope
from domain.budget import Spend, session_spend
from domain.errors import AgentNotFound, ApprovalNotFound, DuplicateAgentName, SessionNotFound
from domain.members import SessionAgents
from domain.names import agent_stream_id, check_agent_name
from domain.permissions import Outcome, rule_for
from domain.saving import Conflicts, SavingApplication
from domain.session import Session
from domain.statuses import SessionStatus
from domain.system_log import SystemLog, system_log_id


class Podium(SavingApplication):
    """Sessions, agents and the system log, recorded in one event store."""

    name = "Podium"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        """``env``: eventsourcing's settings; none is an in-memory store (for
        tests of the rules). Processes open it on PostgreSQL with
        ``eventlog.postgres.open_podium``."""
        super().__init__(env)
        self._system_log_lock = threading.Lock()
        self._system_log: SystemLog | None = None
        self.session_agents = SessionAgents(self.recorder, self.mapper)

    # --- sessions -----------------------------------------------------------

    def start_session(
        self, title: str = "", cwd: str = ".", budget_usd: float | None = None
    ) -> Session:
        session = Session.start(title=title, cwd=cwd, budget_usd=budget_usd)
        self.save(session)
        return session

    def get_session(self, session_id: UUID) -> Session:
        try:
            session: object = self.repository.get(session_id)
        except AggregateNotFoundError:
            raise SessionNotFound(session_id) from None
        if not isinstance(session, Session):
            raise SessionNotFound(session_id)
        return session

    def send_user_message(self, session_id: UUID, text: str) -> None:
        self.decide(lambda: self.get_session(session_id), lambda s: s.send_user_message(text))

    def cut_answer_short(self, session_id: UUID, reason: str) -> None:
        """The orchestrator's answer was cut short (a crash): say so, once."""
        self.decide(lambda: self.get_session(session_id), lambda s: s.cut_short(reason))

    def resume_session(self, session_id: UUID, reason: str) -> None:
        """Take up a session again (``podium up --session``); an ended one stays ended."""

        def resume(session: Session) -> None:
            if session.status is not SessionStatus.ENDED:
                session.resume(reason)

        self.decide(lambda: self.get_session(session_id), resume)

    def session_spend(self, session_id: UUID) -> Spend:
        """The session's budget, and what it spent: its orchestrator and every
        agent it had, each folded from the log."""
        return self._session_spend(self.get_session(session_id))

    def _session_spend(self, session: Session) -> Spend:
        if session.budget_usd is None:  # nothing to compare: no agent need be loaded
            return Spend(None, session.cost_usd)
        agents = [self.get_agent(agent_id) for agent_id in self.session_agents.of(session.id)]
        return session_spend(session, agents)

    def set_session_budget(self, session_id: UUID, budget_usd: float | None, by: str) -> Spend:
        """Set, raise, lower or remove the session's budget: what it now allows and spent."""
        self.decide(lambda: self.get_session(session_id), lambda s: s.set_budget(budget_usd, by))
        return self.session_spend(session_id)

    def warn_session_budget(self, session_id: UUID) -> Spend:
        """After a turn of the session: record a warning when its spend has
        reached the next of 50, 75 and 90% of its budget; the spend."""

        def warn(session: Session) -> Spend:
            spend = self._session_spend(session)
            session.warn_budget(spend)
            return spend

        return self.decide(lambda: self.get_session(session_id), warn)

    def set_session_rules(self, session_id: UUID, rules: Mapping[Outcome, Iterable[str]]) -> None:
        """The session's layer of permission rules, in place of what it had."""
        self.decide(lambda: self.get_session(session_id), lambda s: s.set_permission_rules(rules))

    # --- agents -------------------------------------------------------------

    def create_agent(self, session_id: UUID, name: str, **options: Any) -> Agent:
        """Create an agent; its name must be free in the session (case-insensitive).
        ``options``: see ``Agent.create`` (``AgentSetup.options`` gives a template's)."""
        check_agent_name(name)
        session = self.get_session(session_id)
        session.check_open()
        current = self._latest_incarnation(session_id, name)
        if current is not None and not current.is_deleted:
            raise DuplicateAgentName(current.name)
        incarnation = 0 if current is None else current.incarnation + 1
        agent = Agent.create(session_id, name, incarnation=incarnation, **options)
        try:
            self.save(agent)
        except IntegrityError:
            # Another writer claimed the same name between our read and our save.
            raise DuplicateAgentName(name) from None
        return agent

    def find_agent(self, session_id: UUID, name: str) -> Agent:
        """The live or last agent called ``name`` in the session."""
        agent = self._latest_incarnation(session_id, name)
        if agent is None:
            raise AgentNotFound(name)
        return agent

    def get_agent(self, agent_id: UUID) -> Agent:
        agent: object = self.repository.get(agent_id)
        assert isinstance(agent, Agent)
        return agent

    def command_agent(
        self,
        session_id: UUID,
        name: str,
        command: str,
        source: str = "orchestrator",
        request: str | None = None,
    ) -> str:
        """Give an agent a task (refused once its budget or its session's is
        spent); its slug. ``request``: the Idempotency-Key that asked for it."""

        def command_it(agent: Agent) -> str:
            spend = self._session_spend(self.get_session(session_id))
            return agent.command(command, source=source, request=request, session=spend)

        return self.decide(lambda: self.find_agent(session_id, name), command_it)

    def interrupt_agent(self, session_id: UUID, name: str, source: str) -> Agent:
        """Ask the runtime to stop a busy agent's turn (an idle one has none):
        the agent, as it is after the request."""

        def interrupt(agent: Agent) -> Agent:
            if agent.is_deleted:
                raise AgentNotFound(name)
            agent.request_interrupt(source)
            return agent

        return self.decide(lambda: self.find_agent(session_id, name), interrupt)

    def delete_agent(self, session_id: UUID, name: str, reason: str = "") -> None:
        self.decide(lambda: self.find_agent(session_id, name), lambda a: a.delete(reason))

    def set_agent_budget(
        self, session_id: UUID, name: str, budget_usd: float | None, by: str
    ) -> Agent:
        """Set, raise, lower or remove an agent's budget; the agent after it. A
        raised budget lets an agent its budget stopped take commands again."""

        def set_budget(agent: Agent) -> Agent:
            if agent.is_deleted:
                raise AgentNotFound(name)
            agent.set_budget(budget_usd, by)
            return agent

        return self.decide(lambda: self.find_agent(session_id, name), set_budget)

    def drop_waiting(self, agent_id: UUID, reason: str) -> None:
        """Give up the agent's waiting commands: none of them will run."""
        self.decide(lambda: self.get_agent(agent_id), lambda a: a.drop_waiting(reason))

    def _latest_incarnation(self, session_id: UUID, name: str) -> Agent | None:
        """Walk the name's incarnations to the newest one that exists."""
        check_agent_name(name)
        incarnation = 0
        while self.recorder.select_events(agent_stream_id(session_id, name, incarnation), limit=1):
            incarnation += 1
        if incarnation == 0:
            return None
        return self.get_agent(agent_stream_id(session_id, name, incarnation - 1))

    # --- approvals ------------------------------------------------------------

    def request_approval(self, approval: Approval) -> Approval:
        """Record a new request (``Approval.request``); one recorded already
        (its id is the tool use's) is the request, as it stands."""
        try:
            self.save(approval)
        except IntegrityError:
            return self.get_approval(approval.id)
        return approval

    def get_approval(self, approval_id: UUID) -> Approval:
        try:
            approval: object = self.repository.get(approval_id)
        except AggregateNotFoundError:
            raise ApprovalNotFound(approval_id) from None
        if not isinstance(approval, Approval):
            raise ApprovalNotFound(approval_id)
        return approval

    def decide_approval(
        self, approval_id: UUID, allow: bool, scope: str, message: str, by: str
    ) -> Approval:
        """A person's decision; the first one stands (a second, or the loser of two
        at once, deciding again on fresh state, raises AlreadyDecided). A grant
        for the agent or the session adds the rule it approves to that layer, in
        the same transaction: the log keeps it, so it outlives the CLI process."""
        conflicts = Conflicts()
        while True:
            approval = self.get_approval(approval_id)
            if allow:
                approval.grant(scope, by)
            else:
                approval.deny(message, by)
            governed = self._grant_layer(approval) if allow else None
            try:
                self.save(approval, governed)
            except IntegrityError as conflict:
                conflicts.retry(conflict)
                continue
            return approval

    def _grant_layer(self, approval: Approval) -> Agent | Session | None:
        """The agent or session a grant beyond this one use widens, with the rule
        it approves added (``rule_for``: the narrowest rule covering the request)."""
        rule = rule_for(approval.tool, approval.input)
        by = f"approval {approval.id}"
        if approval.scope is Scope.AGENT:
            agent = self.get_agent(approval.agent_id)
            agent.add_permission_rule(Outcome.ALLOW, rule, by)
            return agent
        if approval.scope is Scope.SESSION:
            session = self.get_session(approval.session_id)
            session.add_permission_rule(Outcome.ALLOW, rule, by)
            return session
        return None

    def expire_approval(self, approval_id: UUID, reason: str) -> Approval:
        """Nobody decided in time, or a restart cut the agent short (AlreadyDecided
        when a decision came first)."""

        def expire(approval: Approval) -> Approval:
            approval.expire(reason)
            return approval

        return self.decide(lambda: self.get_approval(approval_id), expire)

    # --- system log ---------------------------------------------------------

    def write_system_log(
        self,
        level: str,
        message: str,
        context: dict[str, str] | None = None,
        session_id: UUID | None = None,
    ) -> None:
        """Append to today's system log (this process keeps it loaded)."""
        attempts = 0

        def load() -> SystemLog:
            nonlocal attempts
            attempts += 1
            return self._todays_system_log(fresh=attempts > 1)

        with self._system_log_lock:
            self.decide(load, lambda log: log.log(level, message, context, session_id))

    def _todays_system_log(self, fresh: bool) -> SystemLog:
        """Today's log: the one kept, unless ``fresh`` (another process appended)."""
        today = datetime.now(UTC).date()
        cached = self._system_log
        if not fresh and cached is not None and cached.day == today.isoformat():
            return cached
        try:
            loaded: object = self.repository.get(system_log_id(today))
            assert isinstance(loaded, SystemLog)
            self._system_log = loaded
        except AggregateNotFoundError:
            self._system_log = SystemLog.open(today)
        return self._system_log
