"""Only podium's own page drives podium: Host, Origin and JSON, checked at the edge.

Any page the user visits can make the browser send "simple" requests to
127.0.0.1 (a form post, a no-cors fetch: text/plain or no body type, no
preflight), and with DNS rebinding its own name can resolve to 127.0.0.1,
so that its scripts read the answers. Three rules stop both, for HTTP and
WebSocket alike, static files included:

- ``Host`` must name podium: a loopback name or the address the connection
  arrived at, with podium's port, or the host of ``--public-url``;
- a request that carries ``Origin`` must come from one of those origins
  (browsers send it with every cross-site write and every WebSocket);
- state-changing methods must send ``Content-Type: application/json``, which
  a page on another site cannot send without a CORS preflight, and podium
  answers no preflight (CORS stays off).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.refusal import refuse

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}
WEB_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}

Authority = tuple[str, int]  # a host name, lower case, and a port


def authority(netloc: str, default_port: int) -> Authority | None:
    """``host[:port]`` as a Host header or an origin writes it; None if it is not one."""
    if not netloc or any(char in netloc for char in "/?#@\\ "):
        return None
    parts = urlsplit("//" + netloc)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return None
    if not parts.hostname:
        return None
    return parts.hostname, default_port if port is None else port


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Origin | None:
        parts = urlsplit(text)
        if parts.scheme not in DEFAULT_PORTS:
            return None
        found = authority(parts.netloc, DEFAULT_PORTS[parts.scheme])
        return cls(parts.scheme, *found) if found else None


def public_origin(url: str) -> Origin:
    """The origin of ``--public-url``; ValueError saying why it cannot be one."""
    origin = Origin.parse(url)
    if origin is None:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        # The page and its API live at the root of their origin (absolute paths).
        raise ValueError(f"{url!r}: podium is served at the root of its URL, give no path")
    return origin


def _names_of(address: str) -> set[str]:
    """An address as a Host header may write it (an IPv4-mapped IPv6 address also as IPv4)."""
    names = {address.lower()}
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return names
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        names.add(str(ip.ipv4_mapped))
    return names


@dataclass(frozen=True)
class ServedNames:
    """The names and origins podium answers to.

    Local names take the port from the connection itself (``scope["server"]``),
    so they are right for ``--port 0`` and for a wildcard bind, where the
    address a request arrived at is the interface it came through.
    """

    bound_host: str
    public: Origin | None = None

    def _local(self, scope: Scope, host: str, port: int) -> bool:
        server = scope.get("server") or (None, None)
        names = LOOPBACK_NAMES | _names_of(self.bound_host.strip("[]"))
        if server[0] is not None:
            names |= _names_of(server[0])
        return port == server[1] and host in names

    def host_allowed(self, scope: Scope, header: str) -> bool:
        scheme = WEB_SCHEME[scope["scheme"]]
        local = authority(header, DEFAULT_PORTS[scheme])
        if local and self._local(scope, *local):
            return True
        public = self.public
        return public is not None and authority(header, DEFAULT_PORTS[public.scheme]) == (
            public.host,
            public.port,
        )

    def origin_allowed(self, scope: Scope, header: str) -> bool:
        origin = Origin.parse(header)
        if origin is None:  # "null" (sandboxed frames, file: pages) among others
            return False
        if origin == self.public:
            return True
        scheme = WEB_SCHEME[scope["scheme"]]
        return origin.scheme == scheme and self._local(scope, origin.host, origin.port)


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class SameOriginOnly:
    """Refuses requests not addressed to podium, or not from its own page (403),
    and state-changing requests that are not JSON (415)."""

    def __init__(self, app: ASGIApp, names: ServedNames) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and (why := self.refusal(scope)):
            await refuse(scope, receive, send, *why)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        hosts = headers.getlist("host")
        if len(hosts) > 1:  # which one a proxy or a cache believed is anyone's guess
            return 400, "a request names one Host"
        host = hosts[0] if hosts else ""
        if not self.names.host_allowed(scope, host):
            return 403, (
                f"podium does not answer to Host {host!r}: open it at localhost, 127.0.0.1 "
                "or the address it is bound to, with its port (or at its --public-url)"
            )
        origin = headers.get("origin")
        if origin is not None and not self.names.origin_allowed(scope, origin):
            return 403, f"requests from pages at {origin!r} are refused: only podium's own page"
        content_type = headers.get("content-type", "")
        if scope.get("method") in STATE_CHANGING and not _is_json(content_type):
            sent = f"not {content_type!r}" if content_type else "none was sent"
            return 415, f"send JSON (Content-Type: application/json), {sent}"
        return None
