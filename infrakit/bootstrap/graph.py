"""Create and check the Neo4j schema an environment declares (`[[graph.constraints]]`,
`[[graph.indexes]]`).

Runs after `cdktf deploy`, over Bolt with the official `neo4j` driver, and is safe to run again:
- a missing constraint or index is created with `CREATE ... IF NOT EXISTS`, and the server's
  counters say whether it was;
- an existing one with the declared name is compared with its declaration (type, label,
  properties; for vector indexes, dimensions and similarity). A difference is reported and left
  as it is: Neo4j's `IF NOT EXISTS` does nothing, without an error, when the name is taken
  whatever the definition, or when the same definition exists under another name (Cypher manual 5,
  constraint and index syntax), so only this comparison finds it;
- nothing is dropped unless the caller passes `recreate_mismatched=True`, which drops what holds
  the declared name or definition and creates the declaration. Dropping a constraint stops
  enforcing it while it is rebuilt; dropping an index slows queries until it is populated again;
- constraints and indexes on the server that the environment does not declare are reported as
  `undeclared` and left alone: other tools, or an older version of the product, may own them.
  Neo4j's own token lookup indexes and the indexes that back constraints are not reported.

`connect` tries once; `server_summary` is what `validate` shows. Messages never contain the
password.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import neo4j
from neo4j import exceptions as neo4j_errors

from infrakit.bootstrap.errors import OperatorError
from infrakit.bootstrap.redaction import redact, redact_url
from infrakit.config.graph import GraphConstraint, GraphIndex, GraphSchema

State = Literal["created", "ok", "mismatch", "recreated", "undeclared"]
Kind = Literal["constraint", "index"]
# What the `neo4j` driver accepts: neo4j:// routes (what the stack outputs), bolt:// goes direct.
SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
URI_SOURCE = "NEO4J_URI (or the `neo4j_uri` stack output)"
# SHOW CONSTRAINTS says UNIQUENESS with Cypher 5 (Neo4j 5) and NODE_PROPERTY_UNIQUENESS with
# Cypher 25 (Neo4j 2025+, Aura); both mean the same constraint.
CONSTRAINT_TYPES = {
    "unique": ("UNIQUENESS", "NODE_PROPERTY_UNIQUENESS"),
    "node_key": ("NODE_KEY",),
    "not_null": ("NODE_PROPERTY_EXISTENCE",),
}
REQUIREMENTS = {"unique": "IS UNIQUE", "node_key": "IS NODE KEY", "not_null": "IS NOT NULL"}


class GraphError(OperatorError):
    """A graph step failed: the password, the URI or a declaration, or Neo4j did not answer."""


@dataclass(frozen=True)
class SchemaReport:
    kind: Kind
    name: str
    state: State
    # Why it differs from its declaration, e.g. "type is RANGE, expected TEXT"; for "recreated",
    # why it was; for "undeclared", what it is.
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerInfo:
    version: str
    edition: str
    address: str


# ----------------------------------------------------------------------------- connecting


def uri_problem(uri: str) -> str | None:
    """Why the driver cannot use `uri`, in a message that never quotes it; None when it can."""
    scheme, separator, rest = uri.partition("://")
    if not separator or scheme.lower() not in SCHEMES:
        found = (
            f"the scheme {scheme}://"
            if separator and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme)
            else "no scheme"
        )
        return (
            f"{URI_SOURCE} has {found}, which is not supported: use neo4j:// (e.g. neo4j://127.0.0.1:7687), "
            "or neo4j+s:// for TLS (Aura)"
        )
    if "@" in rest or "#" in rest or "?" in rest.split("/")[0]:
        # A Neo4j URI carries no credentials, and the driver would read part of a password
        # written into it as the host; the message never quotes the URI.
        return (
            f"{URI_SOURCE} holds a user, a password or a fragment ('@', '?' or '#'): give only the "
            "scheme, host and port (e.g. neo4j://127.0.0.1:7687); the username and password go in "
            "NEO4J_USERNAME and NEO4J_PASSWORD"
        )
    try:
        parts = urlsplit(uri)
        port, host = parts.port, parts.hostname
    except ValueError:
        port, host = 0, None
    if not host or port == 0:
        return f"{URI_SOURCE} has no host, or a port that is not a number from 1 to 65535 (e.g. neo4j://127.0.0.1:7687)"
    return None


def connect(uri: str, username: str, password: str, *, timeout: float = 5.0) -> neo4j.Driver:
    """A driver for the Neo4j at `uri`, after one round trip that proves the address and the password.

    Raises GraphError when the URI is unusable, the server cannot be reached within `timeout`
    seconds, or it rejects the credentials.
    """
    if problem := uri_problem(uri):
        raise GraphError(problem)
    if timeout <= 0:
        raise GraphError(f"timeout must be more than 0 seconds, got {timeout}")
    with _translated(uri, password, "connecting"):
        driver = neo4j.GraphDatabase.driver(
            uri,
            auth=(username, password),
            connection_timeout=timeout,
            connection_acquisition_timeout=timeout * 2,
            max_transaction_retry_time=0,  # retries are ours: one line each, within our deadline
            user_agent="infrakit-bootstrap",
        )
    try:
        with _translated(uri, password, "connecting"):
            driver.verify_connectivity()
    except GraphError:
        driver.close()
        raise
    return driver


def server_summary(driver: neo4j.Driver, uri: str, password: str) -> ServerInfo:
    """`RETURN 1`, then the server's version and edition from `CALL dbms.components()`."""
    with _translated(uri, password, "running RETURN 1"):
        records, _, _ = driver.execute_query("RETURN 1 AS ok", routing_=neo4j.RoutingControl.READ)
        if not records or records[0]["ok"] != 1:
            raise GraphError(f"Neo4j at {redact_url(uri)} answered RETURN 1 with {records!r}")
    with _translated(uri, password, "reading dbms.components()"):
        records, summary, _ = driver.execute_query(
            "CALL dbms.components() YIELD name, versions, edition", routing_=neo4j.RoutingControl.READ
        )
    kernel = next((r for r in records if r["name"] == "Neo4j Kernel"), records[0] if records else None)
    if kernel is None:
        raise GraphError(f"Neo4j at {redact_url(uri)} listed no components")
    versions = kernel["versions"] or ["unknown"]
    return ServerInfo(str(versions[0]), str(kernel["edition"]), str(summary.server.address))


