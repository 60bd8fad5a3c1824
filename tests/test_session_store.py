"""Claude transcripts in PostgreSQL: the SDK's conformance suite, concurrent appends,
verbatim round trips, mtimes, and the SDK's own mirror and resume paths on the store."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from claude_agent_sdk import (
    ClaudeAgentOptions,
    SessionKey,
    SessionStore,
    list_sessions_from_store,
    project_key_for_directory,
)
from claude_agent_sdk._internal.session_resume import materialize_resume_session
from claude_agent_sdk._internal.transcript_mirror_batcher import TranscriptMirrorBatcher
from claude_agent_sdk.testing import run_session_store_conformance
from psycopg_pool import AsyncConnectionPool

import sql as sql_files
from runtime.session_store import PostgresSessionStore

pytestmark = pytest.mark.anyio

KEY: SessionKey = {"project_key": "proj", "session_id": "sess"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store_url(database_url: str) -> str:
    """A fresh database with the transcript tables (whether or not migrate() made them)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql_files.read("session_store.sql"))
    return database_url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[PostgresSessionStore]:
    store = await PostgresSessionStore.open(store_url, min_size=1, max_size=8)
    yield store
    await store.close()


def stored_rows(url: str, key: SessionKey) -> list[tuple[int, str]]:
    """(seq, entry text) of a transcript as the table holds it."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT seq, entry FROM claude_transcript_entries "
            "WHERE project_key = %s AND session_id = %s AND subpath = %s ORDER BY seq",
            (key["project_key"], key["session_id"], key.get("subpath", "")),
        ).fetchall()


def last_seq(url: str, key: SessionKey) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT last_seq FROM claude_transcripts "
            "WHERE project_key = %s AND session_id = %s AND subpath = %s",
            (key["project_key"], key["session_id"], key.get("subpath", "")),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def mtime_of(store: PostgresSessionStore, key: SessionKey) -> int:
    listed = {s["session_id"]: s["mtime"] for s in await store.list_sessions(key["project_key"])}
    return listed[key["session_id"]]


async def summary_of(store: PostgresSessionStore, key: SessionKey) -> dict[str, Any]:
    summaries = await store.list_session_summaries(key["project_key"])
    return next(dict(s) for s in summaries if s["session_id"] == key["session_id"])


# -- the SDK's conformance suite ---------------------------------------------------


async def test_passes_the_sdk_conformance_suite_with_every_optional_method(store_url):
    # Overriding each optional method is what makes the suite run its contracts
    # (it skips methods left to the Protocol's NotImplementedError defaults).
    for method in ("list_sessions", "list_session_summaries", "delete", "list_subkeys"):
        assert getattr(PostgresSessionStore, method) is not getattr(SessionStore, method)

    async with AsyncConnectionPool(store_url, min_size=1, max_size=4) as pool:
        made = 0

        async def make_store() -> PostgresSessionStore:
            # Isolation per contract: each store starts on empty tables.
            nonlocal made
            made += 1
            async with pool.connection() as conn:
                await conn.execute("TRUNCATE claude_transcripts, claude_transcript_entries")
            return PostgresSessionStore(pool)

        await run_session_store_conformance(make_store)

    # The probe plus one store per contract: all 14 ran, none was skipped.
    assert made == 15


# -- concurrency -----------------------------------------------------------------


async def test_concurrent_appends_keep_each_batch_whole_and_in_order(store_url):
    """Many writers on two pools (as two processes would be) append to one new
    transcript at once: none fails, every batch stays contiguous and in order,
    each writer's batches keep their call order, and seqs are dense."""
    writers, batches, size = 24, 5, 4
    stores = [await PostgresSessionStore.open(store_url, min_size=2, max_size=8) for _ in "ab"]
    start = asyncio.Event()

    async def writer(w: int) -> None:
        await start.wait()  # every first append races to create the transcript
        for b in range(batches):
            name = f"{w}.{b}"
            batch: Any = [
                {"type": "user", "uuid": f"{name}.{i}", "customTitle": name, "w": w, "b": b, "i": i}
                for i in range(size)
            ]
            await stores[w % 2].append(KEY, batch)

    tasks = [asyncio.create_task(writer(w)) for w in range(writers)]
    start.set()
    try:
        await asyncio.gather(*tasks)
        loaded = await stores[0].load(KEY)
        summary = await summary_of(stores[1], KEY)
    finally:
        for s in stores:
            await s.close()

    assert loaded is not None
    total = writers * batches * size
    assert len(loaded) == total
    assert len({e["uuid"] for e in loaded}) == total
    chunks = [loaded[i : i + size] for i in range(0, total, size)]
    for chunk in chunks:
        assert [(e["w"], e["b"], e["i"]) for e in chunk] == [
            (chunk[0]["w"], chunk[0]["b"], i) for i in range(size)
        ]
    for w in range(writers):
        assert [c[0]["b"] for c in chunks if c[0]["w"] == w] == list(range(batches))
    # The writers did interleave: this is not a serial history by accident.
    assert [c[0]["w"] for c in chunks] != sorted(c[0]["w"] for c in chunks)

    assert [seq for seq, _ in stored_rows(store_url, KEY)] == list(range(1, total + 1))
    assert last_seq(store_url, KEY) == total
    # The summary was folded under the same lock, so last-wins agrees with storage.
    assert summary["data"]["custom_title"] == loaded[-1]["customTitle"]


async def test_a_batch_retried_concurrently_is_stored_once(store):
    batch: Any = [{"type": "user", "uuid": f"u{i}", "n": i} for i in range(50)]
    await asyncio.gather(*(store.append(KEY, batch) for _ in range(8)))
    assert await store.load(KEY) == batch


# -- idempotency -------------------------------------------------------------------


async def test_entries_with_a_uuid_are_stored_once_per_transcript(store):
    first: Any = [
        {"type": "user", "uuid": "a", "n": 1},
        {"type": "custom-title", "customTitle": "no uuid"},
        {"type": "user", "uuid": "a", "n": 2},  # a repeat in the batch: first one wins
        {"type": "user", "uuid": "b", "n": 3},
    ]
    await store.append(KEY, first)
    expected = [first[0], first[1], first[3]]
    assert await store.load(KEY) == expected

    mtime, summary = await mtime_of(store, KEY), await summary_of(store, KEY)
    await store.append(KEY, [first[0], first[3]])  # a retry of what landed
    assert await store.load(KEY) == expected
    assert await mtime_of(store, KEY) == mtime  # nothing was written
    assert await summary_of(store, KEY) == summary

    # Entries without a uuid have nothing to dedupe on and are appended again;
    # new uuids in a partly retried batch are stored after the others.
    await store.append(KEY, [first[1], first[3], {"type": "user", "uuid": "c", "n": 4}])
    assert await store.load(KEY) == [*expected, first[1], {"type": "user", "uuid": "c", "n": 4}]
    assert await mtime_of(store, KEY) > mtime

    # The same uuid in another transcript is another entry.
    sub: SessionKey = {**KEY, "subpath": "subagents/agent-1"}
    await store.append(sub, [first[0]])
    assert await store.load(sub) == [first[0]]


# -- verbatim round trip ------------------------------------------------------------

