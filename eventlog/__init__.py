"""The event log in PostgreSQL: podium's one source of truth, and its only store.

Everything that writes or reads the log goes through this package: the
recorder and its one-statement append (``recorder``), group commit
(``group_commit``), the application service on PostgreSQL (``postgres``),
reading and decoding rows in order (``reading``), following appends with
LISTEN/NOTIFY (``following``) and pools that survive a PostgreSQL restart
(``pool_checks``). It depends on ``domain`` (the events it stores), never the
other way round; projections, the runtime and the gateway depend on it.
"""
