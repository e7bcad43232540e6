"""Shared fixtures: real servers, started once per session, each in its own temporary home.

Nothing here skips: when Java, the jars or the `weed` binary are missing, the fixture fails with
the platform's own error, which names the fix (`.ci/run` installs all of them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.s3 import SeaweedS3
from tests.support import SparkServer, free_port, start_spark

__all__ = ["SparkServer", "free_port", "start_spark"]


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the tests' servers, metastores and dbt artifacts out of the developer's `.lakehouse/`."""
    home = tmp_path_factory.mktemp("lakehouse-home")
    saved = {
        k: os.environ.get(k) for k in ("LAKEHOUSE_HOME", "DBT_TARGET_PATH", "DBT_LOG_PATH", "LAKEHOUSE_SPARK_MEMORY")
    }
    os.environ["LAKEHOUSE_HOME"] = str(home)
    os.environ["DBT_TARGET_PATH"] = str(home / "dbt-target")
    os.environ["DBT_LOG_PATH"] = str(home / "dbt-logs")
    os.environ["LAKEHOUSE_SPARK_MEMORY"] = "2g"
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@dataclass
class S3Server:
    store: SeaweedS3
    bucket: str

    def env(self) -> dict[str, str]:
        return self.store.env()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real SeaweedFS S3 gateway on a free loopback port, with a bucket `lakehouse-test`."""
    store = SeaweedS3(port=free_port(), home=tmp_path_factory.mktemp("s3"))
    store.start(bucket="lakehouse-test")
    yield S3Server(store, "lakehouse-test")
    store.stop()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """Point the AWS variables at the local S3 server for one test."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return s3_server


@pytest.fixture(scope="session")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> LakehouseRoot:
    return LakehouseRoot.parse(str(tmp_path_factory.mktemp("root")))


@pytest.fixture(scope="session")
def spark_local(local_root: LakehouseRoot) -> Iterator[SparkServer]:
    """The local Spark Thrift server over a temporary local root, for the whole session."""
    spark = start_spark(local_root)
    yield spark
    spark.server.stop()