# ----------------------------------------------------------------------------- statements


def constraint_statement(constraint: GraphConstraint) -> str:
    """The CREATE CONSTRAINT ... IF NOT EXISTS that makes `constraint` (Neo4j 5 syntax)."""
    properties = ", ".join(f"n.`{p}`" for p in constraint.properties)
    target = (
        f"({properties})" if len(constraint.properties) > 1 or constraint.type == "node_key" else properties
    )
    return (
        f"CREATE CONSTRAINT `{constraint.name}` IF NOT EXISTS FOR (n:`{constraint.label}`) "
        f"REQUIRE {target} {REQUIREMENTS[constraint.type]}"
    )


def index_statement(index: GraphIndex) -> str:
    """The CREATE ... INDEX ... IF NOT EXISTS that makes `index` (Neo4j 5 syntax)."""
    head = f"CREATE {index.type.upper()} INDEX `{index.name}` IF NOT EXISTS FOR (n:`{index.label}`)"
    properties = ", ".join(f"n.`{p}`" for p in index.properties)
    if index.type == "fulltext":
        return f"{head} ON EACH [{properties}]"
    if index.type == "vector":
        return (
            f"{head} ON ({properties}) OPTIONS {{indexConfig: {{`vector.dimensions`: {index.dimensions}, "
            f"`vector.similarity_function`: '{index.similarity}'}}}}"
        )
    return f"{head} ON ({properties})"


# ----------------------------------------------------------------------------- syncing


@dataclass(frozen=True)
class _Existing:
    kind: Kind
    name: str
    type: str
    entity: str
    labels: tuple[str, ...]
    properties: tuple[str, ...]
    config: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        settings = "".join(f", {key} {value}" for key, value in self.config)
        return f"{self.type} on :{'|'.join(self.labels)}({', '.join(self.properties)}){settings}"


