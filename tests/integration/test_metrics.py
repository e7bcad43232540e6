"""The CloudWatch metrics of the infra alarms, published by `lakehouse load` and `lakehouse metrics publish`
into moto's CloudWatch (`mock_aws`) and read back as the alarms read them: per series, a series being one
exact set of dimensions (GetMetricData; moto's GetMetricStatistics also sums series with more dimensions).

The metric names and dimensions are checked against the synthesized alarms in tests/infra/test_infra.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

import lakehouse.cli
import lakehouse.cli.errors
from lakehouse.catalog import thrift_cursor
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from lakehouse.report import metrics
from loaders.core.ledger import Ledger, LedgerEntry
from tests.helpers.loader_io import ledger_rows, write_csv, write_source
from tests.helpers.spark import SparkServer


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """moto's CloudWatch, and the settings that switch publishing on (the ECS task's, in env `dev`)."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("LAKEHOUSE_CLOUDWATCH_NAMESPACE", "Lakehouse")
    monkeypatch.setenv("LAKEHOUSE_ENV", "dev")
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def statistic(client, name: str, stat: str, **dimensions: str) -> list[float]:
    """The statistic of exactly one series (these dimensions, no more), as an alarm on it sees it: one
    two-hour period around now, so every datapoint the test published falls in it."""
    now = datetime.now(UTC)
    metric = {"Namespace": "Lakehouse", "MetricName": name}
    metric["Dimensions"] = [{"Name": key, "Value": value} for key, value in dimensions.items()]
    answer = client.get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": metric, "Period": 7200, "Stat": stat}}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
    )
    return list(answer["MetricDataResults"][0]["Values"])


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lakehouse.cli.app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A files source with a stream that loads and one that fails (its cursor column does not exist)."""
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path))
    write_csv(tmp_path / "data" / "orders" / "1.csv", ["order_id", "amount"], [(1, 10), (2, 20)])
    write_csv(tmp_path / "data" / "returns" / "1.csv", ["return_id", "updated_at"], [(1, "2026-01-01")])
    streams = [{"name": "orders"}, {"name": "returns", "cursor_field": "modified_at"}]
    write_source(tmp_path, streams, source="shop")
    return tmp_path


def test_load_publishes_its_failed_streams_to_the_series_the_alarm_watches(shop: Path, cloudwatch) -> None:
    code, output = run("load", "shop")
    assert code == 1, output  # a stream failed
    assert "Published 3 LoadFailures datum(s) to CloudWatch namespace Lakehouse" in output
    assert statistic(cloudwatch, "LoadFailures", "Sum", Environment="dev") == [1.0]
    assert statistic(cloudwatch, "LoadFailures", "Sum", Environment="dev", Source="shop", Stream="returns") == [1.0]
    assert statistic(cloudwatch, "LoadFailures", "Sum", Environment="dev", Source="shop", Stream="orders") == [0.0]

    write_source(shop, [{"name": "orders"}, {"name": "returns"}], source="shop")  # fixed
    assert run("load", "shop")[0] == 0
    assert statistic(cloudwatch, "LoadFailures", "Sum", Environment="dev") == [1.0]  # the second run adds 0


def test_a_publisher_without_its_environment_stops_the_load_before_it_starts(
    shop: Path, cloudwatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEHOUSE_ENV")
    code, output = run("load", "shop")
    assert code == 2
    assert "LAKEHOUSE_CLOUDWATCH_NAMESPACE is set but LAKEHOUSE_ENV is not" in output
    assert "fix: export LAKEHOUSE_ENV=dev or prod" in output
    assert ledger_rows(LakehouseRoot.parse(str(shop / "root"))) == []  # nothing loaded
    assert statistic(cloudwatch, "LoadFailures", "Sum", Environment="dev") == []


def test_without_a_namespace_nothing_is_published(shop: Path, cloudwatch, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_CLOUDWATCH_NAMESPACE")
    code, output = run("load", "shop")
    assert code == 1 and "Published" not in output
    assert cloudwatch.list_metrics(Namespace="Lakehouse")["Metrics"] == []


def entry(source: str, stream: str, status: str, finished_at: datetime) -> LedgerEntry:
    return LedgerEntry(
        load_id=uuid.uuid4().hex, pipeline="default", source=source, stream=stream, mode="append", status=status,
        rows_read=0, rows_loaded=0, rows_quarantined=0, rows_rescued=0, bytes=0, batches=0,
        started_at=finished_at - timedelta(seconds=5), finished_at=finished_at, duration_s=5.0,
        error="boom" if status == "failed" else None, cursor_before=None, cursor_after=None,
    )  # fmt: skip


def test_consecutive_slots_publish_each_failed_load_of_the_ledger_once(tmp_path: Path) -> None:
    root = LakehouseRoot.parse(str(tmp_path))
    ledger = Ledger(root)
    at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for row in [
        entry("stripe", "charges", "failed", at - timedelta(seconds=1)),  # the slot before
        entry("stripe", "charges", "failed", at),
        entry("stripe", "charges", "success", at + timedelta(minutes=3)),
        entry("kafka", "order_events", "failed", at + timedelta(minutes=4, seconds=59)),
        entry("kafka", "order_events", "failed", at + timedelta(minutes=5)),  # the slot after
    ]:
        ledger.record(row)

    totals = []
    for minutes_after in (2.5, 7.5, 12.5):  # runs every 5 minutes, each a while into its slot
        since, until = metrics.last_slot(at + timedelta(minutes=minutes_after), 5)
        datums = metrics.load_failures(metrics.ledger_rows(root, since=since, until=until), "prod")
        totals.append(next(d.value for d in datums if d.dimensions == (("Environment", "prod"),)))
    assert totals == [1.0, 2.0, 1.0]  # 4 failures in all, each counted in exactly one slot
    with pytest.raises(ConfigError, match="does not divide the hour"):
        metrics.last_slot(at, 7)


# -- marts freshness, from the observability tables through the Thrift server ----------------------------


@pytest.fixture
def observability(spark_local: SparkServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """An observability database of this test's own on the session's Thrift server."""
    schema = f"obs_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark_local.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark_local.endpoint.port))
    with thrift_cursor(spark_local.endpoint) as cursor:
        cursor.execute(f"create database {schema}")
        try:
            yield cursor, schema
        finally:
            cursor.execute(f"drop database if exists {schema} cascade")


def table_rows(output: str) -> list[list[str]]:
    """The cells of the rows of the tables the command printed."""
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in output.splitlines() if line[:1] == "│"]


def at_sql(value: datetime) -> str:
    return f"timestamp'{value:%Y-%m-%d %H:%M:%S}'"  # the session time zone is UTC


def test_metrics_publish_sends_the_minutes_since_the_stalest_marts_last_successful_build(
    observability, cloudwatch
) -> None:
    cursor, schema = observability
    before = datetime.now(UTC).replace(microsecond=0)
    old, new = before - timedelta(days=1), before
    cursor.execute(
        f"create table {schema}.dbt_models (unique_id string, name string, schema_name string, "
        "original_path string, graph_hash string, generated_at timestamp) using delta"
    )
    models = [
        ("model.lakehouse.fct_orders", "fct_orders", "sales", "models/marts/sales/fct_orders.sql"),
        ("model.lakehouse.dim_customers", "dim_customers", "sales", "models/marts/sales/dim_customers.sql"),
        ("model.lakehouse.fct_new", "fct_new", "sales", "models/marts/sales/fct_new.sql"),  # never built
        ("model.lakehouse.slv_orders", "slv_orders", "silver", "models/silver/sales/slv_orders.sql"),  # not a mart
    ]
    rows = [f"('{u}', '{n}', '{s}', '{p}', 'g2', {at_sql(new)})" for u, n, s, p in models]
    dropped = "('model.lakehouse.fct_gone', 'fct_gone', 'sales', 'models/marts/sales/fct_gone.sql', 'g1', "
    rows.append(dropped + f"{at_sql(old)})")  # a mart of an older graph only: no longer in the project
    cursor.execute(f"insert into {schema}.dbt_models values {', '.join(rows)}")
    cursor.execute(
        f"create table {schema}.dbt_run_results (unique_id string, resource_type string, status string, "
        "completed_at timestamp) using delta"
    )
    builds = [
        ("fct_orders", "success", 30),
        ("dim_customers", "success", 200),
        ("dim_customers", "success", 90),  # the stalest mart: last built 90 minutes ago
        ("dim_customers", "error", 10),  # a failed rebuild does not make it fresher
        ("slv_orders", "success", 300),
        ("fct_gone", "success", 1000),
    ]
    values = [
        f"('model.lakehouse.{name}', 'model', '{status}', {at_sql(before - timedelta(minutes=ago))})"
        for name, status, ago in builds
    ]
    cursor.execute(f"insert into {schema}.dbt_run_results values {', '.join(values)}")

    code, output = run("metrics", "publish", "--schema", schema)
    after = datetime.now(UTC)
    assert code == 0, output
    listed = {cells[0]: cells[2] for cells in table_rows(output) if cells[0].startswith("sales.")}
    assert set(listed) == {"sales.fct_orders", "sales.dim_customers", "sales.fct_new"}  # the current marts only
    assert listed["sales.fct_new"] == "never built"
    (minutes,) = statistic(cloudwatch, "MartsFreshnessMinutes", "Maximum", Environment="dev")
    stalest_built = before - timedelta(minutes=90)
    lowest = (before - stalest_built).total_seconds() / 60
    highest = (after - stalest_built).total_seconds() / 60
    assert lowest - 0.1 <= minutes <= highest + 0.1  # rounded to a tenth of a minute
    assert statistic(cloudwatch, "LoadFailures", "Sum", Environment="dev") == []  # not asked for


def test_metrics_publish_without_a_namespace_says_how_to_turn_it_on(
    cloudwatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEHOUSE_CLOUDWATCH_NAMESPACE")
    code, output = run("metrics", "publish", "--no-freshness")
    assert code == 2
    assert "error: no CloudWatch namespace" in output and "LAKEHOUSE_CLOUDWATCH_NAMESPACE=Lakehouse" in output
