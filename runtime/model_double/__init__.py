"""The model double: a local Anthropic Messages API that answers from scenarios.

With it the real Claude Agent SDK and the real bundled Claude Code CLI run
offline and deterministically: `podium up --demo` and the tests use it.
See README.md in this package for the scenario format.
"""

from runtime.model_double.app import ReceivedRequest
from runtime.model_double.env import api_env, cli_env
from runtime.model_double.scenario import (
    LoadedScenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from runtime.model_double.server import DEMO_SCENARIO, ModelDouble

__all__ = [
    "DEMO_SCENARIO",
    "LoadedScenario",
    "ModelDouble",
    "ReceivedRequest",
    "ScenarioError",
    "api_env",
    "cli_env",
    "load_scenario",
    "parse_scenario",
]
