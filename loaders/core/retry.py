"""Retries: exponential backoff with full jitter, honouring a source's `Retry-After` hint.

Sources raise `TransientSourceError` (or `RateLimitedError`) for failures worth retrying: timeouts,
5xx answers, throttling. The pipeline retries those around reads, re-opening the stream from the
last committed cursor; the bronze writer retries Delta commit conflicts after re-checking that the
batch has not landed meanwhile. Everything else fails at once: retrying a wrong password only
locks the account.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from lakehouse.core.errors import SourceError

T = TypeVar("T")


class TransientSourceError(SourceError):
    """A source failure that may pass: the load retries it with backoff."""

    def __init__(
        self,
        cause: str,
        fix: str = "nothing, if it passes; otherwise check that the source is reachable and healthy",
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(cause, fix)
        self.retry_after = retry_after


class RateLimitedError(TransientSourceError):
    """The source asked us to slow down (HTTP 429 and friends); `retry_after` is its hint in seconds."""


class QuotaExhaustedError(SourceError):
    """The source's daily (or monthly) quota is spent: retrying now is pointless.

    The pipeline ends the stream's load cleanly with status `stopped`: what was committed stays, and
    the next run resumes from the committed cursor once the quota has reset.
    """


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 0.5
    max_seconds: float = 30.0
    # A source may ask for a long pause; beyond this we would rather fail and let the schedule retry.
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, error: BaseException | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempts count from 1)."""
        hint = retry_after_of(error) if error is not None else None
        if hint is not None:
            return min(max(hint, 0.0), self.max_retry_after)
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        return self.rng.uniform(0.0, ceiling)  # full jitter: concurrent clients spread out


def retry_after_of(error: BaseException) -> float | None:
    """The `Retry-After` hint an exception carries: its own attribute or an HTTP response's header."""
    value: Any = getattr(error, "retry_after", None)
    if value is None:
        headers = getattr(getattr(error, "response", None), "headers", None)
        if headers is not None:
            value = headers.get("Retry-After")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_retry_after(value)
    return None


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """`Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TransientSourceError)


def call_with_retry(
    action: Callable[[], T],
    *,
    policy: RetryPolicy,
    retry_on: Callable[[BaseException], bool] = is_transient,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    """Run `action`, retrying the errors `retry_on` accepts, at most `policy.max_attempts` times in all."""
    attempt = 1
    while True:
        try:
            return action()
        except Exception as exc:
            if attempt >= policy.max_attempts or not retry_on(exc):
                raise
            wait = policy.delay(attempt, exc)
            if on_retry is not None:
                on_retry(attempt, wait, exc)
            policy.sleep(wait)
            attempt += 1
