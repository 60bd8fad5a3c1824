"""Run the model double on its own: `python -m runtime.model_double [scenario.toml]`.

Prints the base URL and the environment a CLI needs, then serves until
interrupted; handy for trying a scenario with the `claude` CLI by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import tempfile
from pathlib import Path

from runtime.model_double.env import cli_env
from runtime.model_double.scenario import load_scenario
from runtime.model_double.server import DEMO_SCENARIO, ModelDouble


async def _serve(scenario: Path, port: int) -> None:
    double = ModelDouble(load_scenario(scenario), port=port)
    await double.start()
    home = Path(tempfile.mkdtemp(prefix="model-double-home-"))
    print(f"model double ({scenario.name}) at {double.base_url}")
    if double.site_url is not None:
        print(f"its pages (for WebFetch) at {double.site_url}; offline WebFetch also needs")
        print("""  claude --settings '{"skipWebFetchPreflight": true}'""")
    print("environment for the CLI:")
    for key, value in cli_env(double, home).items():
        print(f"  export {key}={shlex.quote(value)}")
    try:
        await asyncio.Event().wait()
    finally:
        await double.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m runtime.model_double")
    parser.add_argument("scenario", nargs="?", type=Path, default=DEMO_SCENARIO)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops it
        asyncio.run(_serve(args.scenario, args.port))


if __name__ == "__main__":
    main()
