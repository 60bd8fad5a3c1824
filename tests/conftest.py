"""Real PostgreSQL for every test: the server in DATABASE_URL, or an embedded one.

Each test gets a database of its own, cloned from a migrated template, so
tests are independent and fast. Nothing here mocks the database.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from domain.application import Podium
from eventlog.postgres import open_podium
from gateway.database import embedded_server
from projections.schema import migrate
from tests.gateway_server import Served, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """A connection string to a server where tests may create databases."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="podium-test-pg-") as data_dir:
        os.chmod(data_dir, 0o755)  # the embedded server runs as its own user under root
        with embedded_server(Path(data_dir)) as conninfo:
            yield conninfo


def _create_database(admin: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)
    return make_conninfo(admin, dbname=name)


def _drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_database(pg_admin: str) -> Iterator[str]:
    name = f"podium_tpl_{uuid.uuid4().hex[:10]}"
    migrate(_create_database(pg_admin, name))
    yield name
    _drop_database(pg_admin, name)


@pytest.fixture
def database_url(pg_admin: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"podium_t_{uuid.uuid4().hex[:12]}"
    url = _create_database(pg_admin, name, template=template_database)
    yield url
    _drop_database(pg_admin, name)


@pytest.fixture
def empty_database_url(pg_admin: str) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = f"podium_e_{uuid.uuid4().hex[:12]}"
    yield _create_database(pg_admin, name)
    _drop_database(pg_admin, name)


@pytest.fixture
def app(database_url: str) -> Iterator[Podium]:
    """podium's application on the test's database, closed (its queue committed) after."""
    app = open_podium(database_url)
    yield app
    app.close()


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """podium (gateway and all) serving HTTP on a free port, in a thread."""
    with serve_in_thread(database_url, tmp_path) as running:
        yield running


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        yield http


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, bool]]:
    """Async tests run on the event loop podium runs on (gateway/loop.py)."""
    return ("asyncio", {"use_uvloop": True})
