"""The summarizer: a short AI summary of every agent event worth one.

A consumer of the log beside the projections and the runtime, never in an
agent's path: it reads what agents did, asks a cheap model (one call per
batch of events) for a line about each, and appends what it said to the
session's ``Summaries`` stream (domain/summarizer.py).

- ``request``: what the model is asked and how its answer is read;
- ``api``: the Messages API call, on the user's own API settings;
- ``pacing``: the rate limit and the backoff after failures;
- ``backlog``: which events wait for a summary, batched per session;
- ``consumer``: following the log, exactly once, and saving the summaries.
"""
