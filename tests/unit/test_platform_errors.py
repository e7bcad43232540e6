"""Bad configuration reaches the user as one clear error naming the cause and the fix, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from tests.support import free_port

runner = CliRunner()


def test_root_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="does not exist") as error:
        LakehouseRoot.parse(str(missing))
    assert f"mkdir -p {missing}" in error.value.fix


def test_root_that_does_not_exist_through_the_cli(tmp_path: Path) -> None:
    result = runner.invoke(app, ["load", "shop"], env={"LAKEHOUSE_ROOT": str(tmp_path / "nowhere")})
    assert result.exit_code == 2
    assert "does not exist" in result.output and "fix:" in result.output
    assert "Traceback" not in result.output


def test_unsupported_root_scheme() -> None:
    with pytest.raises(ConfigError, match="unsupported scheme 'gs'"):
        LakehouseRoot.parse("gs://bucket")


def test_unreachable_thrift_port_through_the_cli() -> None:
    port = free_port()
    result = runner.invoke(app, ["dbt", "build"], env={"LAKEHOUSE_THRIFT_PORT": str(port)})
    assert result.exit_code == 2
    assert f"cannot reach the Spark Thrift server at 127.0.0.1:{port}" in result.output
    assert "lakehouse spark start" in result.output


def test_s3_root_forms() -> None:
    root = LakehouseRoot.parse("s3://my-bucket/lake")
    assert root.uri == "s3://my-bucket/lake"
    assert root.spark_uri == "s3a://my-bucket/lake"
    assert root.bronze_uri("shop", "orders") == "s3://my-bucket/lake/bronze/shop/orders"


@pytest.mark.s3
def test_missing_bucket_is_a_clear_error(s3_env) -> None:
    with pytest.raises(ConfigError, match="the bucket 'no-such-bucket' does not exist") as error:
        LakehouseRoot.parse("s3://no-such-bucket").check()
    assert "create it" in error.value.fix


@pytest.mark.s3
def test_missing_bucket_through_the_cli(s3_env) -> None:
    result = runner.invoke(app, ["load", "shop"], env={"LAKEHOUSE_ROOT": "s3://no-such-bucket"})
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.s3
def test_wrong_s3_credentials_are_a_clear_error(s3_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ConfigError, match="denied") as error:
        LakehouseRoot.parse(f"s3://{s3_env.bucket}").check()
    assert "AWS_ACCESS_KEY_ID" in error.value.fix
