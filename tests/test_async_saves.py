"""Saves from asyncio code (the runtime's): group commit awaited, not waited for on a thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.agent import Agent
from domain.application import Podium
from eventlog.group_commit import GroupCommitRecorder, RecorderClosedError
from eventlog.group_sizing import SPLIT_ABOVE
from eventlog.postgres import EVENTS_TABLE, open_podium
from tests.store_reads import transactions

pytestmark = pytest.mark.anyio
T = TypeVar("T")


def group_commit(app: Podium) -> GroupCommitRecorder:
    assert isinstance(app.recorder, GroupCommitRecorder)
    return app.recorder


def with_text(agent: Agent, lines: int) -> Agent:
    for n in range(lines):
        agent.emit_text(f"line {n}")
    return agent


@contextlib.contextmanager
def events_table_locked(database_url: str) -> Iterator[None]:
    """Hold the events table's write lock, so that saves queue up, until the block ends."""
    with psycopg.connect(database_url) as blocker:
        blocker.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
        yield
        blocker.rollback()


async def waiting_for_the_lock(save: Awaitable[T]) -> asyncio.Future[T]:
    """Start ``save``; it is the committer's group now, waiting for the lock."""
    started = asyncio.ensure_future(save)
    await asyncio.sleep(0.2)
    return started


async def queued(app: Podium, callers: int) -> None:
    """Until ``callers`` saves wait in the committer's queue (or in its first group)."""
    recorder = group_commit(app)
    while recorder._queue.qsize() < callers:
        await asyncio.sleep(0.01)


async def test_tasks_saving_together_share_a_transaction(app, database_url):
    session = app.start_session()
    agents = [with_text(app.create_agent(session.id, f"agent{i}"), 5) for i in range(8)]
    before = transactions(database_url)
    with events_table_locked(database_url):
        first = await waiting_for_the_lock(app.save_async(agents[0]))
        saves = [asyncio.ensure_future(app.save_async(agent)) for agent in agents[1:]]
        await queued(app, 7)
    saved = [await first, *await asyncio.gather(*saves)]
    assert transactions(database_url) - before == 2
    with psycopg.connect(database_url) as conn:
        for agent, ids in zip(agents, saved, strict=True):
            stored = conn.execute(
                f"SELECT notification_id FROM {EVENTS_TABLE} "
                "WHERE originator_id = %s AND originator_version > 1 ORDER BY originator_version",
                (agent.id,),
            ).fetchall()
            assert list(ids) == [row[0] for row in stored]
    all_ids = [i for ids in saved for i in ids]
    assert all_ids == sorted(all_ids) and len(set(all_ids)) == 40


async def test_a_group_takes_every_save_waiting(app, database_url):
    """Saves queued while a commit waits all go in the next group, however many:
    a slow commit makes bigger groups, not a lower ceiling (the sizing that may
    split a big group is tested on its measures in tests/unit/test_group_commit.py)."""
    session = app.start_session()
    agents = [app.create_agent(session.id, f"agent{i}") for i in range(16)]
    before = transactions(database_url)
    with events_table_locked(database_url):
        first = await waiting_for_the_lock(app.save_async(with_text(agents[0], 8)))
        saves = [asyncio.ensure_future(app.save_async(with_text(a, 8))) for a in agents[1:]]
        await queued(app, 15)
    await asyncio.gather(first, *saves)
    assert SPLIT_ABOVE < 15 * 8  # more than the old bound of 64 events a group
    assert transactions(database_url) - before == 2


async def test_a_conflict_fails_only_its_own_task(app, database_url):
    session = app.start_session()
    alice = app.create_agent(session.id, "alice")
    bob = app.create_agent(session.id, "bob")
    carol = app.create_agent(session.id, "carol")
    stale = app.get_agent(alice.id)
    await app.save_async(with_text(alice, 1))
    with events_table_locked(database_url):
        first = await waiting_for_the_lock(app.save_async(with_text(carol, 1)))
        saves = [asyncio.ensure_future(app.save_async(with_text(a, 1))) for a in (stale, bob)]
        await queued(app, 2)
    outcomes = await asyncio.gather(first, *saves, return_exceptions=True)
    assert isinstance(outcomes[1], IntegrityError)
    assert not isinstance(outcomes[0], BaseException)
    assert not isinstance(outcomes[2], BaseException)
    assert [app.get_agent(a.id).version for a in (alice, bob, carol)] == [2, 2, 2]


async def test_a_task_that_stops_waiting_withdraws_nothing(app, database_url):
    session = app.start_session()
    alice = with_text(app.create_agent(session.id, "alice"), 3)
    with events_table_locked(database_url):
        save = await waiting_for_the_lock(app.save_async(alice))
        save.cancel()
    with pytest.raises(asyncio.CancelledError):
        await save
    # The committer answered a task no longer waiting and went on committing.
    bob = with_text(app.create_agent(session.id, "bob"), 2)
    assert len(await app.save_async(bob)) == 2
    assert app.get_agent(alice.id).version == 4


async def test_closing_answers_waiting_tasks_and_refuses_new_ones(database_url):
    app = open_podium(database_url)
    session = app.start_session()
    alice = with_text(app.create_agent(session.id, "alice"), 2)
    with events_table_locked(database_url):
        save = await waiting_for_the_lock(app.save_async(alice))
        closing = threading.Thread(target=app.close)  # commits what is queued first
        closing.start()
        await asyncio.sleep(0.2)
    assert len(await save) == 2
    await asyncio.to_thread(closing.join)
    with pytest.raises(RecorderClosedError):
        await app.save_async(with_text(alice, 1))
