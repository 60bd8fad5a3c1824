"""`podium summarize`: the AI summarizer alone, for when `podium up` runs with
`--summaries off` or on another machine (see runtime/summarizer)."""

from __future__ import annotations

import argparse

DEFAULT_MODEL = "claude-haiku-4-5"


def summarizer_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--summarizer-model",
        default=DEFAULT_MODEL,
        metavar="MODEL",
        help=f"the model that writes the summaries (default: {DEFAULT_MODEL})",
    )


def add_summarize_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """(Filled in with the summarizer.)"""
