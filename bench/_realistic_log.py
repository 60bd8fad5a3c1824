"""A large, realistic log for the rebuild benchmark, written the fast way.

Sessions in which the user talks to the orchestrator, which commands dozens
of agents through turns of thinking, text, tool uses, file changes and
results, with now and then an interruption, a failure, an agent deleted and
recreated, an AI summary, a system log entry. The events come from the real
aggregates and the real mapper and are COPYed into the store in log order.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import psycopg
from _database import settle

from domain.agent import Agent
from domain.application import Podium
from domain.events import Usage
from domain.session import Session
from domain.system_log import SystemLog
from eventlog.postgres import EVENTS_TABLE, open_podium
from gateway.progress import ProgressBar

FLUSH_ROWS = 20_000
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
TOOLS = ("Read", "Edit", "Write", "Bash", "Grep", "Glob")
# fmt: off
WORDS = (  # the vocabulary of the generated texts
    "the", "parser", "handles", "folded", "headers", "test", "module", "function", "returns",
    "value", "error", "case", "config", "file", "request", "response", "cache", "index", "query",
    "table", "migration", "schema", "field", "type", "build", "passes", "fails", "because",
    "missing", "import", "rename", "refactor", "update", "check", "fix", "add",
)
# fmt: on


class Texts:
    """Pre-made strings of realistic lengths, so building the log costs little."""

    def __init__(self, rng: random.Random) -> None:
        def text(lo: int, hi: int) -> str:
            words = rng.choices(WORDS, k=rng.randint(lo, hi))
            return " ".join(words).capitalize() + "."

        self.short = [text(4, 15) for _ in range(200)]  # commands, user messages, reasons
        self.medium = [text(20, 90) for _ in range(200)]  # agent text, replies
        self.long = [text(60, 250) for _ in range(200)]  # thinking, tool output
        self.diffs = [
            "".join(f"-    {text(3, 8)}\n+    {text(3, 8)}\n" for _ in range(rng.randint(2, 25)))
            for _ in range(200)
        ]
        self.paths = [f"src/{rng.choice(WORDS)}/{rng.choice(WORDS)}_{i}.py" for i in range(300)]


@dataclass
class LogBuilder:
    """Plays a realistic workload through the domain, streaming stored events to COPY."""

    app: Podium
    conn: psycopg.Connection[tuple[object, ...]]
    target: int
    rng: random.Random = field(default_factory=lambda: random.Random(42))
    written: int = 0
    pending: list[tuple[UUID | str, int, str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.texts = Texts(self.rng)
        self.bar = ProgressBar("build log")
        self.system_log = SystemLog.open(datetime.now(UTC).date())
        self.emit(self.system_log)

    # --- the sink -------------------------------------------------------------

    def emit(self, aggregate: Agent | Session | SystemLog) -> None:
        """Map the aggregate's new events (in order) and queue them for COPY."""
        for event in aggregate.collect_events():
            stored = self.app.mapper.to_stored_event(event)
            self.pending.append(
                (stored.originator_id, stored.originator_version, stored.topic, stored.state)
            )
        if len(self.pending) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with (
            self.conn.cursor() as cur,
            cur.copy(
                f"COPY {EVENTS_TABLE} (originator_id, originator_version, topic, state) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in self.pending:
                copy.write_row(row)
        self.conn.commit()
        self.written += len(self.pending)
        self.pending.clear()
        self.bar.update(min(self.written, self.target), self.target)

    @property
    def produced(self) -> int:
        return self.written + len(self.pending)

    # --- the workload ---------------------------------------------------------

    def build(self, sessions: int, agents_per_session: int) -> int:
        """Write at least ``target`` events; returns how many were written."""
        rng, t = self.rng, self.texts
        crew: list[tuple[Session, list[Agent]]] = []
        for s in range(sessions):
            session = Session.start(
                f"session {s}: {rng.choice(t.short)}",
                f"/work/project{s}",
                budget_usd=rng.choice((None, 50.0, 200.0)),
            )
            self.emit(session)
            agents = [self.new_agent(session, f"agent{a}", 0) for a in range(agents_per_session)]
            crew.append((session, agents))
        turn = 0
        while self.produced < self.target:
            session, agents = rng.choice(crew)
            workers = rng.sample(range(len(agents)), k=rng.randint(1, 3))
            self.orchestrate(session, [agents[i] for i in workers])
            for i in workers:
                agents[i] = self.agent_turn(session, agents[i])
                turn += 1
            if rng.random() < 0.05:
                self.system_log.log(
                    rng.choice(("info", "info", "warning", "error")),
                    rng.choice(t.short),
                    {"turn": str(turn)},
                    session.id,
                )
                self.emit(self.system_log)
            if rng.random() < 0.002:
                session.interrupt("user pressed stop")
                session.resume("user resumed")
                self.emit(session)
        self.flush()
        return self.written

    def new_agent(self, session: Session, name: str, incarnation: int) -> Agent:
        agent = Agent.create(
            session.id,
            name,
            incarnation=incarnation,
            model=self.rng.choice(MODELS),
            system_prompt=self.rng.choice(self.texts.medium),
            cwd=f"agents/{name}",  # relative: an agent works inside its session's folder
            allowed_tools=TOOLS,
            budget_usd=self.rng.choice((None, 10_000.0)),  # never reached: commands go on
        )
        self.emit(agent)
        return agent

    def orchestrate(self, session: Session, agents: list[Agent]) -> None:
        """The user asks; the orchestrator commands the agents and replies."""
        rng, t = self.rng, self.texts
        session.send_user_message(rng.choice(t.short))
        for agent in agents:
            session.record_tool_use(
                f"toolu_o{rng.getrandbits(40):x}",
                "mcp__podium__command_agent",
                {"name": agent.name, "command": rng.choice(t.short)},
            )
        session.record_reply(rng.choice(t.medium))
        session.complete_turn(
            self.usage(),
            cost_usd=rng.uniform(0.001, 0.05),
            duration_ms=rng.randint(500, 9000),
            num_turns=1,
            claude_session_id=f"orch-{session.id.hex[:8]}",
            model="claude-sonnet-4-5",
        )
        self.emit(session)

    def agent_turn(self, session: Session, agent: Agent) -> Agent:
        """One turn of an agent; returns the agent (a new incarnation if it was deleted)."""
        rng, t = self.rng, self.texts
        agent.command(rng.choice(t.short))
        agent.start_turn()  # as the runtime's worker does: the command waits no longer
        agent.emit_thinking(rng.choice(t.long))
        agent.emit_text(rng.choice(t.medium))
        for _ in range(rng.randint(1, 6)):
            tool, tool_id = rng.choice(TOOLS), f"toolu_{rng.getrandbits(48):x}"
            path = rng.choice(t.paths)
            agent.request_tool_use(tool_id, tool, self.tool_input(tool, path))
            if tool in ("Edit", "Write"):
                agent.record_file_change(
                    path,
                    "created" if tool == "Write" else "modified",
                    rng.choice(t.diffs),
                    tool=tool,
                    tool_use_id=tool_id,
                )
            agent.complete_tool_use(tool_id, tool, rng.choice(t.long), is_error=rng.random() < 0.05)
            if rng.random() < 0.3:
                agent.emit_text(rng.choice(t.medium))
        ending = rng.random()
        if ending < 0.01:
            agent.interrupt("stopped by the user")
        elif ending < 0.02:
            agent.fail("the model returned an error: overloaded")
            agent.change_status("idle", "recovered")
        else:
            agent.emit_text(rng.choice(t.medium))
            agent.complete_turn(
                self.usage(),
                cost_usd=rng.uniform(0.001, 0.2),
                duration_ms=rng.randint(1_000, 90_000),
                num_turns=rng.randint(1, 12),
                claude_session_id=f"claude-{agent.id.hex[:8]}",
                is_error=rng.random() < 0.02,
            )
        if rng.random() < 0.1:  # an AI summary of this turn's first event (ids start at 1)
            agent.summarize(self.produced + 1, rng.choice(t.short))
        self.emit(agent)
        if rng.random() < 0.001:
            agent.delete("no longer needed")
            self.emit(agent)
            return self.new_agent(session, agent.name, agent.incarnation + 1)
        return agent

    def tool_input(self, tool: str, path: str) -> dict[str, object]:
        t = self.texts
        if tool == "Bash":
            return {
                "command": f"pytest -q tests/test_{self.rng.choice(WORDS)}.py",
                "timeout": 120000,
            }
        if tool == "Edit":
            return {
                "file_path": path,
                "old_string": self.rng.choice(t.short),
                "new_string": self.rng.choice(t.short),
            }
        if tool == "Write":
            return {"file_path": path, "content": self.rng.choice(t.long)}
        if tool in ("Grep", "Glob"):
            return {"pattern": self.rng.choice(WORDS), "path": "src"}
        return {"file_path": path}

    def usage(self) -> Usage:
        rng = self.rng
        return Usage(
            input_tokens=rng.randint(200, 20_000),
            output_tokens=rng.randint(20, 4_000),
            cache_creation_input_tokens=rng.randint(0, 5_000),
            cache_read_input_tokens=rng.randint(0, 80_000),
        )


def build_log(conninfo: str, events: int, sessions: int, agents: int) -> tuple[int, float]:
    """Write the log; returns events written and seconds taken."""
    began = time.perf_counter()
    app = open_podium(conninfo, pool_size=1)
    try:
        with psycopg.connect(conninfo) as conn:
            written = LogBuilder(app, conn, events).build(sessions, agents)
    finally:
        app.close()
    settle(conninfo)
    return written, time.perf_counter() - began