def sync_graph_schema(
    driver: neo4j.Driver,
    schema: GraphSchema,
    *,
    uri: str,
    password: str,
    recreate_mismatched: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> list[SchemaReport]:
    """Create what is missing, report what differs and what is undeclared (see the module docstring).

    `recreate_mismatched=True` drops whatever holds a declared name or definition differently and
    creates the declaration. It exists for fresh environments; never pass it by default.
    """
    reports: list[SchemaReport] = []
    declared: list[tuple[Kind, GraphConstraint | GraphIndex]] = [
        *(("constraint", c) for c in schema.constraints),
        *(("index", i) for i in schema.indexes),
    ]
    for kind, item in declared:
        existing = _read_schema(driver, uri, password)
        reports.append(_sync_one(driver, kind, item, existing, uri, password, recreate_mismatched, progress))
    declared_names = {item.name for _, item in declared}
    for other in _read_schema(driver, uri, password):
        if other.name not in declared_names:
            progress(f"{other.kind} {other.name}: not declared, left alone ({other.describe()})")
            reports.append(SchemaReport(other.kind, other.name, "undeclared", (other.describe(),)))
    return reports


def _sync_one(
    driver: neo4j.Driver,
    kind: Kind,
    item: GraphConstraint | GraphIndex,
    existing: list[_Existing],
    uri: str,
    password: str,
    recreate: bool,
    progress: Callable[[str], None],
) -> SchemaReport:
    wanted = _declared_as(kind, item)
    same_name = next((e for e in existing if e.name == item.name), None)
    equivalent = next((e for e in existing if e.name != item.name and _matches(e, wanted, item)), None)
    problems: list[str] = []
    blocking: list[_Existing] = []
    if same_name is not None:
        problems = _differences(same_name, wanted, item)
        if not problems:
            progress(f"{kind} {item.name}: ok")
            return SchemaReport(kind, item.name, "ok")
        blocking.append(same_name)
    elif equivalent is not None:
        problems = [
            f"the same definition exists as {equivalent.kind} {equivalent.name}; Neo4j's IF NOT EXISTS "
            f"keeps that one, so {item.name} is not created"
        ]
        blocking.append(equivalent)
    if problems and not recreate:
        progress(f"{kind} {item.name}: differs from its declaration, left unchanged: " + "; ".join(problems))
        return SchemaReport(kind, item.name, "mismatch", tuple(problems))
    for old in blocking:
        progress(f"{kind} {item.name}: dropping {old.kind} {old.name} ({old.describe()}) to recreate it")
        with _translated(uri, password, f"dropping {old.kind} {old.name}"):
            driver.execute_query(f"DROP {old.kind.upper()} `{old.name}` IF EXISTS")
    statement = constraint_statement(item) if isinstance(item, GraphConstraint) else index_statement(item)
    with _translated(uri, password, f"creating {kind} {item.name}"):
        summary = driver.execute_query(statement).summary
    added = summary.counters.constraints_added if kind == "constraint" else summary.counters.indexes_added
    # Read back what the server keeps: a statement that did nothing, or something else, shows here.
    now = next((e for e in _read_schema(driver, uri, password) if e.name == item.name), None)
    lines = ["the server did not create it"] if now is None or not added else _differences(now, wanted, item)
    if lines:
        progress(f"{kind} {item.name}: the server reports something else: " + "; ".join(lines))
        return SchemaReport(kind, item.name, "mismatch", tuple(lines))
    state: State = "recreated" if blocking else "created"
    progress(f"{kind} {item.name}: {state} ({wanted.describe()})")
    return SchemaReport(kind, item.name, state, tuple(problems))


def _declared_as(kind: Kind, item: GraphConstraint | GraphIndex) -> _Existing:
    if isinstance(item, GraphConstraint):
        return _Existing(
            kind, item.name, CONSTRAINT_TYPES[item.type][0], "NODE", (item.label,), tuple(item.properties)
        )
    config: tuple[tuple[str, Any], ...] = ()
    if item.type == "vector":
        config = (("dimensions", item.dimensions), ("similarity", str(item.similarity).upper()))
    return _Existing(
        kind, item.name, item.type.upper(), "NODE", (item.label,), tuple(item.properties), config
    )


def _same_type(found: _Existing, item: GraphConstraint | GraphIndex) -> bool:
    if isinstance(item, GraphConstraint):
        return found.kind == "constraint" and found.type in CONSTRAINT_TYPES[item.type]
    return found.kind == "index" and found.type == item.type.upper()


def _matches(found: _Existing, wanted: _Existing, item: GraphConstraint | GraphIndex) -> bool:
    return _same_type(found, item) and (found.entity, found.labels, found.properties) == (
        wanted.entity,
        wanted.labels,
        wanted.properties,
    )


def _differences(found: _Existing, wanted: _Existing, item: GraphConstraint | GraphIndex) -> list[str]:
    if found.kind != wanted.kind:
        return [f"the name is taken by an {found.kind} ({found.describe()}), expected a {wanted.kind}"]
    lines = []
    if not _same_type(found, item):
        lines.append(f"type is {found.type}, expected {wanted.type}")
    if found.entity != wanted.entity:
        lines.append(f"it is on {found.entity.lower()}s, expected nodes")
    if found.labels != wanted.labels:
        lines.append(f"label is {'|'.join(found.labels) or 'none'}, expected {wanted.labels[0]}")
    if found.properties != wanted.properties:
        lines.append(
            f"properties are ({', '.join(found.properties)}), expected ({', '.join(wanted.properties)})"
        )
    found_config = dict(found.config)
    for key, value in wanted.config:
        if str(found_config.get(key)).upper() != str(value).upper():
            lines.append(f"{key} is {found_config.get(key)}, expected {value}")
    return lines


def _read_schema(driver: neo4j.Driver, uri: str, password: str) -> list[_Existing]:
    with _translated(uri, password, "reading SHOW CONSTRAINTS"):
        constraints, _, _ = driver.execute_query(
            "SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties",
            routing_=neo4j.RoutingControl.READ,
        )
    with _translated(uri, password, "reading SHOW INDEXES"):
        indexes, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, owningConstraint, options",
            routing_=neo4j.RoutingControl.READ,
        )
    found = [
        _Existing(
            "constraint",
            str(r["name"]),
            str(r["type"]),
            str(r["entityType"]),
            tuple(r["labelsOrTypes"] or ()),
            tuple(r["properties"] or ()),
        )
        for r in constraints
    ]
    for r in indexes:
        # Neo4j's own token lookup indexes, and the indexes constraints own, are not ours to declare.
        if r["type"] == "LOOKUP" or r["owningConstraint"]:
            continue
        index_config = dict((r["options"] or {}).get("indexConfig") or {})
        config: tuple[tuple[str, Any], ...] = ()
        if r["type"] == "VECTOR":
            config = (
                ("dimensions", index_config.get("vector.dimensions")),
                ("similarity", index_config.get("vector.similarity_function")),
            )
        found.append(
            _Existing(
                "index",
                str(r["name"]),
                str(r["type"]),
                str(r["entityType"]),
                tuple(r["labelsOrTypes"] or ()),
                tuple(r["properties"] or ()),
                config,
            )
        )
    return found


