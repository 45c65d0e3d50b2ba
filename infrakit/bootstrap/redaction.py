"""Keep secrets out of everything the bootstrap prints or logs.

A password with an unencoded '@', '/', '#' or '?' makes a URL ambiguous: each parser (urllib,
libpq, redis-py, httpx) cuts it at a different place and reports the rest as host, port or path,
where a search for the whole password no longer finds it. So every URL is checked first
(`userinfo_problem`, which never quotes the URL), and redaction masks each spelling a parser may
have taken for the password, and each piece of it between those delimiters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
# In any text: scheme://user:pw@host -> scheme://user:***@host  # checkov:skip=CKV_SECRET_4: example
# The password runs to the last '@' before a space or quote: an unencoded '@' in it is masked too.
_URL_PASSWORD = re.compile(r"(?P<prefix>[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)(?P<password>[^\s'\"]+)(?=@)", re.I)
# Where parsers may cut an ambiguous password; what lies between two of them may be printed alone.
DELIMITERS = "@/#?:%"
_DELIMITER = re.compile(f"[{re.escape(DELIMITERS)}]")
# Pieces shorter than this are too common to mask without hiding ordinary words ("db", "5432").
SHORTEST_PIECE = 3
SHORTEST_SECRET = 4


def redact_url(url: str) -> str:
    """A URL safe to print: any password replaced by ***, everything else kept.

    An ambiguous URL (see `userinfo_problem`) keeps only its scheme: its host is not known for sure.
    """
    if userinfo_problem(url):
        return f"{url.partition('://')[0]}://{MASK}" if "://" in url else MASK
    try:
        parts = urlsplit(url)
        password, user, host, port = parts.password, parts.username or "", parts.hostname or "", parts.port
    except ValueError:
        return MASK
    if password is None:
        return url
    if port:
        host = f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def userinfo_problem(url: str, variable: str = "the URL") -> str | None:
    """Why the user or password of `url` cannot be read the same way by every parser; None when it can.

    The message never quotes the URL. Looked at: the text between '://' and the last '@'. In a
    well-formed URL it holds only `user:password`, where '@', '/', '?' and '#' must be
    percent-encoded (%40, %2F, %3F, %23), and '%' must start such a code.
    """
    _, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return None
    userinfo = rest.rpartition("@")[0]
    unencoded = sorted({c for c in userinfo if c in "@/?#"})
    bad_percent = re.search(r"%(?![0-9A-Fa-f]{2})", userinfo) is not None
    if not unencoded and not bad_percent:
        return None
    found = [f"'{c}'" for c in unencoded] + (["a '%' not followed by two hex digits"] if bad_percent else [])
    return (
        f"{variable}: its user or password holds {', '.join(found)}, which must be percent-encoded "
        "(@ as %40, / as %2F, ? as %3F, # as %23, % as %25): as it is, part of the password would be "
        "read as the host or path"
    )


def url_secrets(url: str | None) -> list[str]:
    """Every spelling of the password in `url` that some parser may report: urllib's, libpq's
    (up to the first '@'), and everything up to the last '@'; each also percent-decoded."""
    if not url or "://" not in url:
        return []
    rest = url.partition("://")[2]
    found: list[str] = []
    for userinfo in (rest.partition("@")[0] if "@" in rest else "", rest.rpartition("@")[0]):
        if ":" in userinfo:
            found.append(userinfo.partition(":")[2])
    with suppress(ValueError):  # an invalid IPv6 host: the other spellings still count
        found.append(urlsplit(url).password or "")
    found += [unquote(s) for s in found]
    return [s for s in dict.fromkeys(found) if s]


def _pieces(secret: str) -> Iterator[str]:
    """The secret, then every run of its pieces between delimiters, for masking in that order."""
    if len(secret) >= SHORTEST_SECRET:
        yield secret
    pieces = _DELIMITER.split(secret)
    if len(pieces) == 1:
        return
    # Runs of neighbouring pieces with the delimiters between them, e.g. "b#c" of "a@b#c".
    bounds = [0, *(m.end() for m in _DELIMITER.finditer(secret))]
    ends = [*(m.start() for m in _DELIMITER.finditer(secret)), len(secret)]
    for first in range(len(bounds)):
        for last in range(first, len(ends)):
            run = secret[bounds[first] : ends[last]]
            if len(run) >= SHORTEST_PIECE:
                yield run


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask passwords inside URLs, then every known secret value and its pieces (longest first)."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['prefix']}{MASK}", text)
    masks = {piece for secret in secrets if secret for piece in _pieces(secret)}
    for piece in sorted(masks, key=len, reverse=True):
        text = text.replace(piece, MASK)
    return text
