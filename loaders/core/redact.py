"""Keep secret values out of everything a load leaves behind: logs, the ledger, exceptions.

A `Redactor` knows the resolved values of a source's `${...}` references and scrubs them (and the
encodings a driver is likely to print them in: URL-quoted, JSON- and repr-escaped) from any text.
Errors leave the pipeline only through `redacted_error`, which rebuilds them from scrubbed text so
the original exception, which may quote a connection string, is not chained to the new one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from lakehouse.core.errors import LakehouseError, SourceError

MASK = "***"
# Shorter values cannot be meaningful secrets, and scrubbing them would garble every message.
MIN_SECRET_LENGTH = 4


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                variants.update(_encodings(secret))
        # Longest first, so a secret that contains another is masked whole.
        self._variants = sorted((v for v in variants if v), key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._variants)

    def scrub(self, text: str) -> str:
        for variant in self._variants:
            text = text.replace(variant, MASK)
        return text

    def describe(self, exc: BaseException) -> str:
        """One line for logs and the ledger: the error's class and its scrubbed message."""
        if isinstance(exc, LakehouseError):
            return self.scrub(exc.cause)
        return self.scrub(f"{type(exc).__name__}: {exc}")


def _encodings(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1], repr(secret)[1:-1]}


def redacted_error(exc: BaseException, redactor: Redactor, context: str) -> LakehouseError:
    """A LakehouseError with the same meaning as `exc` and no secret in it.

    Raise the result outside the `except` block that caught `exc`, so it carries no `__context__`.
    """
    if isinstance(exc, LakehouseError):
        cause, fix = redactor.scrub(exc.cause), redactor.scrub(exc.fix)
        try:
            clean = type(exc)(cause, fix)
        except TypeError:  # a subclass with a different constructor
            clean = SourceError(cause, fix)
        if hasattr(exc, "retry_after"):
            clean.retry_after = exc.retry_after  # type: ignore[attr-defined]
        return clean
    return SourceError(
        f"{context}: {redactor.describe(exc)}",
        "if the message is about the source, check its settings and that it is reachable; "
        "otherwise report it with the load's id from the ledger (bronze/_ledger)",
    )
