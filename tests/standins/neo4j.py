"""A stand-in for a Neo4j 5 server over Bolt, because no Neo4j server runs here (it is in neither
Debian nor PyPI). Its clients are the real drivers: the `neo4j` Python driver and the Node
`neo4j-driver`.

What it speaks, and where each rule comes from:

- **Handshake** (Bolt protocol docs, "Bolt handshake specification", neo4j.com/docs/bolt/current/
  bolt/handshake): the magic `60 60 B0 17`, then four 4-byte version offers, each
  `[reserved, range, minor, major]`, a range meaning "minor down to minor-range". The server
  answers the first offer it supports with `00 00 minor major`, or `00 00 00 00` and closes. Both
  drivers offer `00 00 01 FF` (the v2 manifest handshake), `5.8..5.0`, `4.4..4.2`, `3.0` (neo4j
  6.4.1 `_sync/io/_bolt/_base.py` get_handshake; neo4j-driver-bolt-connection 6.3.0
  `lib/bolt/handshake.js`). This stand-in ignores the manifest offer and answers **Bolt 5.4, or the
  highest of 5.1-5.4 the client offers**: 5.1 is the first with LOGON (auth leaves HELLO), and
  above 5.4 FAILURE metadata takes the GQL shape (5.7) and notifications become GQL statuses (5.6),
  which this stand-in does not model. A real Neo4j 5.26 would negotiate a higher 5.x.
- **Messages** (Bolt docs, "Bolt Protocol message specification", neo4j.com/docs/bolt/current/
  bolt/message): HELLO 0x01, LOGON 0x6A, LOGOFF 0x6B, GOODBYE 0x02, RESET 0x0F, RUN 0x10,
  BEGIN 0x11, COMMIT 0x12, ROLLBACK 0x13, DISCARD 0x2F, PULL 0x3F, TELEMETRY 0x54, ROUTE 0x66;
  answers SUCCESS 0x70, RECORD 0x71, IGNORED 0x7E, FAILURE 0x7F, and the server states (a message
  after a FAILURE is IGNORED until RESET). Messages are PackStream structures in chunks of at most
  65,535 bytes, each message ended by a zero-size chunk ("Message transfer encoding"); what the
  Python driver sends was read in neo4j 6.4.1 `_sync/io/_bolt/_bolt5.py`.
- **PackStream** (neo4j.com/docs/bolt/current/packstream): null, booleans, the integer and float
  markers, strings, bytes, lists, dictionaries and structures. No temporal or spatial types.
- **Auth**: a wrong user or password in LOGON gets FAILURE `Neo.ClientError.Security.Unauthorized`,
  "The client is unauthorized due to authentication failure.", and the connection is closed.
- **ROUTE** (`neo4j://`, `neo4j+s://`): a standalone Neo4j 5 answers one address for the WRITE,
  READ and ROUTE roles, and that address is **the one in the routing context the driver sent**
  (the driver fills `address` from its URI's host and port: neo4j 6.4.1 `_sync/io/_pool.py`);
  only when the context has no address, or its port is not positive, does it fall back to
  `server.bolt.advertised_address`. Source: neo4j/neo4j
  `community/dbms/src/main/java/org/neo4j/dbms/routing/SingleAddressRoutingTableProvider.java`
  ("It will prefer to return the address provided by the client in the routingContext"), the
  provider the community edition wires for both client- and server-side routing
  (`DefaultRoutingService`, `CommunityEditionModule.createRoutingService`). So behind Docker's port
  mapping `neo4j://localhost:17687` works whatever the container advertises. `routing="advertised"`
  models a server that answers its advertised address instead (a cluster member, such as Aura),
  to show what a client does with an address it cannot reach.
- **Queries**: `RETURN <integer> [AS name]`, `CALL dbms.components() [YIELD ...]`,
  `SHOW CONSTRAINTS`, `SHOW INDEXES` (each with `YIELD *` or `YIELD columns`), and the schema
  commands infrakit/bootstrap/graph.py writes: CREATE CONSTRAINT ... REQUIRE ... IS UNIQUE |
  IS NODE KEY | IS NOT NULL, CREATE [RANGE|TEXT|FULLTEXT|VECTOR] INDEX, DROP CONSTRAINT|INDEX
  [IF EXISTS]. The columns are the Cypher manual 5's ("Show constraints", "Show indexes"); with
  Cypher 5, a node uniqueness constraint's type is `UNIQUENESS` (Cypher 25 says
  `NODE_PROPERTY_UNIQUENESS`: neo4j/neo4j NodeUniqueConstraintsCypher5). A fresh database holds the
  two LOOKUP indexes Neo4j creates. Anything else fails with `Neo.ClientError.Statement.SyntaxError`.
- **IF NOT EXISTS** (Cypher manual 5, "Syntax" of constraints and indexes): "no error is thrown and
  nothing happens should a constraint with the same name or same schema and constraint type already
  exist" -- even when the same-named one has another definition; Neo4j does not report that as an
  error, only with an informational notification (5.17+). It still fails on an index with the same
  name as a constraint (and the reverse), and on a uniqueness constraint over a schema a RANGE
  index already covers.
- **Community edition** refuses NODE KEY and NOT NULL constraints:
  `Neo.DatabaseError.Schema.ConstraintCreationFailed`, "... Node Key constraint requires Neo4j
  Enterprise Edition" / "Property existence constraint requires Neo4j Enterprise Edition"
  (neo4j/neo4j StandardConstraintSemantics). `edition="enterprise"` accepts them.
- **HTTP discovery** (`http_port`): `GET /` answers the JSON Neo4j 5 serves on 7474
  (bolt_routing, transaction, bolt_direct, neo4j_version, neo4j_edition), enough for a container
  healthcheck with wget or curl.

Not modelled: TLS (`neo4j+s://`, `bolt+s://`: the stand-in speaks plain TCP only), data (no nodes,
no MATCH), Cypher beyond the statements above, transactions' isolation (schema changes in an
explicit transaction apply on COMMIT), the GQL error and status shapes of Bolt 5.6+, and timing.
It proves our client code against the behaviours cited above, never Neo4j itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

MAGIC = b"\x60\x60\xb0\x17"
SUPPORTED_MINORS = range(1, 5)  # Bolt 5.1 .. 5.4
DATABASES = ("neo4j", "system")
ROUTING_TTL_SECONDS = 300  # dbms.routing_ttl's default

UNAUTHORIZED = "Neo.ClientError.Security.Unauthorized"
SYNTAX_ERROR = "Neo.ClientError.Statement.SyntaxError"


# ----------------------------------------------------------------------------- PackStream


@dataclass(frozen=True)
class Structure:
    tag: int
    fields: tuple[Any, ...]


def pack(value: Any, out: io.BytesIO) -> None:
    if value is None:
        out.write(b"\xc0")
    elif value is True:
        out.write(b"\xc3")
    elif value is False:
        out.write(b"\xc2")
    elif isinstance(value, int):
        if -16 <= value <= 127:
            out.write(struct.pack(">b", value))
        elif -128 <= value < 128:
            out.write(b"\xc8" + struct.pack(">b", value))
        elif -32768 <= value < 32768:
            out.write(b"\xc9" + struct.pack(">h", value))
        elif -(2**31) <= value < 2**31:
            out.write(b"\xca" + struct.pack(">i", value))
        else:
            out.write(b"\xcb" + struct.pack(">q", value))
    elif isinstance(value, float):
        out.write(b"\xc1" + struct.pack(">d", value))
    elif isinstance(value, str):
        data = value.encode()
        _size(out, len(data), 0x80, b"\xd0", b"\xd1", b"\xd2")
        out.write(data)
    elif isinstance(value, bytes | bytearray):
        _size(out, len(value), None, b"\xcc", b"\xcd", b"\xce")
        out.write(value)
    elif isinstance(value, list | tuple):
        _size(out, len(value), 0x90, b"\xd4", b"\xd5", b"\xd6")
        for item in value:
            pack(item, out)
    elif isinstance(value, dict):
        _size(out, len(value), 0xA0, b"\xd8", b"\xd9", b"\xda")
        for key, item in value.items():
            pack(str(key), out)
            pack(item, out)
    elif isinstance(value, Structure):
        out.write(bytes([0xB0 | len(value.fields), value.tag]))
        for item in value.fields:
            pack(item, out)
    else:
        raise TypeError(f"PackStream cannot carry {type(value).__name__}")


def _size(out: io.BytesIO, n: int, tiny: int | None, m8: bytes, m16: bytes, m32: bytes) -> None:
    if tiny is not None and n < 16:
        out.write(bytes([tiny | n]))
    elif n < 0x100:
        out.write(m8 + struct.pack(">B", n))
    elif n < 0x10000:
        out.write(m16 + struct.pack(">H", n))
    else:
        out.write(m32 + struct.pack(">I", n))


def unpack(data: io.BytesIO) -> Any:
    marker = data.read(1)[0]
    high = marker & 0xF0
    if marker < 0x80:
        return marker
    if marker >= 0xF0:
        return marker - 0x100
    if high == 0x80:
        return data.read(marker & 0x0F).decode()
    if high == 0x90:
        return [unpack(data) for _ in range(marker & 0x0F)]
    if high == 0xA0:
        return {unpack(data): unpack(data) for _ in range(marker & 0x0F)}
    if high == 0xB0:
        tag = data.read(1)[0]
        return Structure(tag, tuple(unpack(data) for _ in range(marker & 0x0F)))
    fixed: dict[int, Any] = {0xC0: None, 0xC2: False, 0xC3: True}
    if marker in fixed:
        return fixed[marker]
    if marker == 0xC1:
        return struct.unpack(">d", data.read(8))[0]
    integers = {0xC8: ">b", 0xC9: ">h", 0xCA: ">i", 0xCB: ">q"}
    if marker in integers:
        fmt = integers[marker]
        return struct.unpack(fmt, data.read(struct.calcsize(fmt)))[0]
    sizes = {0: ">B", 1: ">H", 2: ">I"}
    kinds = {0xCC: "bytes", 0xD0: "str", 0xD4: "list", 0xD8: "dict"}
    for base, kind in kinds.items():
        if base <= marker <= base + 2:
            fmt = sizes[marker - base]
            n = struct.unpack(fmt, data.read(struct.calcsize(fmt)))[0]
            if kind == "bytes":
                return data.read(n)
            if kind == "str":
                return data.read(n).decode()
            if kind == "list":
                return [unpack(data) for _ in range(n)]
            return {unpack(data): unpack(data) for _ in range(n)}
    raise ValueError(f"unknown PackStream marker 0x{marker:02X}")


# ----------------------------------------------------------------------------- the schema it keeps


@dataclass
class Constraint:
    id: int
    name: str
    type: str  # UNIQUENESS, NODE_KEY, NODE_PROPERTY_EXISTENCE
    label: str
    properties: list[str]
    owned_index: str | None


@dataclass
class Index:
    id: int
    name: str
    type: str  # RANGE, TEXT, FULLTEXT, VECTOR, LOOKUP
    labels: list[str] | None
    properties: list[str] | None
    entity_type: str = "NODE"
    owning_constraint: str | None = None
    provider: str = "range-1.0"
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """One RUN the stand-in received."""

    text: str
    parameters: dict[str, Any]
    database: str
    user: str
    in_transaction: bool


class CypherFailure(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Result:
    fields: list[str]
    records: list[list[Any]] = field(default_factory=list)
    kind: str = "r"  # r: read, s: schema write, w: write
    stats: dict[str, int] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)


CONSTRAINT_COLUMNS = [
    "id",
    "name",
    "type",
    "entityType",
    "labelsOrTypes",
    "properties",
    "ownedIndex",
    "propertyType",
]
CONSTRAINT_EXTRA = ["options", "createStatement"]
INDEX_COLUMNS = [
    "id", "name", "state", "populationPercent", "type", "entityType", "labelsOrTypes", "properties",
    "indexProvider", "owningConstraint", "lastRead", "readCount",
]  # fmt: skip
INDEX_EXTRA = ["trackedSince", "options", "failureMessage", "createStatement"]
COMPONENT_COLUMNS = ["name", "versions", "edition"]

_ID = r"`?([A-Za-z_][A-Za-z0-9_]*)`?"
_PROP = rf"\s*{_ID}\s*\.\s*{_ID}\s*"
_CREATE_CONSTRAINT = re.compile(
    rf"^CREATE\s+CONSTRAINT\s+{_ID}\s*(IF\s+NOT\s+EXISTS\s+)?FOR\s*\(\s*{_ID}\s*:\s*{_ID}\s*\)\s*REQUIRE\s+"
    r"(?P<props>\([^)]*\)|[^\s]+)\s+IS\s+(?P<kind>UNIQUE|NODE\s+KEY|NOT\s+NULL)$",
    re.I,
)
_CREATE_INDEX = re.compile(
    rf"^CREATE\s+(?:(?P<type>RANGE|TEXT|FULLTEXT|VECTOR)\s+)?INDEX\s+{_ID}\s*(IF\s+NOT\s+EXISTS\s+)?"
    rf"FOR\s*\(\s*{_ID}\s*:\s*{_ID}\s*\)\s*ON\s*(?P<each>EACH\s*)?(?P<props>\([^)]*\)|\[[^\]]*\])"
    r"\s*(?:OPTIONS\s*(?P<options>\{.*\}))?$",
    re.I | re.S,
)
_DROP = re.compile(rf"^DROP\s+(CONSTRAINT|INDEX)\s+{_ID}(\s+IF\s+EXISTS)?$", re.I)
_SHOW = re.compile(
    r"^SHOW\s+(?:ALL\s+)?(CONSTRAINTS?|INDEX(?:ES)?)(?:\s+YIELD\s+(?P<yield>\*|[A-Za-z_, ]+))?$", re.I
)
_COMPONENTS = re.compile(r"^CALL\s+dbms\.components\s*\(\s*\)(?:\s+YIELD\s+(?P<yield>[A-Za-z_, ]+))?$", re.I)
_RETURN_INT = re.compile(r"^RETURN\s+(-?\d+)(?:\s+AS\s+([A-Za-z_][A-Za-z0-9_]*))?$", re.I)


class _Schema:
    """Constraints and indexes of the `neo4j` database, with Neo4j 5's rules for changing them."""

    def __init__(self, edition: str, version: str):
        self.edition = edition
        self.version = version
        self.next_id = 3
        self.constraints: dict[str, Constraint] = {}
        # What a new Neo4j 5 database holds: one token lookup index per entity type.
        self.indexes: dict[str, Index] = {
            "index_343aff4e": Index(
                1, "index_343aff4e", "LOOKUP", None, None, "NODE", None, "token-lookup-1.0"
            ),
            "index_f7700477": Index(
                2, "index_f7700477", "LOOKUP", None, None, "RELATIONSHIP", None, "token-lookup-1.0"
            ),
        }

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def execute(self, text: str, parameters: dict[str, Any]) -> Result:
        statement = " ".join(text.strip().rstrip(";").split())
        if m := _RETURN_INT.match(statement):
            return Result([m[2] or m[1]], [[int(m[1])]])
        if m := _COMPONENTS.match(statement):
            columns = _yielded(m["yield"], COMPONENT_COLUMNS, [])
            row = {"name": "Neo4j Kernel", "versions": [self.version], "edition": self.edition}
            return Result(columns, [[row[c] for c in columns]])
        if m := _SHOW.match(statement):
            if m[1].upper().startswith("CONSTRAINT"):
                columns = _yielded(m["yield"], CONSTRAINT_COLUMNS, CONSTRAINT_EXTRA)
                rows = [
                    self._constraint_row(c) for c in sorted(self.constraints.values(), key=lambda c: c.name)
                ]
            else:
                columns = _yielded(m["yield"], INDEX_COLUMNS, INDEX_EXTRA)
                rows = [self._index_row(i) for i in sorted(self.indexes.values(), key=lambda i: i.name)]
            return Result(columns, [[row[c] for c in columns] for row in rows])
        if m := _CREATE_CONSTRAINT.match(statement):
            return self._create_constraint(m, statement)
        if m := _CREATE_INDEX.match(statement):
            return self._create_index(m, statement)
        if m := _DROP.match(statement):
            return self._drop(m[1].upper(), m[2], bool(m[3]))
        raise CypherFailure(
            SYNTAX_ERROR, f"Invalid input '{statement[:40]}': the Neo4j stand-in does not know it"
        )

    # --- constraints

    def _create_constraint(self, m: re.Match[str], statement: str) -> Result:
        name, if_not_exists, variable, label = m[1], bool(m[2]), m[3], m[4]
        properties = _properties(m["props"], variable)
        kind = {"UNIQUE": "UNIQUENESS", "NODEKEY": "NODE_KEY", "NOTNULL": "NODE_PROPERTY_EXISTENCE"}[
            m["kind"].upper().replace(" ", "")
        ]
        shown = {
            "UNIQUENESS": "UNIQUENESS",
            "NODE_KEY": "NODE KEY",
            "NODE_PROPERTY_EXISTENCE": "NODE PROPERTY EXISTENCE",
        }
        schema = f"(:{label} {{{', '.join(properties)}}})"
        if kind == "NODE_PROPERTY_EXISTENCE" and len(properties) != 1:
            raise CypherFailure(
                SYNTAX_ERROR, "Constraint type 'IS NOT NULL' does not allow multiple properties"
            )
        # A constraint's own index carries the constraint's name; any other index of that name blocks it.
        if name in self.indexes and not self.indexes[name].owning_constraint:
            raise CypherFailure(
                "Neo.ClientError.Schema.IndexWithNameAlreadyExists",
                f"There already exists an index called '{name}'.",
            )
        same_schema = [
            c
            for c in self.constraints.values()
            if (c.type, c.label, c.properties) == (kind, label, properties)
        ]
        if name in self.constraints or same_schema:
            existing = self.constraints.get(name) or same_schema[0]
            if if_not_exists:
                return Result([], kind="s", notifications=[_already_exists(statement, existing.name)])
            if existing.name == name and (existing.type, existing.label, existing.properties) == (
                kind,
                label,
                properties,
            ):
                raise CypherFailure(
                    "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
                    "An equivalent constraint already exists, "
                    f"'Constraint( name='{name}', type='{shown[kind]}', "
                    f"schema={schema} )'.",
                )
            if existing.name == name:
                raise CypherFailure(
                    "Neo.ClientError.Schema.ConstraintWithNameAlreadyExists",
                    f"There already exists a constraint called '{name}'.",
                )
            raise CypherFailure(
                "Neo.ClientError.Schema.ConstraintAlreadyExists",
                f"Constraint already exists: Constraint( name='{existing.name}', type='{shown[kind]}', "
                f"schema={schema} )",
            )
        if self.edition != "enterprise" and kind != "UNIQUENESS":
            feature = "Node Key" if kind == "NODE_KEY" else "Property existence"
            raise CypherFailure(
                "Neo.DatabaseError.Schema.ConstraintCreationFailed",
                f"Unable to create Constraint( name='{name}', type='{shown[kind]}', schema={schema} ): "
                f"{feature} constraint requires Neo4j Enterprise Edition",
            )
        owns_index = kind in ("UNIQUENESS", "NODE_KEY")
        if owns_index:
            for index in self.indexes.values():
                if (index.type, index.labels, index.properties) == ("RANGE", [label], properties):
                    raise CypherFailure(
                        "Neo.ClientError.Schema.IndexAlreadyExists",
                        f"There already exists an index {schema}. A constraint cannot be created until the "
                        "index "
                        "has been dropped.",
                    )
            for other in self.constraints.values():
                if other.type in ("UNIQUENESS", "NODE_KEY") and (other.label, other.properties) == (
                    label,
                    properties,
                ):
                    raise CypherFailure(
                        "Neo.ClientError.Schema.ConstraintAlreadyExists",
                        f"Constraint already exists: Constraint( name='{other.name}', "
                        f"type='{shown[other.type]}', "
                        f"schema={schema} )",
                    )
        self.constraints[name] = Constraint(
            self._id(), name, kind, label, properties, name if owns_index else None
        )
        if owns_index:
            self.indexes[name] = Index(self._id(), name, "RANGE", [label], properties, owning_constraint=name)
        return Result([], kind="s", stats={"constraints-added": 1})

    # --- indexes

    def _create_index(self, m: re.Match[str], statement: str) -> Result:
        kind = (m["type"] or "RANGE").upper()
        name, if_not_exists, variable, label = m[2], bool(m[3]), m[4], m[5]
        properties = _properties(m["props"], variable)
        if (kind == "FULLTEXT") != bool(m["each"]):
            raise CypherFailure(
                SYNTAX_ERROR, "FULLTEXT indexes take ON EACH [...]; other indexes take ON (...)"
            )
        if kind in ("TEXT", "VECTOR") and len(properties) != 1:
            raise CypherFailure(SYNTAX_ERROR, f"Only single property {kind.lower()} indexes are supported")
        config: dict[str, Any] = {}
        provider = {
            "RANGE": "range-1.0",
            "TEXT": "text-2.0",
            "FULLTEXT": "fulltext-1.0",
            "VECTOR": "vector-2.0",
        }[kind]
        if kind == "VECTOR":
            options = m["options"] or ""
            dimensions = re.search(r"`vector\.dimensions`\s*:\s*(\d+)", options)
            similarity = re.search(r"`vector\.similarity_function`\s*:\s*'(\w+)'", options)
            if not dimensions or not similarity:
                raise CypherFailure(
                    "Neo.ClientError.Statement.ArgumentError",
                    "Failed to create vector index: `vector.dimensions` and `vector.similarity_function` "
                    "are required",
                )
            if similarity[1].upper() not in ("COSINE", "EUCLIDEAN"):
                raise CypherFailure(
                    "Neo.ClientError.Statement.ArgumentError",
                    f"Invalid vector.similarity_function '{similarity[1]}': expected COSINE or EUCLIDEAN",
                )
            config = {
                "vector.dimensions": int(dimensions[1]),
                "vector.similarity_function": similarity[1].upper(),
            }
        elif kind == "FULLTEXT":
            config = {"fulltext.analyzer": "standard-no-stop-words", "fulltext.eventually_consistent": False}
        if name in self.constraints:
            raise CypherFailure(
                "Neo.ClientError.Schema.ConstraintWithNameAlreadyExists",
                f"There already exists a constraint called '{name}'.",
            )
        same_schema = [
            i
            for i in self.indexes.values()
            if (i.type, i.labels, i.properties) == (kind, [label], properties)
        ]
        if name in self.indexes or same_schema:
            existing = self.indexes.get(name) or same_schema[0]
            if existing.owning_constraint and kind == "RANGE":
                raise CypherFailure(
                    "Neo.ClientError.Schema.IndexAlreadyExists",
                    f"There is a uniqueness constraint on (:{label} {{{', '.join(properties)}}}), so an "
                    "index is "
                    "already created that matches this.",
                )
            if if_not_exists:
                return Result([], kind="s", notifications=[_already_exists(statement, existing.name)])
            if existing.name == name:
                raise CypherFailure(
                    "Neo.ClientError.Schema.IndexWithNameAlreadyExists",
                    f"There already exists an index called '{name}'.",
                )
            raise CypherFailure(
                "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
                f"An equivalent index already exists, '{existing.name}'.",
            )
        self.indexes[name] = Index(
            self._id(), name, kind, [label], properties, provider=provider, config=config
        )
        return Result([], kind="s", stats={"indexes-added": 1})

    def _drop(self, what: str, name: str, if_exists: bool) -> Result:
        if what == "CONSTRAINT" and name in self.constraints:
            constraint = self.constraints.pop(name)
            if constraint.owned_index:
                self.indexes.pop(constraint.owned_index, None)
            return Result([], kind="s", stats={"constraints-removed": 1})
        if what == "INDEX" and name in self.indexes:
            if self.indexes[name].owning_constraint:
                raise CypherFailure(
                    "Neo.ClientError.Schema.DropIndexFailed",
                    f"Unable to drop index: Index belongs to constraint: `{name}`",
                )
            del self.indexes[name]
            return Result([], kind="s", stats={"indexes-removed": 1})
        if if_exists:
            return Result([], kind="s")
        noun = "constraint" if what == "CONSTRAINT" else "index"
        raise CypherFailure(
            f"Neo.ClientError.Schema.{'Constraint' if what == 'CONSTRAINT' else 'Index'}DropFailed",
            f"Unable to drop {noun} called `{name}`. There is no such {noun}.",
        )

    # --- SHOW rows

    def _constraint_row(self, c: Constraint) -> dict[str, Any]:
        # Cypher 5 (Neo4j 5.x) says UNIQUENESS; Cypher 25 says NODE_PROPERTY_UNIQUENESS.
        shown = (
            "NODE_PROPERTY_UNIQUENESS"
            if c.type == "UNIQUENESS" and not self.version.startswith("5.")
            else c.type
        )
        return {
            "id": c.id,
            "name": c.name,
            "type": shown,
            "entityType": "NODE",
            "labelsOrTypes": [c.label],
            "properties": list(c.properties),
            "ownedIndex": c.owned_index,
            "propertyType": None,
            "options": {"indexProvider": "range-1.0", "indexConfig": {}} if c.owned_index else None,
            "createStatement": f"CREATE CONSTRAINT `{c.name}` FOR (n:`{c.label}`) REQUIRE ...",
        }

    def _index_row(self, i: Index) -> dict[str, Any]:
        return {
            "id": i.id,
            "name": i.name,
            "state": "ONLINE",
            "populationPercent": 100.0,
            "type": i.type,
            "entityType": i.entity_type,
            "labelsOrTypes": i.labels,
            "properties": i.properties,
            "indexProvider": i.provider,
            "owningConstraint": i.owning_constraint,
            "lastRead": None,
            "readCount": 0 if i.type != "LOOKUP" else None,
            "trackedSince": None,
            "options": {"indexProvider": i.provider, "indexConfig": dict(i.config)},
            "failureMessage": "",
            "createStatement": f"CREATE {i.type} INDEX `{i.name}` ...",
        }


