"""Shared fixtures: real servers, started once per session, each in its own temporary home.

- `spark_local`: the Spark Thrift server over a temporary local root; `spark_factory`: a server with an
  empty metastore for a module's own root (on a local root, the worker's one scratch server, emptied);
  `s3_server` / `s3_env`: SeaweedFS;
- `root`: a fresh lakehouse root per test, once on a local folder and once on the S3 server;
- `postgres_server` / `mariadb_server`: private PostgreSQL and MariaDB instances (modules create and
  drop their own databases in them);
- `kafka_server` (Apache Kafka 4.x, KRaft), `mosquitto_server` (MQTT; also over TLS with client
  certificates), `moto_server` (Kinesis):
  the streaming servers (tests/helpers/stream_servers.py); tests use topics and streams of their own;
- `company_lakehouse`: the generated company loaded and built by dbt, once (tests/helpers/company_lakehouse.py).

Markers are applied from the fixtures a test uses: `spark` (the Thrift server), `s3` (the S3 server),
`servers` (PostgreSQL, MariaDB and every other `*_server` fixture),
so `pytest -m "not spark"` is a fast subset. Tests marked
`mutates_company_lakehouse` run after all the others. `make test` runs two pytest-xdist workers
(`--dist loadgroup`): the company lakehouse's tests form one group, kept on one worker in that order,
each other module is a group, and each goes to whichever worker is free (each worker starts its own
session servers).

Nothing here skips: when Java, the jars, a server binary is missing, the fixture fails with the
platform's own error, which names the fix (`.ci/run` installs all of them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from lakehouse.catalog import thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.s3 import SeaweedS3
from tests.helpers.company_lakehouse import CompanyLakehouse, build_company_lakehouse
from tests.helpers.loader_io import ROOT_KINDS, lakehouse_root
from tests.helpers.servers import MariaDbServer, PostgresServer
from tests.helpers.spark import SparkServer, free_port, start_spark, stop_spark
from tests.helpers.stream_servers import KafkaServer, MosquittoServer, MotoServer

SPARK_FIXTURES = {"spark_local", "company_lakehouse", "spark_factory"}
S3_FIXTURES = {"s3_server", "s3_env"}
SERVER_FIXTURES = {"postgres_server", "mariadb_server"}
COMPANY_FIXTURES = {"company_lakehouse", "next_day"}


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


@pytest.fixture(autouse=True)
def fresh_boto3_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3's default session keeps the credentials it first found: a test that ran with moto's
    `testing` keys would otherwise sign the next test's SeaweedFS requests with them."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


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
    stop_spark([spark])


@pytest.fixture(scope="session")
def scratch_spark() -> Iterator[list[SparkServer]]:
    """The worker's second Thrift server, which `spark_factory` lends to one module at a time."""
    held: list[SparkServer] = []
    yield held
    stop_spark(held)


@pytest.fixture(scope="module")
def spark_factory(
    tmp_path_factory: pytest.TempPathFactory, scratch_spark: list[SparkServer]
) -> Iterator[Callable[[LakehouseRoot], SparkServer]]:
    """A Thrift server with an empty metastore for a root of the module's own (for a suite that builds
    the project's schemas, which the company lakehouse on `spark_local` also uses).

    On a local root it is the worker's scratch server, emptied first: every database but `default` is
    dropped. Each layer database is created with its location on the module's root (`load_and_register`,
    `ensure_layer_databases`), so the module's tables land on its own root. Reusing it saves a server
    start: about 25 CPU-s before a fresh server has written its first table.
    On an S3 root it is a server of its own (its S3 settings are fixed when it starts), stopped when the
    module ends, killed after 2 s: under a CI run's load a used server did not finish its SIGTERM
    shutdown within 10 s. Each server has a home of its own: one home runs one server, and the
    session's home may already run `spark_local`'s."""
    started: list[SparkServer] = []

    def own_server(root: LakehouseRoot) -> SparkServer:
        with pytest.MonkeyPatch.context() as env:  # the server keeps its state folder once made
            env.setenv("LAKEHOUSE_HOME", str(tmp_path_factory.mktemp("spark-home")))
            return start_spark(root)

    def start(root: LakehouseRoot) -> SparkServer:
        if root.scheme != "file":
            started.append(own_server(root))
            return started[-1]
        if not scratch_spark:
            scratch_spark.append(own_server(root))
            return scratch_spark[0]
        scratch = scratch_spark[0]
        empty_metastore(scratch)
        return SparkServer(root, scratch.endpoint, scratch.server)

    yield start
    stop_spark(started)


def empty_metastore(spark: SparkServer) -> None:
    with thrift_cursor(spark.endpoint) as cursor:
        cursor.execute("show databases")
        for (database,) in cursor.fetchall():
            if database != "default":
                cursor.execute(f"drop database `{database}` cascade")


@pytest.fixture(params=ROOT_KINDS)
def root(request: pytest.FixtureRequest, tmp_path: Path) -> LakehouseRoot:
    """A fresh lakehouse root: a local folder, and a fresh prefix in the S3 server's bucket."""
    return lakehouse_root(request, tmp_path, request.param)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDbServer]:
    server = MariaDbServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_server() -> Iterator[KafkaServer]:
    server = KafkaServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mosquitto_server() -> Iterator[MosquittoServer]:
    server = MosquittoServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def company_lakehouse(spark_local: SparkServer, tmp_path_factory: pytest.TempPathFactory) -> CompanyLakehouse:
    """The generated company, loaded and built once for the silver, marts and end-to-end suites."""
    return build_company_lakehouse(tmp_path_factory.mktemp("company-home"), spark_local)


@pytest.fixture(scope="session")
def next_day(company_lakehouse: CompanyLakehouse) -> int:
    """One more day of the company (new rows, updates, deletes, late and dirty records), loaded into
    bronze and registered, not yet built; rows loaded. Only for tests marked `mutates_company_lakehouse`."""
    company_lakehouse.advance_one_day()
    return sum(company_lakehouse.load().values())


@pytest.hookimpl(wrapper=True)  # around every other impl: pytest-xdist's reads the `xdist_group` marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if used & SPARK_FIXTURES:
            item.add_marker(pytest.mark.spark)
        if used & S3_FIXTURES or params.get("root") == "s3":
            item.add_marker(pytest.mark.s3)
        if used & SERVER_FIXTURES or any(name.endswith("_server") and name != "s3_server" for name in used):
            item.add_marker(pytest.mark.servers)
        # With `pytest -n N --dist loadgroup` (make test), a group runs on one worker, in this order: every
        # test of the company lakehouse (built once per session), and otherwise each module (its module-scoped
        # servers start once, and no two workers share a module's fixed names, such as the SFTP OS user).
        item.add_marker(pytest.mark.xdist_group("company" if used & COMPANY_FIXTURES else item.nodeid.split("::")[0]))
    # Tests that change the shared company lakehouse go last, so every other test sees it as built; those
    # marked `last=True` (the erasure, which leaves orders without their erased customer) after them.
    items.sort(key=_mutation_order)
    return (yield)


def _mutation_order(item: pytest.Item) -> tuple[bool, bool]:
    marker = item.get_closest_marker("mutates_company_lakehouse")
    return marker is not None, bool(marker and marker.kwargs.get("last"))
