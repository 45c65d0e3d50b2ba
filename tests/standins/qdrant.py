"""A stand-in for the Qdrant REST endpoints infrakit calls, because no Qdrant server runs here.

qdrant-client's local mode (`":memory:"`) is no substitute: it ignores `hnsw_config` and payload
indexes, so a test against it passes whatever our code sends. This stand-in keeps exactly what each
request sent and answers with it, so a test fails when our code sends the wrong values.

It serves two kinds of Qdrant, chosen per test with `mode`:

- `"cloud"`: a Qdrant Cloud cluster, what the dev, staging and prod stacks deploy. Its gateway
  answers 403 with the JSON body `{"error":"forbidden"}` on **every** path when the `api-key`
  header is missing, `/healthz`, `/livez` and `/readyz` included (giancarloerra/SocratiCode#35 and
  #37, reproduced there with curl; Qdrant Cloud's authentication docs: send the key "for every
  request", in `api-key` or `Authorization: Bearer`). A key the cluster does not know gets the
  same 403 from the gateway (a 403 with an `{"error": ...}` body, qdrant/qdrant-client#127).
  With the key, health paths answer as Qdrant does (#37: `curl -H "api-key: ..." .../healthz`
  gives "healthz check passed"). A collection created without `replication_factor` gets the
  cluster's own factor (`cluster_replication_factor`; the qdrant-cloud provider's docs: the
  cluster's factor is a default for new collections, and a collection created with its own value
  keeps that).
- `"self_hosted"`: the Qdrant image the local stack runs. `GET /`, `/healthz`, `/livez` and
  `/readyz` need no key (qdrant/qdrant#3908); every other path needs it, in `api-key` or
  `Authorization: Bearer`, and a missing or wrong key gets 401 with a plain-text body
  (qdrant/qdrant `src/actix/auth.rs`).

In both modes it serves `GET /collections`, `GET|PUT|DELETE /collections/{name}`,
`GET /collections/{name}/exists` and `PUT /collections/{name}/index`. Bodies, status codes and
messages behind the key follow Qdrant's source (qdrant/qdrant: `src/common/auth/mod.rs`,
`src/actix/helpers.rs`, `src/actix/api/service_api.rs`, `config/config.yaml` for the defaults).

`starting` models a cluster that exists but does not serve yet: the qdrant-cloud provider's
cluster create returns before the cluster serves requests (its docs). Which status a starting
cluster's gateway answers is not documented, so each test names the statuses it answers with,
one request each, before the stand-in serves.

It stores no points, runs no optimizer and checks far less than Qdrant: it proves our client
code, never Qdrant itself, nor Qdrant Cloud's gateway beyond the behaviours cited above.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

VERSION = "1.13.4"  # the image environments/local.toml runs
DISTANCES = {"Cosine", "Euclid", "Dot", "Manhattan"}
PAYLOAD_SCHEMAS = {"keyword", "integer", "float", "bool", "geo", "text", "datetime", "uuid"}
# Self-hosted Qdrant serves these without a key (qdrant/qdrant#3908); Qdrant Cloud does not.
HEALTH_PATHS = {"/", "/healthz", "/livez", "/readyz"}
Mode = Literal["cloud", "self_hosted"]

# What Qdrant reports for settings a create request leaves out (config/config.yaml).
DEFAULT_HNSW = {
    "m": 16,
    "ef_construct": 100,
    "full_scan_threshold": 10000,
    "max_indexing_threads": 0,
    "on_disk": False,
}
DEFAULT_OPTIMIZERS = {
    "deleted_threshold": 0.2,
    "vacuum_min_vector_number": 1000,
    "default_segment_number": 0,
    "max_segment_size": None,
    "memmap_threshold": None,
    "indexing_threshold": 10000,
    "flush_interval_sec": 5,
    "max_optimization_threads": None,
}
DEFAULT_WAL = {"wal_capacity_mb": 32, "wal_segments_ahead": 0}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any = None


class QdrantError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class _Collection:
    create_body: dict[str, Any]
    payload_schema: dict[str, dict[str, Any]] = field(default_factory=dict)

    cluster_replication_factor: int = 1

    def info(self) -> dict[str, Any]:
        """A CollectionInfo as `GET /collections/{name}` returns it: what was sent over the defaults."""
        body = self.create_body
        return {
            "status": "green",
            "optimizer_status": "ok",
            "indexed_vectors_count": 0,
            "points_count": 0,
            "segments_count": 1,
            "config": {
                "params": {
                    "vectors": body.get("vectors", {}),
                    "shard_number": body.get("shard_number") or 1,
                    "replication_factor": body.get("replication_factor") or self.cluster_replication_factor,
                    "write_consistency_factor": body.get("write_consistency_factor") or 1,
                    "on_disk_payload": body.get("on_disk_payload", True) is not False,
                },
                "hnsw_config": _over(DEFAULT_HNSW, body.get("hnsw_config")),
                "optimizer_config": _over(DEFAULT_OPTIMIZERS, body.get("optimizers_config")),
                "wal_config": _over(DEFAULT_WAL, body.get("wal_config")),
                "quantization_config": body.get("quantization_config"),
            },
            "payload_schema": copy.deepcopy(self.payload_schema),
        }


def _over(defaults: dict[str, Any], diff: dict[str, Any] | None) -> dict[str, Any]:
    return {**defaults, **{k: v for k, v in (diff or {}).items() if v is not None}}


class QdrantStandIn:
    """`with QdrantStandIn(api_key="k", mode="cloud") as qdrant:` serves on `qdrant.url` until the
    block ends.

    `mode` is "cloud" (Qdrant Cloud's gateway) or "self_hosted" (the local stack's image); see the
    module docstring. `starting` lists statuses answered, one request each, before it serves (a
    cluster that is not up yet). `cluster_replication_factor` is what a collection created
    without its own factor gets (cloud). `port` 0 picks a free port. `delay_seconds` delays every
    answer (it may be changed while running); `stop()` closes the port, so later requests are
    refused; `requests` records every request in order.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        read_only_api_key: str | None = None,
        mode: Mode = "self_hosted",
        starting: Sequence[int] = (),
        cluster_replication_factor: int = 1,
        delay_seconds: float = 0.0,
        port: int = 0,
    ):
        if mode not in ("cloud", "self_hosted"):
            raise ValueError(f"mode is 'cloud' or 'self_hosted', not {mode!r}")
        self.api_key = api_key
        self.mode = mode
        self.starting = list(starting)
        self.cluster_replication_factor = cluster_replication_factor
        self.read_only_api_key = read_only_api_key
        self.delay_seconds = delay_seconds
        self.requests: list[RecordedRequest] = []
        self._collections: dict[str, _Collection] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._operation_id = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval makes stop() quick: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="qdrant-stand-in",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> QdrantStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # wakes requests that are still sleeping out their delay
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ what tests look at

    def collection_names(self) -> list[str]:
        with self._lock:
            return list(self._collections)

    def collection_info(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._collections[name].info()

    def writes(self) -> list[RecordedRequest]:
        """Every request that could change something: all but GET."""
        return [r for r in self.requests if r.method != "GET"]

    # ------------------------------------------------------------------ the API

    def handle(self, method: str, path: str, body: Any) -> Any:
        """The `result` of one authorised request, or QdrantError."""
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and parts == ["collections"]:
            with self._lock:
                return {"collections": [{"name": name} for name in self._collections]}
        if len(parts) < 2 or parts[0] != "collections":
            raise QdrantError(404, f"Not found: {method} {path} is not served by the stand-in")
        name, rest = parts[1], parts[2:]
        with self._lock:
            if method == "GET" and rest == ["exists"]:
                return {"exists": name in self._collections}
            if method == "PUT" and not rest:
                return self._create(name, body)
            if method == "DELETE" and not rest:
                return self._collections.pop(name, None) is not None
            collection = self._collections.get(name)
            if collection is None:
                raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")
            if method == "GET" and not rest:
                return collection.info()
            if method == "PUT" and rest == ["index"]:
                return self._create_index(collection, body)
        raise QdrantError(404, f"Not found: {method} {path} is not served by the stand-in")

    def _create(self, name: str, body: Any) -> bool:
        if name in self._collections:
            raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
        if not isinstance(body, dict):
            raise QdrantError(400, "Json deserialize error: expected a JSON object")
        vectors = body.get("vectors", {})
        if not isinstance(vectors, dict):
            raise QdrantError(400, "Json deserialize error: vectors must be an object")
        for params in [vectors] if "size" in vectors else vectors.values():
            if not isinstance(params, dict) or not isinstance(params.get("size"), int) or params["size"] < 1:
                raise QdrantError(400, "Validation error in JSON body: vectors.size: must be at least 1")
            if params.get("distance") not in DISTANCES:
                raise QdrantError(400, f"Json deserialize error: unknown variant `{params.get('distance')}`")
        hnsw = body.get("hnsw_config") or {}
        if (hnsw.get("ef_construct") or 4) < 4:
            raise QdrantError(
                400, "Validation error in JSON body: hnsw_config.ef_construct: must be at least 4"
            )
        factor = self.cluster_replication_factor if self.mode == "cloud" else 1
        self._collections[name] = _Collection(copy.deepcopy(body), cluster_replication_factor=factor)
        return True

    def _create_index(self, collection: _Collection, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("field_name"):
            raise QdrantError(400, "Json deserialize error: missing field `field_name`")
        schema = body.get("field_schema")
        # field_schema is a type name ("keyword") or an object of index params ({"type": "keyword", ...}).
        data_type = schema.get("type") if isinstance(schema, dict) else schema
        if data_type not in PAYLOAD_SCHEMAS:
            raise QdrantError(400, f"Json deserialize error: unknown payload schema `{data_type}`")
        entry: dict[str, Any] = {"data_type": data_type, "points": 0}
        if isinstance(schema, dict):
            entry["params"] = copy.deepcopy(schema)
        collection.payload_schema[body["field_name"]] = entry
        self._operation_id += 1
        return {"operation_id": self._operation_id, "status": "completed"}

    def gateway_refuses(self, headers: dict[str, str]) -> bool:
        """Qdrant Cloud's gateway: no key, or a key the cluster does not know, on any path."""
        if self.mode != "cloud" or self.api_key is None:
            return False
        key = headers.get("api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        return key not in {k for k in (self.api_key, self.read_only_api_key) if k}

    def next_starting_status(self) -> int | None:
        with self._lock:
            return self.starting.pop(0) if self.starting else None

    def key_problem(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        """Why Qdrant would refuse these headers, or None. Qdrant reads `api-key` first."""
        if self.api_key is None:
            return None
        key = headers.get("api-key")
        if key is None and headers.get("authorization", "").startswith("Bearer "):
            key = headers["authorization"].removeprefix("Bearer ")
        if key is None:
            return 401, "Must provide an API key or an Authorization bearer token"
        if key == self.api_key:
            return None
        if key == self.read_only_api_key:
            return None if method == "GET" else (403, "Forbidden: Write access is required")
        return 401, "Invalid API key or JWT"

    def pause(self) -> None:
        if self.delay_seconds > 0:
            self._stopping.wait(self.delay_seconds)

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()


def _handler_for(stand_in: QdrantStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve()

        def do_PUT(self) -> None:  # noqa: N802
            self._serve()

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve()

        def do_POST(self) -> None:  # noqa: N802
            self._serve()

        def _serve(self) -> None:
            started = time.monotonic()
            url = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            raw = self.rfile.read(int(headers.get("content-length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            stand_in.requests.append(
                RecordedRequest(self.command, url.path, parse_qs(url.query), headers, copy.deepcopy(body))
            )
            stand_in.pause()
            if stand_in.stopped:
                return self._send(503, "text/plain", b"stopping")
            if (status := stand_in.next_starting_status()) is not None:
                return self._send(status, "text/plain", b"cluster is starting")
            if stand_in.gateway_refuses(headers):
                return self._send(403, "application/json", b'{"error":"forbidden"}')
            if url.path in HEALTH_PATHS and self.command == "GET":
                return self._no_key(url.path)
            refused = stand_in.key_problem(self.command, headers)
            if refused is not None:
                status, message = refused
                if status == 401:  # Qdrant's auth middleware answers in plain text, not JSON
                    return self._send(401, "text/plain", message.encode())
                return self._json(status, {"status": {"error": message}, "time": time.monotonic() - started})
            try:
                result = stand_in.handle(self.command, url.path, body)
            except QdrantError as error:
                return self._json(
                    error.status, {"status": {"error": str(error)}, "time": time.monotonic() - started}
                )
            self._json(200, {"result": result, "status": "ok", "time": time.monotonic() - started})

        def _no_key(self, path: str) -> None:
            if path == "/":
                return self._json(200, {"title": "qdrant - vector search engine", "version": VERSION})
            text = "all shards are ready" if path == "/readyz" else "healthz check passed"
            self._send(200, "text/plain", text.encode())

        def _json(self, status: int, body: object) -> None:
            self._send(status, "application/json", json.dumps(body).encode())

        def _send(self, status: int, content_type: str, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test); nothing is left to answer

    return Handler
