"""The one shape of a bootstrap failure that the operator must act on."""

from __future__ import annotations


class OperatorError(Exception):
    """A problem the operator must fix; str() is the whole message and never holds a secret.

    `retryable` is True when waiting may help (no answer, connection refused) and False when
    something must change first (a credential, a URL, a declaration): a retry loop stops at once.
    """

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable
