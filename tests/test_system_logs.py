"""podium's own logging: hourly private files, and what matters into the log
as SystemLogged (WARNING and above, lifecycle), without blocking or looping.
Real PostgreSQL; a served podium for the lifecycle entries."""

from __future__ import annotations

import logging
import stat
import threading
import time
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import psycopg

from eventlog.postgres import open_podium
from eventlog.system_logging import RECORDED, SystemLogHandler, lifecycle, shipping
from gateway.serve import PrivateHourlyFile, setup_logging
from tests.gateway_server import serve_in_thread, until

Entry = tuple[str, str, dict[str, str], UUID | None]


def entries(database_url: str) -> list[Entry]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT payload ->> 'level', payload ->> 'message', payload -> 'context', session_id "
            "FROM events WHERE event_type = 'SystemLogged' ORDER BY notification_id"
        ).fetchall()
    return [(level, message, context, session) for level, message, context, session in rows]


def test_warnings_and_lifecycle_become_entries_and_nothing_else(database_url: str) -> None:
    app = open_podium(database_url)
    logger = logging.getLogger("podium.test.shipping")
    session = uuid4()
    try:
        with shipping(app.write_system_log, logger):
            logger.info("plain progress")  # not shipped
            logger.warning("disk %s full", "nearly", extra={"session_id": session})
            lifecycle(logger, "podium started (%s mode)", "demo")
            logger.error("already written", extra=RECORDED)
            try:
                raise ValueError("bad byte")
            except ValueError:
                logger.exception("a projector failed")
    finally:
        app.close()
    found = entries(database_url)
    assert [(level, message) for level, message, *_ in found] == [
        ("warning", "disk nearly full"),
        ("info", "podium started (demo mode)"),
        ("error", "a projector failed"),
    ]
    assert found[0][2] == {"logger": "podium.test.shipping"} and found[0][3] == session
    assert found[2][2]["exception"] == "ValueError: bad byte"


def test_a_flood_never_blocks_the_logger_and_the_next_entry_says_what_was_dropped() -> None:
    release = threading.Event()
    written: list[Entry] = []

    def slow_write(level: str, message: str, context: dict[str, str], session: UUID | None) -> None:
        release.wait(10)
        written.append((level, message, context, session))

    logger = logging.getLogger("podium.test.flood")
    logger.propagate = False
    handler = SystemLogHandler(slow_write, capacity=2)
    logger.addHandler(handler)
    try:
        started = time.monotonic()
        for n in range(50):
            logger.warning("warning %d", n)
        assert time.monotonic() - started < 5  # a bound far from any real run: never waits
        release.set()
        until(lambda: len(written) >= 2 or None, timeout=10)
        logger.warning("after the flood")
    finally:
        logger.removeHandler(handler)
        handler.stop()
    assert any("were dropped" in message for _, message, *_ in written)


def test_what_the_writer_logs_is_not_shipped_again() -> None:
    written: list[str] = []
    logger = logging.getLogger("podium.test.loop")

    def noisy_write(
        level: str, message: str, context: dict[str, str], session: UUID | None
    ) -> None:
        written.append(message)
        logger.warning("writing %s", message)  # would loop if shipped

    with shipping(noisy_write, logger):
        logger.warning("once")
    assert written == ["once"]


def test_log_files_are_private_and_start_anew_every_hour(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = setup_logging(folder)
        logging.getLogger("podium.test.files").warning("first hour")
        hourly = next(h for h in root.handlers if isinstance(h, PrivateHourlyFile))
        assert hourly.when == "H" and hourly.utc
        hourly.doRollover()
        logging.getLogger("podium.test.files").warning("next hour")
    finally:
        for handler in root.handlers[len(before) :]:
            root.removeHandler(handler)
            handler.close()
    files = sorted(folder.iterdir())
    assert len(files) == 2 and path in files
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert "next hour" in path.read_text()
    assert "first hour" in next(f for f in files if f != path).read_text()


def test_podium_records_that_it_started_and_serves_the_entries(
    database_url: str, tmp_path: Path
) -> None:
    with serve_in_thread(database_url, tmp_path) as served:
        logging.getLogger("podium.test.served").warning("the disk is nearly full")

        def listed() -> list[str] | None:
            rows = httpx.get(f"{served.url}/api/system-logs").json()["items"]
            messages = [row["message"] for row in rows]
            return messages if "the disk is nearly full" in messages else None

        messages = until(listed, timeout=30)
    assert any(m.startswith("podium started (demo mode") for m in messages)
    assert any(m.startswith("podium is stopping") for _, m, *_ in entries(database_url))