AWKWARD: list[Any] = [
    # "type" not first: jsonb would reorder the keys, text keeps them.
    {"uuid": "k1", "type": "assistant", "z": 1, "a": 2, "": "empty key", "m": {"z": [{"b": 1}]}},
    {
        "type": "x",
        "text": "héllo wörld — ✓ 🎉 日本語 עברית e\u0301 \u2028\u2029 \ufeff",
        "family": "👩\u200d👩\u200d👧",
    },
    {"type": "x", "nul": "a\u0000b", "controls": "\t\n\r\x01\x1f\x7f", "quotes": "\"\\/'"},
    # JSON may carry lone surrogates (JavaScript strings do); UTF-8 cannot.
    {"type": "x", "lone": "\ud800 and \udfff", "pair": "\U0001f600"},
    {
        "type": "x",
        "one": 1,
        "one_float": 1.0,
        "neg_zero": -0.0,
        "big": 2**70,
        "neg_big": -(2**64) - 1,
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "tenth": 0.1,
        "sum": 0.1 + 0.2,
        "exp": 1e21,
        "flags": [True, False, None],
        "empties": [[], {}, [[]], "", {"a": {}}],
    },
    {"type": "x", "deep": json.loads("[" * 300 + "{}" + "]" * 300)},
    {"type": "x", "blob": "x" * (8 << 20) + "é", "many": list(range(50_000))},
]


async def test_entries_round_trip_verbatim(store, store_url):
    await store.append(KEY, AWKWARD[:3])
    await store.append(KEY, AWKWARD[3:])
    loaded = await store.load(KEY)
    assert loaded == AWKWARD
    assert loaded is not None
    for original, back in zip(AWKWARD, loaded, strict=True):
        # Same keys in the same order, same number types and spelling.
        assert json.dumps(back) == json.dumps(original)
    assert type(loaded[4]["one_float"]) is float
    assert type(loaded[4]["one"]) is int
    assert str(loaded[4]["neg_zero"]) == "-0.0"

    # What the table holds is the compact JSON text of each entry, as given;
    # the entry with lone surrogates is stored with its non-ASCII escaped.
    texts = [text for _, text in stored_rows(store_url, KEY)]
    for i, (original, text) in enumerate(zip(AWKWARD, texts, strict=True)):
        assert text == json.dumps(original, ensure_ascii=i == 3, separators=(",", ":"))


async def test_nul_in_a_first_prompt_does_not_break_the_summary(store):
    entry: Any = {"type": "user", "uuid": "u", "message": {"content": "hi\u0000there"}}
    await store.append(KEY, [entry])
    assert (await summary_of(store, KEY))["data"]["first_prompt"] == "hi\u0000there"


# -- mtime -------------------------------------------------------------------------


async def test_mtime_is_storage_time_in_ms_and_strictly_increases(store):
    before = time.time() * 1000
    mtimes = []
    for n in range(20):
        await store.append(KEY, [{"type": "x", "n": n}])
        mtimes.append(await mtime_of(store, KEY))
    after = time.time() * 1000
    assert all(a < b for a, b in itertools.pairwise(mtimes))
    assert before - 5_000 < mtimes[0] and mtimes[-1] < after + 5_000  # epoch ms, not s

    # A summary's mtime is its session's: the same clock, the same write.
    summary = await summary_of(store, KEY)
    assert summary["mtime"] == mtimes[-1]

    # A subagent's transcript has its own mtime and leaves the session's alone.
    sub: SessionKey = {**KEY, "subpath": "subagents/agent-1"}
    await store.append(sub, [{"type": "x", "customTitle": "subagent"}])
    assert await mtime_of(store, KEY) == mtimes[-1]
    assert await summary_of(store, KEY) == summary


# -- keys and pools ----------------------------------------------------------------


async def test_an_empty_subpath_is_refused(store):
    # Read as the main transcript, a targeted delete would cascade to the session.
    bad: SessionKey = {**KEY, "subpath": ""}
    for call in (store.append(bad, [{"type": "x"}]), store.load(bad), store.delete(bad)):
        with pytest.raises(ValueError, match="subpath"):
            await call


async def test_close_leaves_a_callers_pool_open(store_url):
    async with AsyncConnectionPool(store_url, min_size=1, max_size=2) as pool:
        store = PostgresSessionStore(pool)
        await store.append(KEY, [{"type": "x"}])
        await store.close()
        assert await PostgresSessionStore(pool).load(KEY) == [{"type": "x"}]


# -- the SDK's write and resume paths --------------------------------------------


