"""A stand-in for the two Supabase endpoints infrakit calls, because no Supabase server runs here.

It serves only:
- `GET /auth/v1/admin/users` (what `auth.admin.list_users` calls), which needs the service-role
  key in both `apikey` and `Authorization: Bearer`, like the real auth server;
- `GET /rest/v1/`, PostgREST's root, which needs an `apikey`;
- `GET /auth/v1/health`, which needs no key.

It proves our client code sends the right credentials and handles rejections and timeouts. It
proves nothing about Supabase itself.

`pooler_url_map` models what the provider's `supabase_pooler` data source gives for a project's
pooler (Supavisor), so tests can evaluate our expressions on it and connect to a test server.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

# The literal the Management API writes where the database password belongs.
PASSWORD_PLACEHOLDER = "[YOUR-PASSWORD]"


def pooler_url_map(ref: str, *, host: str, port: int) -> dict[str, str]:
    """`data.supabase_pooler.<id>.url` as provider 1.10.1 sets it, pointed at `host:port`.

    - Keys: the pool mode of each PRIMARY entry the Management API returns
      (`GET /v1/projects/{ref}/config/database/pooler`; provider `pooler_data_source.go`, Read). The
      API returns one, in transaction mode, so the map has only "transaction" (reference.md,
      "Data supabase_pooler"; tests/test_supabase_expressions.py).
    - Value: the API's `connection_string`, with the tenant-qualified user `postgres.<ref>`
      (Supavisor routes on it), `[YOUR-PASSWORD]` for the password, and the `postgres` database.
      On Supabase the host is `aws-0-<region>.pooler.supabase.com` and the port 6543 (transaction;
      session mode is 5432 on the same host); a test passes its own server's.
    - No query string: TLS parameters are ours to add (infrakit/constructs/supabase/database.py).
    """
    return {"transaction": f"postgres://postgres.{ref}:{PASSWORD_PLACEHOLDER}@{host}:{port}/postgres"}


class SupabaseStandIn:
    def __init__(
        self, *, service_role_key: str, anon_key: str = "anon-key-for-tests", delay_seconds: float = 0.0
    ):
        self.service_role_key = service_role_key
        self.anon_key = anon_key
        self.delay_seconds = delay_seconds
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SupabaseStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                stand_in.requests.append(self.path)
                time.sleep(stand_in.delay_seconds)
                path = urlsplit(self.path).path
                key = self.headers.get("apikey")
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if path == "/auth/v1/health":
                    self._json(200, {"version": "stand-in", "name": "GoTrue"})
                elif path == "/auth/v1/admin/users":
                    if key != stand_in.service_role_key or bearer != stand_in.service_role_key:
                        # The real server answers a non-admin key with 403 and this body shape.
                        self._json(403, {"code": 403, "error_code": "not_admin", "msg": "User not allowed"})
                    else:
                        self._json(200, {"users": [], "aud": "authenticated"})
                elif path == "/rest/v1/":
                    if key not in (stand_in.service_role_key, stand_in.anon_key):
                        self._json(401, {"message": "Invalid API key"})
                    else:
                        self._json(200, {"swagger": "2.0", "info": {"title": "stand-in"}, "paths": {}})
                else:
                    self._json(404, {"message": "not served by the stand-in"})

            def _json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
