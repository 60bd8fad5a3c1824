"""`podium summarize`, and the summarizer's options of `podium up` and `podium chat`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from gateway.cli_common import database
from gateway.cli_inputs import UsageError
from gateway.loop import run as run_event_loop
from summarizer.api import ApiSettings, quiet_request_logs
from summarizer.consumer import SummarizerSettings, summarizing

DEFAULT_MODEL = SummarizerSettings.model


def add_summarizer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--summaries",
        choices=("on", "off"),
        default="on",
        help="AI summaries of the agents' events (default: on; off: none are made)",
    )
    _model_option(p)


def _model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--summarizer-model",
        default=os.environ.get("PODIUM_SUMMARIZER_MODEL", DEFAULT_MODEL),
        metavar="MODEL",
        help=f"the model that writes them (default: $PODIUM_SUMMARIZER_MODEL or {DEFAULT_MODEL})",
    )


def summarizer_settings(args: argparse.Namespace) -> SummarizerSettings | None:
    """What `--summaries` and `--summarizer-model` ask for (None: off)."""
    if args.summaries == "off":
        return None
    return SummarizerSettings(model=_model(args.summarizer_model))


def _model(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise UsageError(f"--summarizer-model must be a model name, not {name!r}")
    return name


def cmd_summarize(args: argparse.Namespace) -> int:
    settings = SummarizerSettings(model=_model(args.summarizer_model))
    api = ApiSettings.from_env()
    if not args.demo and not api.usable:
        raise UsageError(
            "no API key: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), or use --demo "
            "for the built-in model double"
        )
    logging.basicConfig(level=logging.INFO, format="podium summarize: %(message)s")
    quiet_request_logs()
    with database(args) as conninfo, contextlib.suppress(KeyboardInterrupt):
        run_event_loop(_summarize(conninfo, settings, api, args.demo))
    return 0


async def _summarize(
    conninfo: str, settings: SummarizerSettings, api: ApiSettings, demo: bool
) -> None:
    from eventlog.postgres import open_podium
    from runtime.model_double import ModelDouble

    stopping = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on this platform
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    app = open_podium(conninfo)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if demo:
                double = await stack.enter_async_context(ModelDouble())
                env = {
                    "ANTHROPIC_BASE_URL": double.base_url,
                    "ANTHROPIC_API_KEY": "sk-ant-model-double",
                }
                api = ApiSettings.from_env(env, proxies_from_env=False)
            await stack.enter_async_context(summarizing(app, conninfo, settings, api))
            where = "the model double" if demo else api.base_url
            print(
                f"podium: summarizing with {settings.model} at {where}; Ctrl-C to stop",
                file=sys.stderr,
            )
            await stopping.wait()
    finally:
        app.close()


def add_summarize_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "summarize",
        help="run the AI summarizer alone (podium up runs one unless --summaries off)",
        description="Summarizes every agent event that has no summary yet, then each new one, "
        "until stopped. Only one summarizer works on a database at a time; others stand by.",
    )
    _model_option(p)
    p.add_argument("--demo", action="store_true", help="ask the built-in model double, not the API")
    p.set_defaults(handler=cmd_summarize)
