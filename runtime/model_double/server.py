"""ModelDouble: the scenario server's lifecycle, in a loop or in a thread.

`await double.start()` serves from the running event loop (what podium does
in demo mode); `with ModelDouble(...) as double:` serves from a background
thread of its own (what synchronous tests do). Either way the socket is bound
before serving starts, so `base_url` is known and final at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import uvicorn

from runtime.model_double.app import DoubleState, ReceivedRequest, build_app
from runtime.model_double.errors import ApiError
from runtime.model_double.respond import Responder
from runtime.model_double.scenario import LoadedScenario, load_scenario

DEMO_SCENARIO = Path(__file__).with_name("demo.toml")


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server run inside a host program: the host owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def cut_open_streams(self) -> None:
        """Close every connection, so a slow stream ends now rather than when it is done.

        uvicorn's shutdown lets a response in progress finish (an event stream
        never does); a client that sees its connection drop is what a stopped
        server looks like.
        """
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()


class ModelDouble:
    """A local stand-in for the Anthropic Messages API, answering from a scenario."""

    def __init__(
        self,
        scenario: LoadedScenario | Path | str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_requests: int | None = None,
    ) -> None:
        """`scenario` is a loaded scenario, a TOML path, or None for the demo.

        `keep_requests` bounds how many received requests are remembered (the
        oldest are dropped); None keeps all, as tests want. A long demo run
        should bound it: each request holds the whole conversation so far.
        """
        if not isinstance(scenario, LoadedScenario):
            scenario = load_scenario(scenario or DEMO_SCENARIO)
        self.scenario = scenario
        self._state = DoubleState(Responder(scenario), requests=deque(maxlen=keep_requests))
        self._host, self._port = host, port
        self._server: EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, for ANTHROPIC_BASE_URL."""
        if self._server is None:
            raise RuntimeError("the model double is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far (or the last `keep_requests`), in order."""
        return list(self._state.requests)

    @property
    def message_requests(self) -> list[ReceivedRequest]:
        """The `/v1/messages` requests received so far, in order."""
        return [r for r in self._state.requests if r.path == "/v1/messages"]

    def fail_next(
        self,
        status: int = 529,
        times: int = 1,
        *,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` message requests with an API error (any thread)."""
        self._state.faults.add(ApiError(status, message, retry_after), times)

    def clear_faults(self) -> None:
        self._state.faults.clear()

    @property
    def pending_faults(self) -> int:
        return len(self._state.faults)

    # -- serving from the running event loop ------------------------------------------

    async def start(self) -> None:
        """Bind the socket and serve from the running loop until `stop()`."""
        if self._server is not None:
            raise RuntimeError("the model double is already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self._state),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self._server = server = EmbeddedServer(config)
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="model-double")
        while not server.started:
            if self._task.done():
                await self._task  # raises what went wrong
                raise RuntimeError("the model double stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving; open streams are cut rather than waited for."""
        server, task = self._server, self._task
        if server is None or task is None:
            return
        server.should_exit = server.force_exit = True
        server.cut_open_streams()
        await task
        self._server = self._task = None

    async def __aenter__(self) -> ModelDouble:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- serving from a background thread ---------------------------------------------

    def __enter__(self) -> ModelDouble:
        started = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                raise
            finally:
                started.set()
            assert self._task is not None
            await self._task

        def run() -> None:
            with contextlib.suppress(BaseException):
                asyncio.run(serve())

        self._thread = threading.Thread(target=run, name="model-double", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        loop, thread, server = self._loop, self._thread, self._server
        if loop is None or thread is None or server is None:
            return

        def ask_to_exit() -> None:
            server.should_exit = server.force_exit = True
            server.cut_open_streams()

        loop.call_soon_threadsafe(ask_to_exit)
        thread.join(timeout=10)
        self._server = self._task = None
        self._thread = self._loop = None