def _yielded(clause: str | None, default: list[str], extra: list[str]) -> list[str]:
    if not clause:
        return list(default)
    if clause.strip() == "*":
        return default + extra
    columns = [c.strip() for c in clause.split(",") if c.strip()]
    unknown = [c for c in columns if c not in default + extra]
    if unknown:
        raise CypherFailure(SYNTAX_ERROR, f"Variable `{unknown[0]}` not defined")
    return columns


def _properties(text: str, variable: str) -> list[str]:
    inner = text.strip()[1:-1] if text.strip()[:1] in "([" else text
    found = []
    for part in inner.split(","):
        m = re.fullmatch(_PROP, part)
        if not m or m[1] != variable:
            raise CypherFailure(
                SYNTAX_ERROR, f"Invalid input '{part.strip()}': expected {variable}.<property>"
            )
        found.append(m[2])
    return found


def _already_exists(statement: str, existing: str) -> dict[str, Any]:
    # Neo4j 5.17+: an informational notification, not an error (Cypher manual 5, constraint syntax).
    return {
        "code": "Neo.ClientNotification.Schema.IndexOrConstraintAlreadyExists",
        "title": "`IF NOT EXISTS` has no effect.",
        "description": f"`{statement}` has no effect. `{existing}` already exists.",
        "severity": "INFORMATION",
        "category": "SCHEMA",
    }


