"""Rebuild benchmark: how fast every read model is rebuilt from a large, realistic log.

First it writes a log of ``--events`` genuine podium events: sessions in which
the user talks to the orchestrator, which commands dozens of agents through
turns of thinking, text, tool uses, file changes and results, with now and
then an interruption, a failure, an agent deleted and recreated, an AI
summary, a system log entry. The events come from the real aggregates and the
real mapper and are COPYed into the store in log order (the fast way to a big
log; the ingest benchmark measures the normal write path). Then it times the
real ``podium rebuild --all`` on it.

    .venv/bin/python bench/rebuild.py [--events 1000000]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import psycopg
from _database import (
    add_database_argument,
    describe_server,
    print_result,
    scratch_database,
    settle,
)

from domain.agent import Agent
from domain.application import Podium
from domain.events import Usage
from domain.session import Session
from domain.system_log import SystemLog
from eventlog.postgres import EVENTS_TABLE, open_podium
from gateway.progress import ProgressBar
from projections.read_models import NAMES
from projections.rebuild import rebuild

ROOT = Path(__file__).resolve().parent.parent
PODIUM = ROOT / ".venv" / "bin" / "podium"
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
                    path, "created" if tool == "Write" else "modified", rng.choice(t.diffs)
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


def describe_log(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"SELECT split_part(topic, ':', 2), count(*), avg(length(state))::int "
            f"FROM {EVENTS_TABLE} GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        streams = conn.execute(
            f"SELECT split_part(topic, ':', 1), count(*) FROM {EVENTS_TABLE} "
            "WHERE originator_version = 1 GROUP BY 1 ORDER BY 1"
        ).fetchall()
    mix = ", ".join(f"{name} {count:,} ({size} B)" for name, count, size in rows)
    made = ", ".join(f"{count} {name.removeprefix('domain.')}" for name, count in streams)
    return f"streams: {made}\nmix: {mix}"


def cli_supports_rebuild() -> bool:
    if not PODIUM.exists():
        return False
    shown = subprocess.run(
        [str(PODIUM), "rebuild", "--help"], capture_output=True, text=True, check=False
    )
    return shown.returncode == 0 and "--all" in shown.stdout


def rebuild_with_cli(conninfo: str) -> tuple[float, str]:
    """Run ``podium rebuild --all``; returns wall seconds and what it printed."""
    env = {**os.environ, "DATABASE_URL": conninfo}
    began = time.perf_counter()
    done = subprocess.run(
        [str(PODIUM), "rebuild", "--all"], env=env, stdout=subprocess.PIPE, text=True, check=True
    )
    return time.perf_counter() - began, done.stdout.strip()


def read_model_rows(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        counts = [(name, conn.execute(f"SELECT count(*) FROM {name}").fetchone()) for name in NAMES]
    return ", ".join(f"{name} {row[0] if row else 0:,}" for name, row in counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log")
    parser.add_argument("--sessions", type=int, default=4, help="sessions in the log")
    parser.add_argument("--agents", type=int, default=12, help="agents per session")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="call projections.rebuild.rebuild() instead of the podium CLI",
    )
    args = parser.parse_args()

    with scratch_database(args.database_url) as conninfo:
        print(describe_server(conninfo, embedded=not args.database_url))
        events, build_seconds = build_log(conninfo, args.events, args.sessions, args.agents)
        print(
            f"built a log of {events:,} events in {build_seconds:.1f}s "
            f"(domain + mapper + COPY, then VACUUM ANALYZE)"
        )
        print(describe_log(conninfo))
        load_before = os.getloadavg()[0]
        if not args.in_process and cli_supports_rebuild():
            how = f"{PODIUM.relative_to(ROOT)} rebuild --all (subprocess; time includes "
            how += "its start-up and migrate check)"
            seconds, said = rebuild_with_cli(conninfo)
            print(f"podium said: {said}")
            reported = re.search(r"in ([\d.]+)s", said)
        else:
            how = "projections.rebuild.rebuild() in-process"
            rebuilt = rebuild(conninfo)
            seconds, reported = rebuilt.seconds, None
        load_after = os.getloadavg()[0]
        print(f"read models: {read_model_rows(conninfo)}")

    events_per_s = events / seconds
    print(f"rebuild:  {how}")
    print(
        f"          {events:,} events in {seconds:.2f}s = {events_per_s:,.0f} events/s "
        f"(target >= 100,000)"
    )
    # The machine may be shared: a load above its cores means the run was slowed.
    print(
        f"          load average {load_before:.1f} before, {load_after:.1f} after, on "
        f"{os.cpu_count()} cores"
    )
    result: dict[str, object] = {
        "bench": "rebuild",
        "events": events,
        "events_per_s": round(events_per_s),
        "seconds": round(seconds, 2),
        "load_avg": [round(load_before, 1), round(load_after, 1)],
    }
    if reported:
        result["rebuild_only_events_per_s"] = round(events / float(reported.group(1)))
    print_result(result)


if __name__ == "__main__":
    main()