# ----------------------------------------------------------------------------- errors


@contextmanager
def _translated(uri: str, password: str, doing: str) -> Iterator[None]:
    """Turn the driver's exceptions into a GraphError that says what to do, without the password."""
    where = redact_url(uri)
    try:
        yield
    except neo4j_errors.AuthError as error:
        raise GraphError(
            redact(
                f"Neo4j at {where} rejected the username or password ({error.code}) while {doing}: use the "
                "`neo4j_username` and `neo4j_password` stack outputs, or NEO4J_USERNAME and NEO4J_PASSWORD",
                [password],
            )
        ) from None
    except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired) as error:
        raise GraphError(
            redact(
                f"cannot connect to Neo4j at {where} while {doing}: {error}. Check that Neo4j is running and "
                "that the URI's host and port (Bolt is 7687) are reachable from here",
                [password],
            ),
            retryable=True,
        ) from None
    except neo4j_errors.Neo4jError as error:
        # A server's answer (ClientError, DatabaseError, TransientError): the code says why.
        retryable = isinstance(error, neo4j_errors.TransientError)
        raise GraphError(
            redact(f"Neo4j at {where} refused {doing}: {error.code}: {error.message}", [password]),
            retryable=retryable,
        ) from None
    except (neo4j_errors.DriverError, ValueError) as error:
        raise GraphError(
            redact(
                f"the neo4j driver failed while {doing} for {where}: {type(error).__name__}: {error}",
                [password],
            )
        ) from None
    except OSError as error:
        raise GraphError(
            redact(f"cannot connect to Neo4j at {where} while {doing}: {error}", [password]), retryable=True
        ) from None


def graph_fix(reports: Sequence[SchemaReport], environment: str, file: str, program: str) -> str:
    """What makes the server match the config when something differs: a decision, never automatic."""
    names = ", ".join(f"{r.kind} {r.name}" for r in reports if r.state == "mismatch")
    return (
        f"{names} differ from config (see above); nothing was dropped. Either change [[graph.constraints]] "
        f"or [[graph.indexes]] in {file} to match the server, or drop and recreate them with "
        f"`{program} graph --env {environment} --recreate-mismatched` (a dropped constraint is not "
        "enforced, and a dropped index not used, until it is back)"
    )
