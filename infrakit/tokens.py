"""Whether a value is a cdktn token, without a round trip to Node for a string that holds none."""

from __future__ import annotations

from infrakit.cdk import Token

# cdktn 0.24.0, lib/tokens/private/encoding.js (in the jsii tarball cdktn/_jsii/cdktn@0.24.0.jsii.tgz),
# BEGIN_STRING_TOKEN_MARKER: every string token cdktn hands out (TokenMap.registerString) is
# "${TfToken[<key>]}". List and map tokens begin "#{TfToken[" and "&{TfToken[" instead; as plain
# strings, cdktn does not count those as unresolved (see below).
STRING_TOKEN_MARKER = "${TfToken["


def is_unresolved(value: object) -> bool:
    r"""`Token.is_unresolved(value)`, answered in Python for a string without the token marker.

    cdktn's `Token.isUnresolved` is `unresolved()` in lib/tokens/private/encoding.js. For a string
    that is `TokenString.forString(s).test()`, a search for STRING_TOKEN_REGEX,
    `\$\{TfToken\[([a-zA-Z0-9:._-]+)\]\}`, which cannot match without STRING_TOKEN_MARKER: such a
    string is resolved. Everything else still goes to cdktn: a string with the marker; a number,
    where a token is a double with 0xfdff in its top 16 bits (`extractTokenDouble`), which a Python
    int can carry too; a one-element list (a list token); an object with a map-token key; a
    resolvable.
    """
    if isinstance(value, str) and STRING_TOKEN_MARKER not in value:
        return False
    return Token.is_unresolved(value)
