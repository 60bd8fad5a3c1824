"""The soak's verdict: what the store says about the commands, the viewers and the read models.

Read after the last clean restart, when the log is quiet:

- every acknowledged command (its Idempotency-Key answered 2xx with a task)
  is in the log once (one AgentCommanded for its task, and no command the
  harness was not told about) and ran once: its turn started once (one
  AgentStatusChanged ``started`` for its task), completed at most once (one
  TurnCompleted; an interrupted turn records AgentInterrupted and then
  TurnCompleted, which is still one run) and ended (TurnCompleted,
  AgentInterrupted or AgentFailed) — or it never started because it was
  dropped, which the log says (AgentStatusChanged ``dropped``);
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
_NAMES = (
    "WITH names AS (SELECT stream_id, payload->>'name' AS name FROM events "
    "WHERE event_type = 'AgentCreated') "
)


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


def _count(conn: psycopg.Connection[tuple[Any, ...]], query: str, *params: Any) -> Counter[str]:
    """Counts by "agent/task" (task names are per agent) of a query over ``events AS e``
    joined to ``names AS n`` that selects the task and its count."""
    rows = conn.execute(_NAMES + query, params).fetchall()
    return Counter({str(task): int(count) for task, count in rows})


def per_task(conn: psycopg.Connection[tuple[Any, ...]], types: tuple[str, ...]) -> Counter[str]:
    """How many events of ``types`` each task has."""
    return _count(
        conn,
        "SELECT n.name || '/' || (e.payload->>'task'), count(*) FROM events AS e "
        "JOIN names AS n USING (stream_id) WHERE e.stream_type = 'agent' "
        "AND e.event_type = ANY(%s) AND e.payload->>'task' IS NOT NULL GROUP BY 1",
        list(types),
    )


def started(conn: psycopg.Connection[tuple[Any, ...]]) -> Counter[str]:
    """How many times each task's turn was started."""
    return _count(
        conn,
        "SELECT n.name || '/' || (e.payload->>'task'), count(*) FROM events AS e "
        "JOIN names AS n USING (stream_id) WHERE e.event_type = 'AgentStatusChanged' "
        "AND (e.payload->>'started')::boolean GROUP BY 1",
    )


def dropped(conn: psycopg.Connection[tuple[Any, ...]]) -> Counter[str]:
    """How many times each task was dropped before its turn started."""
    return _count(
        conn,
        "SELECT n.name || '/' || d.task, count(*) FROM events AS e "
        "JOIN names AS n USING (stream_id) "
        "CROSS JOIN LATERAL jsonb_array_elements_text(e.payload->'dropped') AS d(task) "
        "WHERE e.event_type = 'AgentStatusChanged' AND e.payload ? 'dropped' GROUP BY 1",
    )


def finished(conn: psycopg.Connection[tuple[Any, ...]]) -> set[str]:
    """The tasks whose turn ended, or that were dropped and will never run."""
    return set(per_task(conn, ENDS_A_TURN)) | set(dropped(conn))


def _history(conn: psycopg.Connection[tuple[Any, ...]], task: str) -> list[str]:
    """An agent task's commands and ends, with their ids: what a finding needs to be read."""
    agent, name = task.split("/", 1)
    rows = conn.execute(
        "SELECT e.notification_id, e.event_type, "
        "coalesce(e.payload->>'reason', e.payload->>'error') FROM events AS e "
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
        completed = per_task(conn, ("TurnCompleted",))
        starts = started(conn)
        drops = dropped(conn)
    never_logged = sorted(t for t in tasks if commanded[t] == 0)
    never_ran = sorted(t for t in tasks if commanded[t] and not starts[t] and not drops[t])
    never_ended = sorted(t for t in tasks if starts[t] and ended[t] == 0)
    twice = sorted(t for t in tasks if starts[t] > 1 or completed[t] > 1)
    unasked = sorted(t for t in commanded if t not in tasks)
    verdict.lost = len(never_logged) + len(never_ran) + len(never_ended)
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
        f"{len(never_ended)} started and never ended {never_ended[:5]}, "
        f"{sum(1 for t in tasks if drops[t])} dropped (recorded), "
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
