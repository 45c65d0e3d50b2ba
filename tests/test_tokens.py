"""infrakit.tokens.is_unresolved gives cdktn's own answer, asked of cdktn itself.

What this cannot prove: that the two agree on every value, only on the corpus below. That a string
without "${TfToken[" is never a token is read from cdktn's source (lib/tokens/private/encoding.js,
see infrakit/tokens.py), not tested exhaustively. What the corpus does pin down: that real string
tokens, from every kind of producer infrakit uses, carry the marker (a cdktn that changed its
encoding would fail here), and that the look-alikes are answered as cdktn answers them.
"""

from __future__ import annotations

from typing import Any

import pytest

from infrakit.bindings.builtin import TerraformData
from infrakit.cdk import Fn, Id, Password, TerraformLocal, TerraformStack, TerraformVariable, Token
from infrakit.tokens import STRING_TOKEN_MARKER, is_unresolved
from tests.binding_stacks import new_stack

NOT_TOKENS: list[Any] = [
    "",
    "api",
    "https://api.example.com/v1?x=1&y={2}",
    "$",
    "{",
    "}",
    "${",
    "$${literal}",
    "${var.name}",
    "%{ if x }y%{ endif }",
    "TOKEN",
    "TfToken",
    "${TOKEN[TOKEN.1]}",
    "${tftoken[TOKEN.1]}",
    "$ {TfToken[TOKEN.1]}",
    "#{TfToken[TOKEN.1]}",  # a list token's element, which as a string cdktn does not count
    "&{TfToken[TOKEN.1]}",  # a map token's key, likewise
    "ünïcödé ${ 🙂 }",
    " " * 1000,
]
MARKED_STRINGS: list[Any] = [
    STRING_TOKEN_MARKER,  # the marker alone: not a token, cdktn decides
    "${TfToken[]}",
    "${TfToken[not a key]}",
    "${TfToken[TOKEN.1]",
    "${TfToken[TOKEN.999999]}",  # well formed but never issued: cdktn's test is its regex alone
    "x${TfToken[TOKEN.0]}y",
]
OTHER_VALUES: list[Any] = [None, True, False, 0, 1, -1, 2**53 + 1, 0.5, -1.5e300, [], ["api"], {}, {"a": "b"}]


def string_tokens(stack: TerraformStack) -> list[str]:
    """String tokens, made the ways infrakit makes them: every one is unresolved to cdktn."""
    result = Password(stack, "password", length=16, special=False).result
    resource_id = Id(stack, "id", byte_length=4).hex  # a prebuilt provider's attribute
    # a hand-written binding's attribute (infrakit/bindings)
    data_id = TerraformData(stack, "data", input_={"generation": 1}).get_string_attribute("id")
    variable = TerraformVariable(stack, "text", type="string").string_value
    return [
        result,
        resource_id,
        data_id,
        variable,
        TerraformLocal(stack, "local", Fn.trimprefix(result, "https://")).as_string,
        f"https://{result}/path",
        f"{result}{resource_id}",
        f"postgres://user:{variable}@{data_id}:5432/db",
        Fn.upper(result),
        Fn.join(",", Token.as_list(result)),
        Fn.jsonencode({"key": result}),
        Fn.lookup(Token.as_string_map(result), "key", "default"),
        Token.as_string(Token.as_number(result)),
    ]


def other_tokens(stack: TerraformStack) -> list[Any]:
    """List, map and number tokens, and what they are made of, which cdktn judges one by one."""
    result = Password(stack, "other-password", length=16, special=False).result
    as_list = Token.as_list(result)  # ["#{TfToken[...]}"]
    list_value = TerraformVariable(stack, "list", type="list(string)").list_value
    as_number = Token.as_number(result)  # a double tagged 0xfdff in its top 16 bits
    return [
        as_list,
        as_list[0],
        list_value,
        list_value[0],
        Token.as_string_map(result),
        as_number,
        int(as_number),
        str(as_number),
        TerraformVariable(stack, "number", type="number").number_value,
    ]


def test_it_agrees_with_cdktn_on_every_value() -> None:
    stack = new_stack()
    made = string_tokens(stack)
    corpus = NOT_TOKENS + MARKED_STRINGS + OTHER_VALUES + made + other_tokens(stack)
    assert [value for value in corpus if is_unresolved(value) != Token.is_unresolved(value)] == []
    # Real tokens on one side and look-alikes on the other, to cdktn as well.
    assert all(Token.is_unresolved(value) for value in made)
    assert not any(Token.is_unresolved(value) for value in NOT_TOKENS)


def test_real_string_tokens_carry_the_marker() -> None:
    assert all(STRING_TOKEN_MARKER in value for value in string_tokens(new_stack()))


def test_a_string_without_the_marker_never_reaches_node(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: object) -> bool:
        raise AssertionError(f"asked Node about {value!r}")

    monkeypatch.setattr(Token, "is_unresolved", staticmethod(refuse))
    assert not any(is_unresolved(value) for value in NOT_TOKENS)
    with pytest.raises(AssertionError, match="asked Node"):
        is_unresolved(STRING_TOKEN_MARKER)
