"""The soak's verdict: what the store says about the commands, the viewers and the read models.

Read after the last clean restart, when the log is quiet:

- every acknowledged command (its Idempotency-Key answered 2xx with a task)
  is in the log once (one AgentCommanded for its task, and no command the
  harness was not told about) and ran once (one TurnCompleted,
  AgentInterrupted or AgentFailed for its task);
- every viewer got the session's stored events after its start, once, in
  order (``StreamReport``);
- every read model equals a fresh fold of the whole log, row for row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from _sse_viewers import StreamReport
from psycopg import sql

from projections.bulk import SHADOW
from projections.read_models import NAMES
from projections.rebuild import build_shadow

ENDS_A_TURN = ("TurnCompleted", "AgentInterrupted", "AgentFailed")


@dataclass
class Verdict:
    events: int = 0
    lost: int = 0  # acknowledged, but never in the log or never run
    duplicates: int = 0  # in the log (or a viewer's stream) more than once
    executed_twice: int = 0
    viewer_gaps: int = 0
    read_models_differ: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicates
            or self.executed_twice
            or self.viewer_gaps
            or self.read_models_differ
        )


def per_task(conn: psycopg.Connection[tuple[Any, ...]], types: tuple[str, ...]) -> Counter[str]:
    """How many events of ``types`` each task has, by "agent/task" (task names are per agent)."""
    rows = conn.execute(
        "WITH names AS (SELECT stream_id, payload->>'name' AS name FROM events "
        "WHERE event_type = 'AgentCreated') "
        "SELECT n.name || '/' || (e.payload->>'task'), count(*) FROM events AS e "
        "JOIN names AS n USING (stream_id) WHERE e.stream_type = 'agent' "
        "AND e.event_type = ANY(%s) AND e.payload->>'task' IS NOT NULL GROUP BY 1",
        (list(types),),
    ).fetchall()
    return Counter({str(task): int(count) for task, count in rows})


def _history(conn: psycopg.Connection[tuple[Any, ...]], task: str) -> list[str]:
    """An agent task's commands and ends, with their ids: what a finding needs to be read."""
    agent, name = task.split("/", 1)
    rows = conn.execute(
        "SELECT e.notification_id, e.event_type, e.payload->>'reason' FROM events AS e "
        "JOIN events AS c ON c.stream_id = e.stream_id AND c.event_type = 'AgentCreated' "
        "WHERE c.payload->>'name' = %s AND e.payload->>'task' = %s ORDER BY 1",
        (agent, name),
    ).fetchall()
    return [f"#{nid} {kind}" + (f" ({why})" if why else "") for nid, kind, why in rows]


def _rows(conn: psycopg.Connection[tuple[Any, ...]], schema: str, table: str) -> list[str]:
    """A table's rows, in an order that does not depend on how they were written."""
    query = sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    return sorted(repr(row) for row in conn.execute(query))


def differing_read_models(conninfo: str) -> list[str]:
    """The read models that differ from a fold of the whole log into a scratch schema."""
    build_shadow(conninfo)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        differ = [n for n in NAMES if _rows(conn, "public", n) != _rows(conn, SHADOW, n)]
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(SHADOW)))
    return differ


def judge(conninfo: str, acknowledged: dict[str, str], viewers: StreamReport) -> Verdict:
    verdict = Verdict()
    tasks = set(acknowledged.values())
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
        verdict.events = int(row[0]) if row else 0
        commanded = per_task(conn, ("AgentCommanded",))
        ended = per_task(conn, ENDS_A_TURN)
    never_logged = sorted(t for t in tasks if commanded[t] == 0)
    never_ran = sorted(t for t in tasks if commanded[t] and ended[t] == 0)
    twice = sorted(t for t in tasks if ended[t] > 1)
    unasked = sorted(t for t in commanded if t not in tasks)
    verdict.lost = len(never_logged) + len(never_ran)
    verdict.duplicates = sum(n - 1 for n in commanded.values() if n > 1) + viewers.duplicates
    verdict.executed_twice = len(twice)
    verdict.viewer_gaps = viewers.missing + viewers.out_of_order + viewers.unexpected
    verdict.read_models_differ = differing_read_models(conninfo)
    with psycopg.connect(conninfo) as conn:
        for task in twice[:3]:
            verdict.lines.append(f"ran twice: {task}: {_history(conn, task)}")
    verdict.lines += [
        f"commands: {len(acknowledged)} acknowledged, {len(never_logged)} never logged "
        f"{never_logged[:5]}, {len(never_ran)} never ran {never_ran[:5]}, "
        f"{len(twice)} ran twice {twice[:5]}, "
        f"{len(unasked)} in the log but never acknowledged {unasked[:5]}",
        f"viewers: {viewers.viewers} streams, {viewers.as_json()}",
        "read models: "
        + (
            f"differ from a fresh fold: {verdict.read_models_differ}"
            if verdict.read_models_differ
            else "equal to a fresh fold of the log, row for row"
        ),
    ]
    return verdict
