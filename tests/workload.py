"""A realistic little history, written through the real domain, for tests."""

from __future__ import annotations

import random

from domain.application import Podium
from domain.events import Usage


def write_history(
    app: Podium, sessions: int = 2, agents: int = 3, turns: int = 5, seed: int = 7
) -> int:
    """Sessions with agents doing turns of work; returns how many events were saved."""
    rng = random.Random(seed)
    saved = 0
    for s in range(sessions):
        session = app.start_session(f"session {s}", f"/work/s{s}")
        saved += 1
        for a in range(agents):
            session.send_user_message(f"create an agent called agent{a}")
            session.record_tool_use(f"o{s}{a}", "mcp__podium__create_agent", {"name": f"agent{a}"})
            session.record_reply(f"agent{a} is ready")
            session.complete_turn(
                Usage(input_tokens=rng.randint(100, 900), output_tokens=rng.randint(10, 90)),
                cost_usd=rng.randint(1, 900) / 10_000,
                duration_ms=800,
                num_turns=1,
                claude_session_id=f"orch-{s}",
                model="claude-sonnet-4-5",
            )
            app.save(session)
            saved += 4
            agent = app.create_agent(
                session.id, f"agent{a}", model=rng.choice(["claude-sonnet-4-5", "claude-haiku-4-5"])
            )
            saved += 1
            for t in range(turns):
                agent.command(f"task {t} for agent{a}")
                agent.start_turn()  # as the runtime does: one turn per command
                agent.emit_thinking("thinking about it")
                agent.emit_text(f"working on task {t}")
                agent.request_tool_use(f"tu{t}", "Write", {"file_path": f"f{t}.py"})
                agent.record_file_change(
                    f"f{t}.py", "created", f"+print({t})", tool="Edit", tool_use_id="toolu_1"
                )
                agent.complete_tool_use(f"tu{t}", "Write", "ok", is_error=rng.random() < 0.1)
                agent.complete_turn(
                    Usage(input_tokens=rng.randint(100, 5000), output_tokens=rng.randint(10, 500)),
                    cost_usd=rng.randint(1, 5000) / 10_000,
                    duration_ms=rng.randint(100, 9000),
                    num_turns=2,
                    claude_session_id=f"c-{s}-{a}",
                    is_error=rng.random() < 0.1,
                )
                saved += 8
            app.save(agent)
        if s % 2:
            app.delete_agent(session.id, "agent0", "not needed")
            saved += 1
        app.write_system_log("info", f"session {s} done", {"n": str(s)}, session.id)
        saved += 1
    return saved
