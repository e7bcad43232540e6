"""A wrong S3 root (missing bucket, wrong credentials) is one clear error, checked against the real S3 server."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot

runner = CliRunner()


def test_missing_bucket_is_a_clear_error(s3_env) -> None:
    with pytest.raises(ConfigError, match="the bucket 'no-such-bucket' does not exist") as error:
        LakehouseRoot.parse("s3://no-such-bucket").check()
    assert "create it" in error.value.fix


def test_missing_bucket_through_the_cli(s3_env) -> None:
    result = runner.invoke(app, ["load", "shop"], env={"LAKEHOUSE_ROOT": "s3://no-such-bucket"})
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_wrong_s3_credentials_are_a_clear_error(s3_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ConfigError, match="denied") as error:
        LakehouseRoot.parse(f"s3://{s3_env.bucket}").check()
    assert "AWS_ACCESS_KEY_ID" in error.value.fix
