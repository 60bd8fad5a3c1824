"""ModelDouble: the scenario server's lifecycle, in a loop or in a thread.

`await double.start()` serves from the running event loop (what podium does
in demo mode); `with ModelDouble(...) as double:` serves from a background
thread of its own (what synchronous tests do). Either way the socket is bound
before serving starts, so `base_url` is known and final at once. A scenario
with pages also gets its HTTPS site (site.py) on a port of its own.
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
from starlette.types import ASGIApp

from runtime.model_double.app import DoubleState, ReceivedRequest, build_app
from runtime.model_double.errors import AGENTS, SUMMARIES, ApiError
from runtime.model_double.respond import Responder
from runtime.model_double.scenario import LoadedScenario, load_scenario
from runtime.model_double.site import Certificate, build_site

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
        self._servers: list[tuple[EmbeddedServer, asyncio.Task[None]]] = []
        self._certificate: Certificate | None = None
        self._page_requests: deque[ReceivedRequest] = deque(maxlen=keep_requests)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, for ANTHROPIC_BASE_URL."""
        if not self._servers:
            raise RuntimeError("the model double is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def site_url(self) -> str | None:
        """`https://127.0.0.1:PORT`, where the scenario's pages are (None: it has none)."""
        return self._state.responder.site_url or None

    @property
    def certificate(self) -> Path | None:
        """The site's certificate (PEM), for the CLI to trust; None without pages."""
        return None if self._certificate is None else self._certificate.cert_file

    @property
    def page_requests(self) -> list[ReceivedRequest]:
        """The requests the site received, in order (what WebFetch fetched)."""
        return list(self._page_requests)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far (or the last `keep_requests`), in order."""
        return list(self._state.requests)

    @property
    def message_requests(self) -> list[ReceivedRequest]:
        """The agents' (the CLI's) `/v1/messages` requests received so far, in order."""
        return self._messages(AGENTS)

    @property
    def summary_requests(self) -> list[ReceivedRequest]:
        """The summarizer's `/v1/messages` requests received so far, in order."""
        return self._messages(SUMMARIES)

    def _messages(self, requester: str) -> list[ReceivedRequest]:
        return [
            r for r in self._state.requests if r.path == "/v1/messages" and r.requester == requester
        ]

    def fail_next(
        self,
        status: int = 529,
        times: int = 1,
        *,
        retry_after: float | None = None,
        message: str | None = None,
        of: str = AGENTS,
    ) -> None:
        """Answer the next `times` message requests with an API error (any thread):
        of the agents (the CLI, by default), of "summaries" (the summarizer's) or
        of "any" requester."""
        self._state.faults.add(ApiError(status, message, retry_after), times, of)

    def clear_faults(self) -> None:
        self._state.faults.clear()

    @property
    def pending_faults(self) -> int:
        return len(self._state.faults)

    # -- serving from the running event loop ------------------------------------------

    async def start(self) -> None:
        """Bind the sockets and serve from the running loop until `stop()`: the API,
        and the scenario's pages over HTTPS if it has any."""
        if self._servers:
            raise RuntimeError("the model double is already started")
        try:
            self._port = await self._serve(build_app(self._state), self._port, "model-double")
            pages = self.scenario.pages
            if pages:
                self._certificate = certificate = Certificate(self._host)
                site = build_site(pages, self._page_requests)
                port = await self._serve(site, 0, "model-double-site", certificate)
                self._state.responder.site_url = f"https://{self._host}:{port}"
        except BaseException:
            await self.stop()  # what did start (the API, say) stops again
            raise

    async def _serve(
        self, app: ASGIApp, port: int, name: str, tls: Certificate | None = None
    ) -> int:
        """Serve ``app`` on ``port`` (0: any free one) of the double's host; the port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, port))
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            access_log=False,
            ssl_certfile=None if tls is None else str(tls.cert_file),
            ssl_keyfile=None if tls is None else str(tls.key_file),
        )
        server = EmbeddedServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name=name)
        self._servers.append((server, task))
        while not server.started:
            if task.done():
                await task  # raises what went wrong
                raise RuntimeError("the model double stopped while starting")
            await asyncio.sleep(0.01)
        return int(sock.getsockname()[1])

    def _ask_to_exit(self) -> None:
        for server, _ in self._servers:
            server.should_exit = server.force_exit = True
            server.cut_open_streams()

    def _forget(self) -> None:
        self._servers = []
        if self._certificate is not None:
            self._certificate.remove()
            self._certificate = None

    async def stop(self) -> None:
        """Stop serving; open streams are cut rather than waited for."""
        self._ask_to_exit()
        await asyncio.gather(*(task for _, task in self._servers), return_exceptions=True)
        self._forget()

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
            await asyncio.gather(*(task for _, task in self._servers))

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
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not self._servers:
            return
        loop.call_soon_threadsafe(self._ask_to_exit)
        thread.join(timeout=10)
        self._forget()
        self._thread = self._loop = None
