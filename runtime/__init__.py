"""The agent runtime: Claude Agent SDK clients driven by the log (arrives with issue 3)."""
