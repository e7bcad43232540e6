"""Bad configuration reaches the user as one clear error naming the cause and the fix, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from tests.helpers.spark import free_port

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
