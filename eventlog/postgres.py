"""podium's application service with its log in PostgreSQL.

``open_podium`` is how every process gets the service: the domain's
``Podium`` with eventsourcing's PostgreSQL persistence, podium's recorder
(eventsourcing's, with a one-statement insert) and group commit in front of
it, so concurrent writers share transactions.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.conninfo import conninfo_to_dict

from domain.application import Podium
from eventlog.group_commit import GroupCommitRecorder
from eventlog.recorder import PodiumRecorder

EVENTS_TABLE = "podium_events"  # eventsourcing names it after the application


def postgres_env(conninfo: str, pool_size: int = 4) -> dict[str, str]:
    """eventsourcing's PostgreSQL settings for a libpq connection string or URL.

    The factory builds podium's recorder (eventsourcing's, with a faster
    insert) and, with CREATE_TABLE, creates its table and insert function.
    """
    params = conninfo_to_dict(conninfo)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size * 2),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        # Check each pooled connection as it is handed out: one may have died
        # with a PostgreSQL restart since it was last used (eventlog/pool_checks.py).
        "POSTGRES_PRE_PING": "yes",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "CREATE_TABLE": "yes",
        "APPLICATION_RECORDER_TOPIC": get_topic(PodiumRecorder),
    }


class _PodiumOnPostgres(Podium):
    name = Podium.name  # eventsourcing names a subclass's tables after the subclass

    def construct_recorder(self) -> ApplicationRecorder:
        return GroupCommitRecorder(self.factory.application_recorder())


def open_podium(conninfo: str, pool_size: int = 4) -> Podium:
    """The application service on the log at ``conninfo`` (its table made if missing)."""
    return _PodiumOnPostgres(postgres_env(conninfo, pool_size))
