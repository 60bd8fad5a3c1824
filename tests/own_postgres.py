"""A PostgreSQL server of one's own (a test's, the soak's), from pgserver's binaries, to restart.

The shared test server (DATABASE_URL, or conftest's embedded one) must never be
stopped under other tests; a test that restarts or kills PostgreSQL starts one
of these in its temporary folder: TCP on a free loopback port, trust auth, no
Unix socket. Under root, PostgreSQL runs as pgserver's system user, as the
embedded server does.
"""

from __future__ import annotations

import os
import socket
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
    from pgserver import initdb, pg_ctl  # type: ignore[attr-defined]
    from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

ShutdownMode = Literal["smart", "fast", "immediate"]
SYSTEM_USER = "pgserver"  # pgserver's own choice when run as root


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnPostgres:
    """One PostgreSQL cluster in ``folder/pgdata``: start, stop, restart, databases."""

    def __init__(self, folder: Path) -> None:
        self.pgdata = folder / "pgdata"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.user = SYSTEM_USER if os.geteuid() == 0 else None
        self.pgdata.mkdir(parents=True)
        if self.user is not None:
            entry = ensure_user_exists(self.user)
            assert entry is not None  # it creates the user when there is none
            ensure_prefix_permissions(self.pgdata)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        initdb(
            ["--auth=trust", "--encoding=utf8", "-U", "postgres"],
            pgdata=self.pgdata,
            user=self.user,
        )

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        options = f'-h 127.0.0.1 -p {self.port} -k ""'
        self._ctl("-o", options, "-l", str(self.log), "start")

    def stop(self, mode: ShutdownMode = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self, mode: ShutdownMode) -> None:
        """Stop (``fast``: sessions are ended; ``immediate``: a crash) and start again."""
        self.stop(mode)
        self.start()

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def _ctl(self, *args: str) -> None:
        pg_ctl(["-w", *args], pgdata=self.pgdata, user=self.user, timeout=60)


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A started server of its own, stopped (whatever state the test left it in)
    and deleted after.

    Its folder is not pytest's tmp_path: every pytest session on the machine
    makes /tmp/pytest-of-USER private again, which locks pgserver's system
    user out of a server it is running.
    """
    with tempfile.TemporaryDirectory(prefix="podium-own-pg-") as folder:
        os.chmod(folder, 0o755)
        server = OwnPostgres(Path(folder))
        server.start()
        try:
            yield server
        finally:
            if (server.pgdata / "postmaster.pid").exists():
                server.stop("immediate")
