"""A local HTTPS server that stands in for the api behind its load balancer.

Its certificate is a throwaway self-signed one for 127.0.0.1, made per test. A client trusts it
only when told to, through SSL_CERT_FILE (the product's code verifies TLS as usual).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.servers import self_signed_certificate as certificate_for


@dataclass
class HealthServer:
    url: str  # https://127.0.0.1:PORT, as the api_url output reads
    certificate: Path  # the CA file that makes a client trust it
    status: int = 200
    paths: list[str] = field(default_factory=list)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "api.crt", directory / "api.key"
    certificate_for(cert, key, host="127.0.0.1")
    return cert, key


@contextmanager
def health_server(directory: Path, status: int = 200) -> Iterator[HealthServer]:
    cert, key = self_signed_certificate(directory)
    server_state = HealthServer(url="", certificate=cert, status=status)

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            server_state.paths.append(self.path)
            body = b'{"status":"ok"}' if server_state.status < 400 else b'{"status":"down"}'
            self.send_response(server_state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server_state.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