# ----------------------------------------------------------------------------- the server


class Neo4jStandIn:
    """A Neo4j 5 server for the Bolt messages infrakit's drivers use (see the module docstring)."""

    def __init__(
        self,
        username: str = "neo4j",
        password: str = "stand-in-password",  # checkov:skip=CKV_SECRET_6: a test value
        bolt_port: int = 0,
        http_port: int | None = None,
        edition: str = "community",
        version: str = "5.26.0",
        advertised_address: str | None = None,
        *,
        routing: Literal["standalone", "advertised"] = "standalone",
    ):
        if edition not in ("community", "enterprise"):
            raise ValueError("edition is community or enterprise")
        self.username = username
        self.password = password
        self.edition = edition
        self.version = version
        self.routing = routing
        self._advertised = advertised_address
        self.schema = _Schema(edition, version)
        self.queries: list[Query] = []
        self.messages: list[str] = []  # each message's name, in the order received, all connections
        self.routing_contexts: list[dict[str, Any]] = []  # what each ROUTE asked with
        self.lock = threading.RLock()
        self._sockets: set[socket.socket] = set()
        stand_in = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                stand_in._serve_connection(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._bolt = Server(("127.0.0.1", bolt_port), Handler)
        self.bolt_port: int = self._bolt.server_address[1]
        self._http: ThreadingHTTPServer | None = None
        self.http_port: int | None = None
        if http_port is not None:
            self._http = ThreadingHTTPServer(("127.0.0.1", http_port), self._discovery_handler())
            self.http_port = self._http.server_address[1]
        self._threads: list[threading.Thread] = []
        self._connections = 0

    # --- what tests read

    @property
    def bolt_url(self) -> str:
        """neo4j://127.0.0.1:PORT: the routing scheme the stack outputs use."""
        return f"neo4j://127.0.0.1:{self.bolt_port}"

    @property
    def advertised_address(self) -> str:
        """server.bolt.advertised_address; Neo4j's default host is localhost."""
        return self._advertised or f"localhost:{self.bolt_port}"

    def constraint_names(self) -> list[str]:
        with self.lock:
            return sorted(self.schema.constraints)

    def index_names(self, *, include_lookup: bool = False) -> list[str]:
        with self.lock:
            return sorted(n for n, i in self.schema.indexes.items() if include_lookup or i.type != "LOOKUP")

    def schema_writes(self) -> list[str]:
        """The text of every CREATE or DROP received."""
        return [q.text for q in self.queries if re.match(r"\s*(CREATE|DROP)\b", q.text, re.I)]

    def run(self, statement: str) -> None:
        """Change the schema directly, as another tool or an operator would, before a test."""
        with self.lock:
            self.schema.execute(statement, {})

    # --- lifecycle

    def __enter__(self) -> Neo4jStandIn:
        servers: list[Any] = [self._bolt] + ([self._http] if self._http else [])
        for server in servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for server in [self._bolt] + ([self._http] if self._http else []):
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]
        with self.lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    # --- HTTP discovery

    def _discovery_handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Discovery(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.split("?")[0] != "/":
                    self.send_error(404)
                    return
                address = stand_in.advertised_address
                body = json.dumps(
                    {
                        "bolt_routing": f"neo4j://{address}",
                        "transaction": f"http://localhost:{stand_in.http_port}/db/{{databaseName}}/tx",
                        "bolt_direct": f"bolt://{address}",
                        "neo4j_version": stand_in.version,
                        "neo4j_edition": stand_in.edition,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Discovery

    # --- Bolt

    def _serve_connection(self, sock: socket.socket) -> None:
        with self.lock:
            self._sockets.add(sock)
            self._connections += 1
            connection_id = f"bolt-{self._connections}"
        try:
            if _read_exactly(sock, 4) != MAGIC:
                return
            offers = _read_exactly(sock, 16)
            minor = _negotiate(offers)
            if minor is None:
                sock.sendall(b"\x00\x00\x00\x00")
                return
            sock.sendall(bytes([0, 0, minor, 5]))
            _Session(self, sock, connection_id).serve()
        except (ConnectionError, OSError, EOFError):
            pass
        finally:
            with self.lock:
                self._sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()


def _negotiate(offers: bytes) -> int | None:
    """The Bolt 5 minor version to speak: the first offer, in the client's order, that holds one of
    5.1-5.4, and within it the highest."""
    for i in range(4):
        _, span, minor, major = offers[i * 4 : i * 4 + 4]
        if major != 5:
            continue
        usable = [m for m in range(minor - span, minor + 1) if m in SUPPORTED_MINORS]
        if usable:
            return max(usable)
    return None


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class _Session:
    """One Bolt connection: its state machine (Bolt docs, "Server state")."""

    def __init__(self, server: Neo4jStandIn, sock: socket.socket, connection_id: str):
        self.server = server
        self.sock = sock
        self.connection_id = connection_id
        self.state = "NEGOTIATION"
        self.user = ""
        self.failed = False
        self.database = "neo4j"
        self.pending: list[str] = []  # schema statements of the open transaction, applied on COMMIT
        self.stream: list[list[Any]] = []
        self.stream_result: Result | None = None
        self.bookmark = 0

    def serve(self) -> None:
        for tag, fields in self._messages():
            name = MESSAGE_NAMES.get(tag, f"0x{tag:02X}")
            with self.server.lock:
                self.server.messages.append(name)
            if tag == 0x02:  # GOODBYE
                return
            if tag == 0x0F:  # RESET
                self.failed = False
                self.pending = []
                self.stream, self.stream_result = [], None
                self.state = "READY" if self.user else "AUTHENTICATION"
                self._success({})
                continue
            if self.failed:
                self._send(0x7E)  # IGNORED
                continue
            try:
                if not self._handle(tag, name, list(fields)):
                    return
            except CypherFailure as failure:
                self.failed = True
                self.pending = []
                self._failure(failure.code, failure.message)

    def _handle(self, tag: int, name: str, fields: list[Any]) -> bool:
        """Answer one message; False closes the connection."""
        if tag == 0x01:  # HELLO {user_agent, routing, bolt_agent, ...}
            self.state = "AUTHENTICATION"
            self._success(
                {
                    "server": f"Neo4j/{self.server.version}",
                    "connection_id": self.connection_id,
                    "hints": {"connection.recv_timeout_seconds": 120},
                }
            )
            return True
        if tag == 0x6A:  # LOGON {scheme, principal, credentials}
            auth = fields[0] if fields else {}
            if (
                auth.get("scheme") != "basic"
                or auth.get("principal") != self.server.username
                or auth.get("credentials") != self.server.password
            ):
                self._failure(UNAUTHORIZED, "The client is unauthorized due to authentication failure.")
                return False  # Neo4j closes the connection after an authentication failure
            self.user = str(auth["principal"])
            self.state = "READY"
            self._success({})
            return True
        if tag == 0x6B:  # LOGOFF
            self.user = ""
            self.state = "AUTHENTICATION"
            self._success({})
            return True
        if not self.user:
            raise CypherFailure(
                "Neo.ClientError.Request.Invalid",
                f"Message '{name}' cannot be handled by a session in the {self.state} state.",
            )
        if tag == 0x54:  # TELEMETRY
            self._success({})
        elif tag == 0x66:  # ROUTE {routing context} [bookmarks] {db, imp_user}
            self._route(fields)
        elif tag == 0x11:  # BEGIN {db, mode, bookmarks, tx_metadata, ...}
            self.database = self._database(fields[0] if fields else {})
            self.state = "TX_READY"
            self._success({})
        elif tag == 0x10:  # RUN query params extra
            self._run(fields)
        elif tag in (0x3F, 0x2F):  # PULL / DISCARD {n, qid}
            self._pull(fields[0] if fields else {}, discard=tag == 0x2F)
        elif tag == 0x12:  # COMMIT
            if self.state != "TX_READY":
                raise CypherFailure("Neo.ClientError.Request.Invalid", "COMMIT outside a transaction")
            self._apply_pending()
            self.state = "READY"
            self._success({"bookmark": self._next_bookmark()})
        elif tag == 0x13:  # ROLLBACK
            self.pending = []
            self.state = "READY"
            self._success({})
        else:
            raise CypherFailure("Neo.ClientError.Request.Invalid", f"The stand-in does not handle {name}")
        return True

    def _route(self, fields: list[Any]) -> None:
        context = dict(fields[0] or {}) if fields else {}
        extra = fields[2] if len(fields) > 2 and isinstance(fields[2], dict) else {}
        with self.server.lock:
            self.server.routing_contexts.append(context)
        database = self._database(extra)
        address = self.server.advertised_address
        client = str(context.get("address") or "")
        if self.server.routing == "standalone" and client and _port_of(client) > 0:
            address = client
        servers = [{"addresses": [address], "role": role} for role in ("WRITE", "READ", "ROUTE")]
        self._success({"rt": {"ttl": ROUTING_TTL_SECONDS, "db": database, "servers": servers}})

    def _database(self, extra: dict[str, Any]) -> str:
        database = str(extra.get("db") or "neo4j")
        if database not in DATABASES:
            raise CypherFailure("Neo.ClientError.Database.DatabaseNotFound", f"Graph not found: {database}")
        return database

    def _run(self, fields: list[Any]) -> None:
        text, parameters = str(fields[0]), dict(fields[1] or {})
        extra = fields[2] if len(fields) > 2 and isinstance(fields[2], dict) else {}
        in_transaction = self.state == "TX_READY"
        if not in_transaction:
            self.database = self._database(extra)
        with self.server.lock:
            self.server.queries.append(Query(text, parameters, self.database, self.user, in_transaction))
            if in_transaction and re.match(r"\s*(CREATE|DROP)\b", text, re.I):
                # Checked now, against the schema and the transaction's earlier statements; kept
                # until COMMIT, so a ROLLBACK leaves the schema as it was.
                trial = _copy_schema(self.server.schema)
                for earlier in self.pending:
                    trial.execute(earlier, {})
                result = trial.execute(text, parameters)
                self.pending.append(text)
            else:
                result = self.server.schema.execute(text, parameters)
        self.stream = list(result.records)
        self.stream_result = result
        metadata: dict[str, Any] = {"fields": result.fields, "t_first": 0}
        if in_transaction:
            metadata["qid"] = 0
        self._success(metadata)

    def _pull(self, extra: dict[str, Any], *, discard: bool) -> None:
        n = int(extra.get("n", -1))
        take = len(self.stream) if n < 0 or discard else min(n, len(self.stream))
        if not discard:
            for record in self.stream[:take]:
                self._send(0x71, record)
        self.stream = self.stream[take:]
        if self.stream:
            self._success({"has_more": True})
            return
        result = self.stream_result or Result([])
        metadata: dict[str, Any] = {"type": result.kind, "t_last": 0, "db": self.database}
        if result.stats:
            metadata["stats"] = dict(result.stats)
        if result.notifications:
            metadata["notifications"] = list(result.notifications)
        if self.state != "TX_READY":
            metadata["bookmark"] = self._next_bookmark()
        self._success(metadata)

    def _apply_pending(self) -> None:
        with self.server.lock:
            for statement in self.pending:
                self.server.schema.execute(statement, {})
        self.pending = []

    def _next_bookmark(self) -> str:
        self.bookmark += 1
        return f"FB:stand-in:{self.connection_id}:{self.bookmark}"

    # --- wire

    def _messages(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        while True:
            data = b""
            while True:
                size = struct.unpack(">H", _read_exactly(self.sock, 2))[0]
                if size == 0:
                    if data:
                        break
                    continue  # a NOOP chunk between messages (keep-alive)
                data += _read_exactly(self.sock, size)
            message = unpack(io.BytesIO(data))
            if not isinstance(message, Structure):
                raise EOFError
            yield message.tag, message.fields

    def _send(self, tag: int, *fields: Any) -> None:
        out = io.BytesIO()
        pack(Structure(tag, fields), out)
        data = out.getvalue()
        framed = b"".join(
            struct.pack(">H", len(part)) + part
            for part in (data[i : i + 0xFFFF] for i in range(0, len(data), 0xFFFF))
        )
        self.sock.sendall(framed + b"\x00\x00")

    def _success(self, metadata: dict[str, Any]) -> None:
        self._send(0x70, metadata)

    def _failure(self, code: str, message: str) -> None:
        self._send(0x7F, {"code": code, "message": message})


MESSAGE_NAMES = {
    0x01: "HELLO", 0x02: "GOODBYE", 0x0F: "RESET", 0x10: "RUN", 0x11: "BEGIN", 0x12: "COMMIT",
    0x13: "ROLLBACK", 0x2F: "DISCARD", 0x3F: "PULL", 0x54: "TELEMETRY", 0x66: "ROUTE", 0x6A: "LOGON",
    0x6B: "LOGOFF",
}  # fmt: skip


def _port_of(address: str) -> int:
    try:
        return int(address.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def _copy_schema(schema: _Schema) -> _Schema:
    import copy

    return copy.deepcopy(schema)
