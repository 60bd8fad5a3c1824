"""The agent runtime: Claude Agent SDK clients for the orchestrator and the workers,
driven by commands in the log; the model double; transcripts in PostgreSQL."""
