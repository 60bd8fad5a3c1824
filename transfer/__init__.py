"""Export and import of a session: its streams and its Claude transcripts as JSON Lines.

``transfer.export`` writes a session's events (its own stream, its agents',
its approval requests', its summaries and the system log entries that name
it) and the transcripts the Agent SDK keeps for its orchestrator and agents
(runtime/session_store.py), one JSON object a line; ``transfer.importing``
loads such a file into another database in one transaction, keeping stream
ids and versions, so the session replays and resumes there. The lines are
``transfer.format``'s structs; docs/export-format.md documents them.
"""
