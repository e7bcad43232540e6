"""Retries: full-jitter backoff, Retry-After hints, attempt limits; no real sleeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from lakehouse.core.errors import ConfigError
from loaders.core.retry import (
    RateLimitedError,
    RetryPolicy,
    TransientSourceError,
    call_with_retry,
    parse_retry_after,
    retry_after_of,
)


def policy(**overrides: object) -> tuple[RetryPolicy, list[float]]:
    slept: list[float] = []
    settings = {"max_attempts": 5, "base_seconds": 1.0, "max_seconds": 8.0, "sleep": slept.append}
    settings.update(overrides)
    settings.setdefault("rng", random.Random(7))
    return RetryPolicy(**settings), slept  # type: ignore[arg-type]


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    retry, _ = policy()
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        delays = [retry.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed step


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    first, _ = policy(rng=random.Random(3))
    second, _ = policy(rng=random.Random(3))
    assert [first.delay(n) for n in range(1, 6)] == [second.delay(n) for n in range(1, 6)]


def test_retry_after_hint_wins_over_backoff_and_is_capped() -> None:
    retry, _ = policy(max_retry_after=60.0)
    assert retry.delay(1, RateLimitedError("429 from the API", retry_after=12)) == 12.0
    assert retry.delay(1, RateLimitedError("429 from the API", retry_after=3_600)) == 60.0


def test_retry_after_is_read_from_an_http_response_header() -> None:
    error = Exception("throttled")
    error.response = SimpleNamespace(headers={"Retry-After": "7"})  # type: ignore[attr-defined]
    assert retry_after_of(error) == 7.0


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None


def test_transient_errors_are_retried_until_success() -> None:
    retry, slept = policy()
    calls = iter([TransientSourceError("timeout"), RateLimitedError("429", retry_after=2), "ok"])

    def flaky() -> str:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retry(flaky, policy=retry) == "ok"
    assert len(slept) == 2
    assert slept[1] == 2.0  # the source's own hint


def test_retries_stop_at_max_attempts() -> None:
    retry, slept = policy(max_attempts=3)
    attempts = []

    def always_down() -> None:
        attempts.append(1)
        raise TransientSourceError("connection reset")

    with pytest.raises(TransientSourceError):
        call_with_retry(always_down, policy=retry)
    assert len(attempts) == 3
    assert len(slept) == 2


def test_permanent_errors_are_not_retried() -> None:
    retry, slept = policy()

    def wrong_password() -> None:
        raise ConfigError("authentication failed", "check the password")

    with pytest.raises(ConfigError):
        call_with_retry(wrong_password, policy=retry)
    assert slept == []
