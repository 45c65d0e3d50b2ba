"""Keep secrets out of everything the bootstrap prints or logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# In any text: scheme://user:pw@host -> scheme://user:***@host  # checkov:skip=CKV_SECRET_4: example
_URL_PASSWORD = re.compile(r"(?P<prefix>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s/]+)(?=@)", re.I)


def redact_url(url: str) -> str:
    """A URL safe to print: any password replaced by ***, everything else kept."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask passwords inside URLs, then every known secret value (longest first)."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['prefix']}{MASK}", text)
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
