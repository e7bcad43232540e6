"""Redaction: secret values, in the encodings drivers print them in, never survive into text."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import SourceConfig
from loaders.core.redact import MASK, Redactor, redacted_error
from loaders.core.retry import RateLimitedError

SECRET = "s3cr3t/p@ss word"


def test_scrub_masks_the_secret_and_its_encodings() -> None:
    redactor = Redactor([SECRET])
    text = f"login {SECRET} failed; dsn=postgresql://app:{quote(SECRET, safe='')}@db/x; repr={SECRET!r}"
    scrubbed = redactor.scrub(text)
    assert SECRET not in scrubbed
    assert quote(SECRET, safe="") not in scrubbed
    assert MASK in scrubbed


def test_very_short_values_are_not_treated_as_secrets() -> None:
    assert Redactor(["42"]).scrub("port 42 refused") == "port 42 refused"


def test_redacted_error_keeps_the_class_and_drops_the_secret() -> None:
    original = RateLimitedError(f"429 for token {SECRET}", f"rotate {SECRET}", retry_after=5)
    clean = redacted_error(original, Redactor([SECRET]), "src.stream")
    assert type(clean) is RateLimitedError
    assert SECRET not in str(clean)
    assert clean.retry_after == 5  # type: ignore[attr-defined]
    assert clean.__cause__ is None and clean.__context__ is None


def test_foreign_errors_become_source_errors_without_the_secret() -> None:
    clean = redacted_error(ConnectionRefusedError(f"connect to user:{SECRET}@db"), Redactor([SECRET]), "src.s")
    assert isinstance(clean, SourceError)
    assert SECRET not in str(clean)
    assert "ConnectionRefusedError" in clean.cause


def test_secret_values_come_from_references_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LH_UNIT_PASSWORD", SECRET)
    config = SourceConfig.model_validate(
        {
            "source": "crm",
            "type": "files",
            "options": {"path": "data", "dsn": "postgresql://app:${LH_UNIT_PASSWORD}@db/crm", "other": "${MISSING_X}"},
            "streams": [{"name": "accounts", "token": "${LH_UNIT_PASSWORD}"}],
        }
    ).model_copy(update={"path": tmp_path / "crm.yml"})
    assert config.secret_values() == [SECRET, SECRET]
    with pytest.raises(ConfigError):  # resolving for real still refuses the missing one
        config.resolved_options()
