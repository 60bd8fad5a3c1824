"""`podium export SESSION` and `podium import FILE`: a session, whole, between databases."""

from __future__ import annotations

import argparse


def add_transfer_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """(Filled in with export and import.)"""
