"""Create and check the Qdrant collections an environment declares (`[[vector_store.collections]]`).

Runs after `cdktf deploy`, over Qdrant's REST API, and is safe to run again:
- a missing collection is created with its vector size, distance, HNSW m and ef_construct,
  shard_number and replication_factor (explicit, so a cluster's default never decides), then
  its payload indexes; the result is read back, so a server that ignores a setting is caught;
- an existing collection is compared with its declaration. A missing payload index is added,
  because adding an index only adds. Anything else that differs is reported and left as it is:
  changing vector size, distance, HNSW settings, shards or replication means dropping the
  collection and its points.
- nothing is dropped unless the caller passes `recreate_mismatched=True`, which drops and
  recreates each mismatched collection, with every point in it.
- collections on the server that the environment does not declare are left alone: other tools,
  or an older version of the product, may own them.

`connect_when_ready` waits, with a bound and one line per retry, for a cluster that does not
serve yet (Qdrant Cloud's create returns before it does); `connect` tries once.

Messages never contain the API key.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError
from qdrant_client import QdrantClient, models
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from infrakit.bootstrap.errors import OperatorError
from infrakit.bootstrap.redaction import redact, redact_url, userinfo_problem
from infrakit.config.collections import CollectionSpec

State = Literal["created", "ok", "mismatch", "missing", "recreated"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# How long `connect_when_ready` waits by default for a cluster to serve: Qdrant Cloud's cluster
# create returns before the cluster serves requests, so the first bootstrap after a deploy may
# meet a name that does not resolve yet, a refused connection, or a gateway's 5xx.
READY_WITHIN_SECONDS = 600.0


class CollectionsError(OperatorError):
    """A collections step failed: the key, the URL or a collection, or Qdrant did not answer."""


@dataclass(frozen=True)
class CollectionReport:
    name: str
    state: State
    # Why the collection differs from its declaration, e.g. "hnsw m is 32, expected 16". For
    # "recreated": why it was recreated.
    mismatches: tuple[str, ...] = ()
    # What sync changed in an existing collection, e.g. "added payload index tenant_id (keyword)".
    changes: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- connecting


def connect(url: str, api_key: str | None, *, timeout: float = 10.0) -> QdrantClient:
    """A REST client for the Qdrant at `url`, after one request that proves the URL and the key.

    Raises CollectionsError when the server cannot be reached, does not answer within `timeout`
    seconds (rounded up to whole seconds, which is all qdrant-client takes), or rejects the key.
    """
    if problem := userinfo_problem(url, "the Qdrant URL (QDRANT_URL or the `qdrant_url` stack output)"):
        raise CollectionsError(problem)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise CollectionsError(
            f"Qdrant URL {redact_url(url)!r} is not an http(s) URL: set QDRANT_URL, or use the `qdrant_url` "
            "stack output, for example http://127.0.0.1:6333"
        )
    if not _has_valid_port(url):
        raise CollectionsError(
            "the Qdrant URL has a port that is not a number from 1 to 65535: use the `qdrant_url` stack "
            "output, for example http://127.0.0.1:6333"
        )
    if timeout <= 0:
        raise CollectionsError(f"timeout must be more than 0 seconds, got {timeout}")
    with warnings.catch_warnings():
        if urlsplit(url).hostname in LOOPBACK:
            # A key over plain HTTP is how the local environment works: it never leaves this machine.
            warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
        client = QdrantClient(
            url=url,
            api_key=api_key or None,
            prefer_grpc=False,
            # Rounded up here, as qdrant-client would, so messages name the timeout actually used.
            timeout=math.ceil(timeout),
            # Its version check runs in a background thread and only warns; our first request
            # below reports an unreachable server or a wrong key clearly instead.
            check_compatibility=False,
        )
    try:
        with _translated(client, "listing collections"):
            client.get_collections()
    except CollectionsError:
        client.close()
        raise
    return client


def connect_when_ready(
    url: str,
    api_key: str | None,
    *,
    timeout: float = 10.0,
    within: float = READY_WITHIN_SECONDS,
    progress: Callable[[str], None] = lambda _: None,
    first_wait: float = 1.0,
) -> QdrantClient:
    """`connect`, tried again while the cluster cannot answer yet, for at most `within` seconds.

    Waiting helps only while the answer may change: no name resolution yet, a refused connection,
    no answer within `timeout`, 5xx or 429. Anything else (401/403, another 4xx, a URL that is not
    Qdrant's) is raised at once. Each retry is one line to `progress`, with why and how long until
    the next attempt; waits grow from `first_wait` seconds to 15 s, with jitter.
    """
    if within < 0:
        raise CollectionsError(f"the wait for Qdrant must be 0 seconds or more, got {within}")

    def report(retry: RetryCallState) -> None:
        error = retry.outcome.exception() if retry.outcome else None
        progress(
            f"qdrant: attempt {retry.attempt_number} failed ({error or 'no answer'}); retrying in "
            f"{retry.upcoming_sleep:.1f} s (waiting up to {within:g} s for the cluster to serve)"
        )

    attempts = Retrying(
        retry=retry_if_exception(lambda e: isinstance(e, CollectionsError) and e.retryable),
        wait=wait_exponential_jitter(multiplier=first_wait, max=15.0, jitter=first_wait),
        stop=stop_after_delay(within),
        before_sleep=report,
        reraise=True,
    )
    try:
        return attempts(connect, url, api_key, timeout=timeout)
    except CollectionsError as error:
        tried = attempts.statistics.get("attempt_number", 1)
        if error.retryable and tried > 1:
            raise CollectionsError(
                f"{error} (still failing after {tried} attempts in {within:g} s)", retryable=True
            ) from error
        raise


def _has_valid_port(url: str) -> bool:
    # Without this, qdrant-client's URL parser raises its own error, which quotes the whole URL.
    try:
        return urlsplit(url).port != 0
    except ValueError:
        return False


# ----------------------------------------------------------------------------- checking


def inspect_collections(client: QdrantClient, specs: Sequence[CollectionSpec]) -> list[CollectionReport]:
    """Compare each declared collection with the server. Read-only: states are ok, missing or mismatch."""
    _require_server(client)
    existing = _existing_names(client)
    reports = []
    for spec in specs:
        if spec.name not in existing:
            reports.append(CollectionReport(spec.name, "missing"))
            continue
        lines = _describe(*_compare(spec, _info(client, spec.name)))
        reports.append(CollectionReport(spec.name, "mismatch" if lines else "ok", lines))
    return reports


def sync_collections(
    client: QdrantClient,
    specs: Sequence[CollectionSpec],
    *,
    recreate_mismatched: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> list[CollectionReport]:
    """Create missing collections and payload indexes; report mismatches (see the module docstring).

    `recreate_mismatched=True` drops each mismatched collection, with all its points, and creates it
    again from its declaration. It exists for fresh environments; never pass it by default.
    """
    _require_server(client)
    existing = _existing_names(client)
    reports = []
    for spec in specs:
        if spec.name not in existing:
            reports.append(_create(client, spec, "created", progress))
            continue
        mismatches, missing_indexes = _compare(spec, _info(client, spec.name))
        if mismatches and recreate_mismatched:
            progress(f"{spec.name}: dropping and recreating: " + "; ".join(mismatches))
            with _translated(client, f"dropping collection {spec.name}"):
                client.delete_collection(spec.name)
            recreated = _create(client, spec, "recreated", progress)
            reports.append(
                recreated if recreated.state == "mismatch" else replace(recreated, mismatches=mismatches)
            )
        elif mismatches:
            # Left exactly as it is, missing indexes too: the collection needs a decision first.
            lines = _describe(mismatches, missing_indexes)
            progress(f"{spec.name}: differs from its declaration, left unchanged: " + "; ".join(lines))
            reports.append(CollectionReport(spec.name, "mismatch", lines))
        else:
            added = _create_indexes(client, spec.name, missing_indexes)
            for change in added:
                progress(f"{spec.name}: {change}")
            if not added:
                progress(f"{spec.name}: ok")
            reports.append(CollectionReport(spec.name, "ok", changes=added))
    return reports


# ----------------------------------------------------------------------------- comparing


def _compare(
    spec: CollectionSpec, info: models.CollectionInfo
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(what differs, payload indexes that are missing) between a declaration and a collection."""
    mismatches: list[str] = []
    vectors = info.config.params.vectors
    hnsw = info.config.hnsw_config
    if not isinstance(vectors, models.VectorParams):
        names = ", ".join(sorted(vectors or {})) or "none"
        mismatches.append(
            f"has named vectors ({names}), expected one unnamed vector of size {spec.vector_size}"
        )
    else:
        if vectors.size != spec.vector_size:
            mismatches.append(f"vector size is {vectors.size}, expected {spec.vector_size}")
        if _value(vectors.distance) != spec.distance:
            mismatches.append(f"distance is {_value(vectors.distance)}, expected {spec.distance}")
        # A vector's own HNSW settings win over the collection's.
        if vectors.hnsw_config is not None:
            hnsw = hnsw.model_copy(update=vectors.hnsw_config.model_dump(exclude_none=True))
    params = info.config.params
    if params.shard_number != spec.shard_number:
        mismatches.append(f"shard_number is {params.shard_number}, expected {spec.shard_number}")
    if params.replication_factor != spec.replication_factor:
        mismatches.append(
            f"replication_factor is {params.replication_factor}, expected {spec.replication_factor}"
        )
    if hnsw.m != spec.hnsw_m:
        mismatches.append(f"hnsw m is {hnsw.m}, expected {spec.hnsw_m}")
    if hnsw.ef_construct != spec.hnsw_ef_construct:
        mismatches.append(f"hnsw ef_construct is {hnsw.ef_construct}, expected {spec.hnsw_ef_construct}")
    missing: list[tuple[str, str]] = []
    for field, schema in spec.payload_indexes.items():
        index = info.payload_schema.get(field)
        if index is None:
            missing.append((field, schema))
        elif _value(index.data_type) != schema:
            mismatches.append(f"payload index {field} is {_value(index.data_type)}, expected {schema}")
    return tuple(mismatches), tuple(missing)


def _describe(mismatches: tuple[str, ...], missing_indexes: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return mismatches + tuple(
        f"payload index {field} ({schema}) is missing" for field, schema in missing_indexes
    )


def _value(enum_or_str: object) -> str:
    return str(getattr(enum_or_str, "value", enum_or_str))


# ----------------------------------------------------------------------------- changing


def _create(
    client: QdrantClient, spec: CollectionSpec, state: State, progress: Callable[[str], None]
) -> CollectionReport:
    with _translated(client, f"creating collection {spec.name}"):
        client.create_collection(
            spec.name,
            vectors_config=models.VectorParams(
                size=spec.vector_size, distance=models.Distance(spec.distance)
            ),
            hnsw_config=models.HnswConfigDiff(m=spec.hnsw_m, ef_construct=spec.hnsw_ef_construct),
            # Explicit, so the collection keeps them: a cluster's replication factor is only a
            # default for collections created without one.
            shard_number=spec.shard_number,
            replication_factor=spec.replication_factor,
        )
    _create_indexes(client, spec.name, tuple(spec.payload_indexes.items()))
    # Read back what the server keeps: a server (or local mode) that drops a setting shows up here.
    lines = _describe(*_compare(spec, _info(client, spec.name)))
    if lines:
        progress(f"{spec.name}: {state}, but the server reports different settings: " + "; ".join(lines))
        return CollectionReport(spec.name, "mismatch", lines)
    indexes = ", ".join(f"{f} ({s})" for f, s in spec.payload_indexes.items()) or "none"
    progress(
        f"{spec.name}: {state} (size {spec.vector_size}, {spec.distance}, hnsw m={spec.hnsw_m} "
        f"ef_construct={spec.hnsw_ef_construct}, {spec.shard_number} shard(s) x "
        f"{spec.replication_factor} replica(s), payload indexes: {indexes})"
    )
    return CollectionReport(spec.name, state)


def _create_indexes(client: QdrantClient, name: str, indexes: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    for field, schema in indexes:
        with _translated(client, f"creating payload index {field} on {name}"):
            client.create_payload_index(name, field, field_schema=models.PayloadSchemaType(schema), wait=True)
    return tuple(f"added payload index {field} ({schema})" for field, schema in indexes)


# ----------------------------------------------------------------------------- talking to the server


def _existing_names(client: QdrantClient) -> set[str]:
    with _translated(client, "listing collections"):
        return {c.name for c in client.get_collections().collections}


def _info(client: QdrantClient, name: str) -> models.CollectionInfo:
    with _translated(client, f"reading collection {name}"):
        return client.get_collection(name)


def _require_server(client: QdrantClient) -> None:
    options = client.init_options
    if options.get("location") == ":memory:" or options.get("path"):
        raise CollectionsError(
            "this QdrantClient runs in local mode, which ignores HNSW settings and payload indexes: "
            "connect to a Qdrant server with connect(url, api_key)"
        )


@contextmanager
def _translated(client: QdrantClient, doing: str) -> Iterator[None]:
    """Turn qdrant-client's and httpx's exceptions into a CollectionsError that says what to do."""
    options = client.init_options
    url = redact_url(str(options.get("url") or options.get("host") or "the configured URL"))
    api_key = options.get("api_key")
    timeout = options.get("timeout")
    try:
        yield
    except UnexpectedResponse as error:
        message = redact(_refused(error, url, doing, api_key is not None), [api_key])
        # 5xx and 429: a server that is starting or busy; 4xx: a request that will fail again.
        retryable = (error.status_code or 0) >= 500 or error.status_code == 429
        raise CollectionsError(message, retryable=retryable) from error
    except ResourceExhaustedResponse as error:  # 429 with Retry-After: Qdrant Cloud's rate limit
        message = f"Qdrant at {url} is rate limiting {doing}: retry after {error.retry_after_s} s ({error})"
        raise CollectionsError(redact(message, [api_key]), retryable=True) from error
    except ResponseHandlingException as error:
        raise _failure(error.source, url, doing, timeout, api_key) from error
    except httpx.HTTPError as error:
        raise _failure(error, url, doing, timeout, api_key) from error


def _failure(
    source: BaseException, url: str, doing: str, timeout: object, api_key: str | None
) -> CollectionsError:
    # A server that is starting, or a network that hiccups, may answer on a later attempt.
    retryable = isinstance(source, httpx.TimeoutException | httpx.NetworkError)
    return CollectionsError(redact(_failed(source, url, doing, timeout), [api_key]), retryable=retryable)


def _refused(error: UnexpectedResponse, url: str, doing: str, has_key: bool) -> str:
    code = error.status_code
    detail = _detail(error)
    if code == 401 and not has_key:
        return (
            f"Qdrant at {url} requires an API key (HTTP 401 while {doing}: {detail}), and none was given: "
            "pass the `qdrant_api_key` stack output"
        )
    if code == 401:
        return (
            f"Qdrant at {url} rejected the API key (HTTP 401 while {doing}: {detail}): "
            "use the current `qdrant_api_key` stack output (`cdktf output <env>`)"
        )
    if code == 403 and not has_key:
        return (
            f"Qdrant at {url} refused {doing} without an API key (HTTP 403: {detail}): Qdrant Cloud "
            "asks for the key on every request; pass the `qdrant_api_key` stack output"
        )
    if code == 403:
        return (
            f"Qdrant at {url} refused {doing} with this API key (HTTP 403: {detail}). On Qdrant Cloud "
            "this means the key is not valid for this cluster (another cluster's, revoked, or "
            "expired), or it is a collection-scoped key without access to this collection; on "
            "self-hosted Qdrant, a read-only key. Use the operator key, the `qdrant_api_key` stack "
            "output (`cdktf output <env>`), and check it with `curl -H 'api-key: <key>' "
            f"{url}/collections`; the Qdrant Cloud console lists each key's cluster and collections"
        )
    return f"Qdrant at {url} answered HTTP {code} while {doing}: {detail}"


def _detail(error: UnexpectedResponse) -> str:
    """Qdrant's own words: `status.error` from a JSON body, `error` from Qdrant Cloud's gateway, else
    the text body (self-hosted auth errors are text)."""
    try:
        body = error.structured()
        return str(body["status"]["error"] if "status" in body else body["error"])
    except (ValueError, KeyError, TypeError):
        text = error.content.decode(errors="replace").strip()
        return (text[:200] + "...") if len(text) > 200 else text or (error.reason_phrase or "no details")


def _failed(source: BaseException, url: str, doing: str, timeout: object) -> str:
    if isinstance(source, httpx.TimeoutException):
        return (
            f"Qdrant at {url} did not answer within the {timeout} s timeout while {doing}: check that it is "
            "running and reachable from this machine (on Qdrant Cloud, the cluster's allowed IP ranges), "
            "or pass a longer timeout"
        )
    if isinstance(source, httpx.NetworkError):
        reason = str(source) or type(source).__name__
        return (
            f"cannot connect to Qdrant at {url} while {doing} (timeout {timeout} s): {reason}. Check that "
            "Qdrant is running and that the URL's scheme, host and port (REST is 6333) are right"
        )
    if isinstance(source, ValidationError):
        return (
            f"Qdrant at {url} answered {doing} with a body qdrant-client cannot read: is this URL a Qdrant "
            "server, and is its version within one minor version of qdrant-client?"
        )
    return f"talking to Qdrant at {url} failed while {doing}: {type(source).__name__}: {source}"
