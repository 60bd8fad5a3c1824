"""The double's web site: the scenario's pages, served over HTTPS.

Claude Code's WebFetch upgrades every `http://` address to `https://` and
fetches the page itself (outside any sandbox), so a page an agent can fetch
offline must be served over TLS by a certificate the CLI trusts. The double
makes a self-signed certificate for its own address at start-up, serves the
pages with it on a port of their own, and `cli_env` hands the certificate to
the CLI (`NODE_EXTRA_CA_CERTS`). The certificate cannot sign others
(`CA:FALSE`), and its key lives in a private temporary folder until the
double stops.
"""

from __future__ import annotations

import datetime
import ipaddress
import tempfile
import time
from collections import deque
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from runtime.model_double.app import ReceivedRequest
from runtime.model_double.scenario import Page

VALID_FOR = datetime.timedelta(days=365)


class Certificate:
    """A self-signed certificate for one host, and its key, in a private folder."""

    def __init__(self, host: str) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="model-double-tls-")
        folder = Path(self._folder.name)
        self.cert_file, self.key_file = folder / "cert.pem", folder / "key.pem"
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + VALID_FOR)
            .add_extension(x509.SubjectAlternativeName([_subject(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def remove(self) -> None:
        self._folder.cleanup()


def _subject(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def build_site(pages: tuple[Page, ...], served: deque[ReceivedRequest]) -> Starlette:
    """The pages at their paths (GET); anything else is a 404. Each request is noted."""
    by_path = {page.path: page for page in pages}

    async def page(request: Request) -> Response:
        received = ReceivedRequest(request.method, request.url.path, dict(request.headers), None)
        served.append(received)
        found = by_path.get(request.url.path)
        response: Response = (
            PlainTextResponse("no such page", status_code=404)
            if found is None
            else Response(found.body, media_type=found.content_type)
        )
        received.status, received.complete = response.status_code, True
        received.finished_at = time.monotonic()
        return response

    return Starlette(routes=[Route("/{path:path}", page, methods=["GET", "HEAD"])])
