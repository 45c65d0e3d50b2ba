"""A stand-in for the two Supabase endpoints infrakit calls, because no Supabase server runs here.

It models a hosted project on Supabase's new API keys, with the legacy JWT keys (anon,
service_role) disabled. It is built with the project's secret key (`sb_secret_...`) and publishable
key (`sb_publishable_...`); neither is a JWT. It serves `GET /auth/v1/admin/users` (what
`auth.admin.list_users` calls) and `GET /rest/v1/` (PostgREST's root); any other path is 404. Each
request passes the API gateway first, then the service:

1. Gateway: the key must be in the `apikey` header (or the `apikey` query parameter). Without it,
   401 with the header `sb-error-code: UNAUTHORIZED_MISSING_API_KEY` and "No API key found in
   request", whatever `Authorization` holds: Supabase KB "Auth error: {401:
   UNAUTHORIZED_MISSING_API_KEY} on admin endpoints"
   (https://supabase.com/kb/troubleshooting/auth-error-401-unauthorized_missing_api_key-on-admin-endpoints-ac2afd),
   whose fix is the `apikey` header, Authorization not required. A key that is neither of the
   project's (a legacy JWT key included): 401 "Invalid API key" (the gateway's long-standing answer;
   its exact body for `sb_` keys is an assumption).
2. `Authorization`, when the caller sends one, reaches the service as it is, and must be a JWT the
   service can verify. This stand-in signs no JWTs, so it verifies none:
   - auth: 403 `bad_jwt` (supabase/supabase-js#1568; supabase/auth internal/api/auth.go,
     `parseJWTClaims`). So the old way, the secret key in both `apikey` and `Authorization: Bearer`
     (what supabase-py's `create_client` sends, supabase/_sync/client.py `_get_auth_headers`),
     fails here as on Supabase;
   - REST: 401 PGRST301, "Expected 3 parts in JWT; got 1" for a non-JWT (supabase/supabase-py#1230).
3. No `Authorization`: the gateway hands the service the role of the key in `apikey`.
   - `GET /auth/v1/admin/users`: the secret key lists users (200; supabase/supabase#48288 reports
     this GET succeeding with `apikey: sb_secret_...` alone). The publishable key gets 403
     `not_admin` "User not allowed": the CLI's gateway turns it into the anon JWT
     (supabase/cli#4167) and the auth server answers a non-admin role so (supabase/auth
     internal/api/auth.go, `requireAdmin`). That hosted Supabase answers the same is an
     assumption, not observed.
   - `GET /rest/v1/`: the secret key gets the OpenAPI document (200). The publishable key gets
     403: on the platform the OpenAPI root needs a privileged key (supabase/supabase#45462, which
     aligned self-hosting with it); the body is the stand-in's own. (Table paths, which either key
     may read within RLS, are not served.)

The auth server's errors take the shape the request asks for, as supabase/auth
internal/api/errors.go writes them: with `X-Supabase-Api-Version: 2024-01-01` (supabase_auth sends
it) `{"code": "bad_jwt", "message": ...}` and the header echoed, without it
`{"code": 403, "error_code": "bad_jwt", "msg": ...}`.

What it proves: that our client sends the key where Supabase reads it and nowhere it is refused,
and how we report each refusal and a timeout. What it cannot prove: anything Supabase's gateway or
auth server does that is not written above (the exact bodies and messages, other headers it may
require or refuse, rate limits, a key revoked after it was issued, how a real JWT is verified), nor
that hosted Supabase still behaves as the sources cited here describe.

`pooler_url_map` models what the provider's `supabase_pooler` data source gives for a project's
pooler (Supavisor), so tests can evaluate our expressions on it and connect to a test server.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

# The literal the Management API writes where the database password belongs.
PASSWORD_PLACEHOLDER = "[YOUR-PASSWORD]"
# The auth server's API version header, and the version whose error shape is {"code", "message"}.
API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION_2024_01_01 = "2024-01-01"
# The gateway's answer without a key (the Supabase KB cited above), and the services' JWT refusals.
NO_API_KEY = {
    "message": "No API key found in request",
    "hint": "No `apikey` request header or url param was found.",
}
BAD_JWT = "invalid JWT: unable to parse or verify signature"
UNVERIFIED = "JWT cannot be verified (the stand-in's words: it holds no signing key)"


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
    def __init__(self, *, secret_key: str, publishable_key: str, delay_seconds: float = 0.0):
        if not secret_key.startswith("sb_secret_") or not publishable_key.startswith("sb_publishable_"):
            raise ValueError("the stand-in models the new keys: sb_secret_... and sb_publishable_...")
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.delay_seconds = delay_seconds
        self.requests: list[str] = []
        # The headers of each request, in order, for tests that assert what a client sent.
        self.headers: list[dict[str, str]] = []
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
                stand_in.headers.append({name.lower(): value for name, value in self.headers.items()})
                time.sleep(stand_in.delay_seconds)
                parts = urlsplit(self.path)
                if parts.path == "/auth/v1/admin/users":
                    service = "auth"
                elif parts.path == "/rest/v1/":
                    service = "rest"
                else:
                    self._json(404, {"message": "not served by the stand-in"})
                    return
                # 1. The gateway.
                key = self.headers.get("apikey") or parse_qs(parts.query).get("apikey", [None])[0]
                if not key:
                    self._json(401, NO_API_KEY, headers={"sb-error-code": "UNAUTHORIZED_MISSING_API_KEY"})
                    return
                if key not in (stand_in.secret_key, stand_in.publishable_key):
                    self._json(401, {"message": "Invalid API key"})
                    return
                # 2. An Authorization header reaches the service as it is: no JWT here verifies.
                if (authorization := self.headers.get("Authorization")) is not None:
                    token = authorization.removeprefix("Bearer ").removeprefix("bearer ")
                    segments = len(token.split("."))
                    if service == "auth":
                        reason = "token is malformed" if segments != 3 else "signature is invalid"
                        self._auth_error(403, "bad_jwt", f"{BAD_JWT}, {reason}")
                    else:
                        message = f"Expected 3 parts in JWT; got {segments}" if segments != 3 else UNVERIFIED
                        self._json(
                            401, {"code": "PGRST301", "details": None, "hint": None, "message": message}
                        )
                    return
                # 3. The key's role.
                admin = key == stand_in.secret_key
                if service == "auth" and admin:
                    self._json(200, {"users": [], "aud": "authenticated"})
                elif service == "auth":
                    self._auth_error(403, "not_admin", "User not allowed")
                elif admin:
                    self._json(200, {"swagger": "2.0", "info": {"title": "stand-in"}, "paths": {}})
                else:
                    self._json(403, {"message": "the OpenAPI root needs a secret key (the stand-in's words)"})

            def _auth_error(self, status: int, code: str, message: str) -> None:
                """As supabase/auth's HandleResponseError writes an HTTPError, by the API version asked."""
                if (self.headers.get(API_VERSION_HEADER) or "") >= API_VERSION_2024_01_01:
                    body: dict[str, object] = {"code": code, "message": message}
                    self._json(status, body, headers={API_VERSION_HEADER: API_VERSION_2024_01_01})
                else:
                    self._json(status, {"code": status, "error_code": code, "msg": message})

            def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