def transcript(session_id: str, cwd: Path, *, sidechain: bool = False) -> list[Any]:
    """A short transcript shaped like the CLI's JSONL lines."""
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    common = {"sessionId": session_id, "cwd": str(cwd), "isSidechain": sidechain}
    return [
        {
            "parentUuid": None,
            **common,
            "type": "user",
            "uuid": first,
            "timestamp": "2025-01-01T00:00:00.000Z",
            "message": {"role": "user", "content": "Create a hello world app"},
        },
        {
            "parentUuid": first,
            **common,
            "type": "assistant",
            "uuid": second,
            "timestamp": "2025-01-01T00:00:01.000Z",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "Done."}]},
        },
        {"type": "custom-title", "customTitle": "hello", "sessionId": session_id},
    ]


async def test_the_sdk_mirrors_into_the_store_and_resumes_from_it(store, tmp_path):
    """The SDK's own code on this store: the batcher that turns the CLI's
    transcript_mirror frames into appends, and the resume that rebuilds a
    CLAUDE_CONFIG_DIR from the store before the CLI starts, here with an
    empty config dir as on a fresh machine."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    project_key = project_key_for_directory(str(workdir))
    projects = tmp_path / "config" / "projects"
    session_id, newer_id = str(uuid.uuid4()), str(uuid.uuid4())
    main = transcript(session_id, workdir)
    subagent = [
        {"type": "agent_metadata", "agentType": "general-purpose", "toolUseId": "toolu_1"},
        *transcript(session_id, workdir, sidechain=True)[:2],
    ]
    errors: list[str] = []

    async def on_error(key: Any, error: str) -> None:
        errors.append(error)

    batcher = TranscriptMirrorBatcher(store=store, projects_dir=str(projects), on_error=on_error)
    session_file = projects / project_key / f"{session_id}.jsonl"
    batcher.enqueue(str(session_file), main[:2])
    batcher.enqueue(
        str(projects / project_key / session_id / "subagents" / "agent-a1.jsonl"), subagent
    )
    batcher.enqueue(str(session_file), main[2:])
    await batcher.flush()
    assert errors == []
    assert await store.load({"project_key": project_key, "session_id": session_id}) == main
    assert await store.list_subkeys({"project_key": project_key, "session_id": session_id}) == [
        "subagents/agent-a1"
    ]

    empty_config = tmp_path / "empty-config"
    empty_config.mkdir()
    options = ClaudeAgentOptions(
        cwd=str(workdir),
        resume=session_id,
        session_store=store,
        env={"CLAUDE_CONFIG_DIR": str(empty_config)},
    )
    materialized = await materialize_resume_session(options)
    assert materialized is not None
    try:
        assert materialized.resume_session_id == session_id
        session_dir = materialized.config_dir / "projects" / project_key
        lines = (session_dir / f"{session_id}.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == main
        sub_lines = (session_dir / session_id / "subagents" / "agent-a1.jsonl").read_text()
        assert [json.loads(line) for line in sub_lines.splitlines()] == subagent[1:]
        meta = list((session_dir / session_id / "subagents").glob("*.meta.json"))
        assert [json.loads(m.read_text())["toolUseId"] for m in meta] == ["toolu_1"]
    finally:
        await materialized.cleanup()

    # continue_conversation resumes the newest session by list_sessions' mtime.
    await store.append(
        {"project_key": project_key, "session_id": newer_id}, transcript(newer_id, workdir)
    )
    continued = await materialize_resume_session(
        ClaudeAgentOptions(
            cwd=str(workdir),
            continue_conversation=True,
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(empty_config)},
        )
    )
    assert continued is not None
    await continued.cleanup()
    assert continued.resume_session_id == newer_id

    # Listing goes through list_session_summaries: titles come from the fold.
    infos = await list_sessions_from_store(store, directory=str(workdir))
    assert {(i.session_id, i.custom_title) for i in infos} == {
        (session_id, "hello"),
        (newer_id, "hello"),
    }
