"""Terraform's apply graph, read from a synthesized stack (cdk.tf.json) the way Terraform builds it.

Terraform orders two objects only through an edge: an expression in one that refers to the other
(a resource, data source, local, variable or module), or a `depends_on`. Everything else it
creates in parallel. This module finds those edges in the JSON syntax, so that policy tests can
ask "is X created after Y?" of a stack without Terraform or its providers.

Nodes are Terraform addresses: `TYPE.NAME`, `data.TYPE.NAME`, `local.NAME`, `var.NAME`,
`output.NAME`, `module.NAME`. Providers are not nodes: a provider block that refers to a resource
would order everything it configures, and no stack here has one. tests/test_apply_order.py checks
this reading against `terraform graph` on the same reference shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# A traversal's first two or three names, as HCL lexes identifiers (letters, digits, '_' and '-').
# The look-behind keeps `x.aws_lb.y` and `a[0].b` from counting as roots.
_TRAVERSAL = re.compile(r"(?<![\w.\-\]])([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?")
# Keys of a block whose strings are not expressions that Terraform orders by.
_NOT_REFERENCES = frozenset({"//", "provider", "ignore_changes"})


def template_expressions(text: str) -> list[str]:
    """The expressions of one JSON string read as an HCL template: the insides of `${…}` and
    `%{…}`, with string literals inside them removed and nested templates' expressions listed
    separately. `$${` and `%%{` are escapes, not interpolations."""
    found: list[str] = []
    _template(text, 0, found, terminator=None)
    return found


def _template(text: str, i: int, found: list[str], terminator: str | None) -> int:
    """Scans template text from i to the terminator (a closing quote inside an expression, or the
    end of the string); returns the index after it."""
    while i < len(text):
        if terminator and text[i] == "\\":
            i += 2
        elif terminator and text[i] == terminator:
            return i + 1
        elif text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            i = _expression(text, i + 2, found)
        else:
            i += 1
    return i


def _expression(text: str, i: int, found: list[str]) -> int:
    depth, kept = 0, []
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _template(text, i + 1, found, terminator='"')
            kept.append('""')
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                found.append("".join(kept))
                return i + 1
            depth -= 1
        kept.append(char)
        i += 1
    raise ValueError(f"unterminated interpolation in {text!r}")


def strings(value: Any, *, skip: frozenset[str] = _NOT_REFERENCES) -> Iterator[str]:
    """Every string in a JSON value, except under keys that hold no references."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, skip=skip)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from strings(item, skip=skip)


@dataclass
class ApplyGraph:
    """`edges[node]` is the set of nodes that node refers to or depends on directly."""

    document: Mapping[str, Any]
    edges: dict[str, set[str]] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> ApplyGraph:
        graph = cls(document)
        for kind, address in _addresses(document):
            graph.bodies[address] = _body(document, kind, address)
        for address, body in graph.bodies.items():
            if address.startswith("var."):
                graph.edges[address] = set()  # a variable's value comes from outside
                continue
            graph.edges[address] = graph.references(body) | {
                graph._resolve(dependency, dependency) for dependency in body_depends_on(body)
            }
        return graph

    # ------------------------------------------------------------------ reading references

    @cached_property
    def resource_types(self) -> frozenset[str]:
        return frozenset(self.document.get("resource", {}))

    def references(self, value: Any) -> set[str]:
        """The nodes that the expressions in value refer to directly."""
        found: set[str] = set()
        for text in strings(value, skip=_NOT_REFERENCES | {"depends_on"}):
            for expression in template_expressions(text):
                for match in _TRAVERSAL.finditer(expression):
                    address = self._root(*match.groups())
                    if address is not None:
                        found.add(self._resolve(address, text))
        return found

    def resolved_references(self, value: Any) -> set[str]:
        """References, with each local replaced by what it refers to, transitively: what a value
        that goes through locals finally reads."""
        found: set[str] = set()
        pending = list(self.references(value))
        while pending:
            address = pending.pop()
            if address in found:
                continue
            found.add(address)
            if address.startswith("local."):
                pending.extend(self.edges[address])
        return {address for address in found if not address.startswith("local.")}

    def _root(self, first: str, second: str, third: str | None) -> str | None:
        if first == "data":
            return f"data.{second}.{third}" if third else None
        if first in ("local", "var", "module"):
            return f"{first}.{second}"
        if first in self.resource_types:
            return f"{first}.{second}"
        return None  # count.index, each.key, self.x, path.module, a for-expression's variable

    def _resolve(self, address: str, where: str) -> str:
        if address not in self.bodies:
            raise KeyError(f"{where!r} refers to {address}, which the stack does not declare")
        return address

    # ------------------------------------------------------------------ asking the graph

    def predecessors(self, node: str) -> frozenset[str]:
        """Every node Terraform finishes before it starts `node`."""
        return self._closure[node]

    def comes_after(self, node: str, other: str) -> bool:
        return other in self.predecessors(node)

    @cached_property
    def _closure(self) -> dict[str, frozenset[str]]:
        closure: dict[str, frozenset[str]] = {}

        def visit(node: str, path: tuple[str, ...]) -> frozenset[str]:
            if node in closure:
                return closure[node]
            if node in path:
                raise CycleError(list(path[path.index(node) :]) + [node])
            found: set[str] = set()
            for predecessor in self.edges[node]:
                found.add(predecessor)
                found |= visit(predecessor, (*path, node))
            closure[node] = frozenset(found)
            return closure[node]

        for node in self.edges:
            visit(node, ())
        return closure

    def of_type(self, resource_type: str) -> dict[str, Any]:
        """Resources (or, for `data.TYPE`, data sources) of one type, by address."""
        return {
            address: body
            for address, body in self.bodies.items()
            if address.rsplit(".", 1)[0] == resource_type
        }

    def roots_of_type(self, value: Any, resource_type: str) -> set[str]:
        """The resources of one type that value reads, through locals too."""
        return {a for a in self.resolved_references(value) if a.rsplit(".", 1)[0] == resource_type}


class CycleError(Exception):
    """Terraform refuses a configuration whose references and depends_on form a cycle."""


def body_depends_on(body: Any) -> list[str]:
    depends_on = body.get("depends_on", []) if isinstance(body, dict) else []
    return list(depends_on)


def _addresses(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for resource_type, resources in document.get("resource", {}).items():
        for name in resources:
            yield "resource", f"{resource_type}.{name}"
    for data_type, sources in document.get("data", {}).items():
        for name in sources:
            yield "data", f"data.{data_type}.{name}"
    for name in document.get("locals", {}):
        yield "locals", f"local.{name}"
    for name in document.get("variable", {}):
        yield "variable", f"var.{name}"
    for name in document.get("output", {}):
        yield "output", f"output.{name}"
    for name in document.get("module", {}):
        yield "module", f"module.{name}"


def _body(document: Mapping[str, Any], kind: str, address: str) -> Any:
    parts = address.split(".")
    if kind == "resource":
        return document["resource"][parts[0]][parts[1]]
    if kind == "data":
        return document["data"][parts[1]][parts[2]]
    return document[kind][parts[1]]
