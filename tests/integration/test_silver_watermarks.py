"""Silver's incremental watermark is per upstream relation: a batch committed late is never skipped.

On the fixture project tests/dbt_fixtures/watermarks (the main project's `loaded_since_last_build`,
over two bronze-like Delta tables written here with deltalake, stamping `_loaded_at` as the loader
does just before its commit): feed A commits a batch and silver is built; then feed B commits a batch
whose `_loaded_at` is EARLIER than A's newest (its load started first and committed last). The next
build must still carry B's batch into both model shapes silver uses: a union and a join.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult
from deltalake import write_deltalake

from lakehouse.catalog import thrift_cursor
from tests.helpers.spark import PROJECT_DIR, SparkServer

FIXTURE_PROJECT = PROJECT_DIR / "tests" / "dbt_fixtures" / "watermarks"
BRONZE = "wm_fixture_bronze"
SILVER = "wm_fixture"
SCHEMA = pa.schema([("record_id", pa.string()), ("label", pa.string()), ("_loaded_at", pa.timestamp("us", tz="UTC"))])


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


@dataclass
class Fixture:
    spark: SparkServer
    folder: Path
    target: Path

    def query(self, sql: str) -> list[tuple]:
        with thrift_cursor(self.spark.endpoint) as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def commit(self, feed: str, labels: dict[str, str], loaded_at: datetime) -> None:
        """One loader batch: the rows of `labels` (record_id -> label), stamped `loaded_at`, one Delta commit."""
        rows = [{"record_id": key, "label": label, "_loaded_at": loaded_at} for key, label in labels.items()]
        write_deltalake(str(self.folder / feed), pa.Table.from_pylist(rows, schema=SCHEMA), mode="append")

    def dbt(self, *args: str) -> dbtRunnerResult:
        common = ["--project-dir", str(FIXTURE_PROJECT), "--profiles-dir", str(PROJECT_DIR / "dbt")]
        return dbtRunner().invoke([*args, *common, "--target-path", str(self.target), "--threads", "2"])

    def build(self) -> None:
        result = self.dbt("run")
        assert result.exception is None and result.success, f"dbt run failed: {result.exception} {messages(result)}"


def messages(result: dbtRunnerResult) -> list[str]:
    return [str(node.message) for node in getattr(result.result, "results", None) or [] if node.message]


@pytest.fixture(scope="module")
def fixture(spark_local: SparkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    folder = tmp_path_factory.mktemp("watermark-bronze")
    made = Fixture(spark_local, folder, tmp_path_factory.mktemp("watermark-target"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_TARGET", "local")
        env.setenv("LAKEHOUSE_THRIFT_HOST", spark_local.endpoint.host)
        env.setenv("LAKEHOUSE_THRIFT_PORT", str(spark_local.endpoint.port))
        for schema in (SILVER, BRONZE):
            made.query(f"drop schema if exists {schema} cascade")
        made.query(f"create schema {BRONZE}")
        for feed in ("feed_a", "feed_b"):
            write_deltalake(str(folder / feed), SCHEMA.empty_table(), mode="append")
            made.query(f"create table {BRONZE}.{feed} using delta location '{(folder / feed).as_uri()}'")
        yield made
        for schema in (SILVER, BRONZE):
            made.query(f"drop schema if exists {schema} cascade")


def test_a_batch_committed_late_with_an_earlier_load_time_reaches_silver(fixture: Fixture) -> None:
    fixture.commit("feed_a", {"r1": "a1", "r2": "a2"}, at(10))
    fixture.commit("feed_b", {"r1": "b1"}, at(10, 5))
    fixture.build()  # first build: everything

    fixture.commit("feed_a", {"r3": "a3"}, at(12))
    fixture.build()  # A's newest load time in silver is now 12:00

    # B's load started at 11:00 and committed only now, after the build that saw A's 12:00.
    fixture.commit("feed_b", {"r1": "b1-late", "r2": "b2-late"}, at(11))
    fixture.build()

    events = dict(fixture.query(f"select event_id, label from {SILVER}.feed_events"))
    assert events == {"a:r1": "a1", "a:r2": "a2", "a:r3": "a3", "b:r1": "b1-late", "b:r2": "b2-late"}
    joined = fixture.query(f"select record_id, a_label, b_label from {SILVER}.feed_records")
    records = {row[0]: row[1:] for row in joined}
    assert records == {"r1": ("a1", "b1-late"), "r2": ("a2", "b2-late"), "r3": ("a3", None)}


def test_a_model_reading_two_relations_without_a_watermark_each_does_not_compile(fixture: Fixture) -> None:
    result = fixture.dbt("compile", "--select", "unguarded_events", "--vars", "{include_unguarded: true}")
    assert not result.success
    error = str(result.exception or "") + " ".join(messages(result))
    assert "unguarded_events calls loaded_since_last_build 2 times" in error, error
    assert "watermark_rows" in error and "watermark_column" in error
