"""The scheduler's runs on a small graph: re-execution from a failed asset, and a backfill of a date range.

The graph is `build_definitions` over a sources folder of two `files` sources (fx_shop.orders,
fx_crm.customers) and the fixture dbt project tests/dbt_fixtures/orchestration (two incremental models
filtered by the main project's `loaded_since_last_build`, a mart table over both), on the session's Spark
Thrift server and root (`spark_local`). Every schema and bronze folder of the graph is named `fx_`, so
the shared company lakehouse on the same server is left alone; each test drops them before and after.
Runs are recorded in a persistent Dagster instance in a temporary folder.

- a run whose crm load fails (its folder is missing) is re-executed from failure once the folder exists:
  only the failed load and the dbt step downstream of it run, the shop load is not run again;
- a backfill of three days (`lakehouse orchestrate backfill`) runs one partition run per day, each with
  its day's window: the rows loaded on those days are rebuilt through the changed logic, the other days'
  rows are not, and a row loaded after the last build is left to the next build.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    JobDefinition,
    ReexecutionOptions,
    RetryPolicy,
    RunsFilter,
    define_asset_job,
    execute_job,
    in_process_executor,
    materialize,
    reconstructable,
)
from deltalake import write_deltalake
from typer.testing import CliRunner

from lakehouse.catalog import thrift_cursor
from lakehouse.cli import app
from lakehouse.core.storage import LakehouseRoot
from orchestration.backfill import JOB_NAME
from orchestration.bronze import bronze_key
from orchestration.dbt import dbt_resource
from orchestration.definitions import build_definitions
from tests.helpers.loader_io import ledger_rows, write_jsonl
from tests.helpers.spark import PROJECT_DIR, SparkServer

FIXTURE_PROJECT = PROJECT_DIR / "tests" / "dbt_fixtures" / "orchestration"
SCHEMAS = ("fx_marts", "fx_silver", "bronze_fx_shop", "bronze_fx_crm")
ORDERS, CUSTOMERS = bronze_key("fx_shop", "orders"), bronze_key("fx_crm", "customers")
FX_ORDERS = AssetKey(["fx_silver", "fx_orders"])
FX_CUSTOMER_ORDERS = AssetKey(["fx_marts", "fx_customer_orders"])
NO_RETRY = RetryPolicy(max_retries=0)


@dataclass
class Lakehouse:
    spark: SparkServer
    root: LakehouseRoot
    folder: Path  # the test's own: sources/, data/, dagster/

    def query(self, sql: str) -> list[tuple]:
        with thrift_cursor(self.spark.endpoint) as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def reset(self) -> None:
        for schema in SCHEMAS:
            self.query(f"drop schema if exists {schema} cascade")
        for source in ("fx_shop", "fx_crm"):
            shutil.rmtree(Path(self.root.uri) / "bronze" / source, ignore_errors=True)


@pytest.fixture
def lakehouse(spark_local: SparkServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lakehouse]:
    made = Lakehouse(spark_local, spark_local.root, tmp_path)
    (tmp_path / "sources").mkdir()
    monkeypatch.setenv("DBT_TARGET", "local")
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark_local.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark_local.endpoint.port))
    monkeypatch.setenv("LAKEHOUSE_ROOT", spark_local.root.uri)
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path / "sources"))
    made.reset()
    yield made
    made.reset()


def write_files_source(folder: Path, source: str, stream: str, data: Path, key: str) -> None:
    document = {
        "source": source,
        "type": "files",
        "frequency": "daily",
        "options": {"path": str(data)},
        "streams": [{"name": stream, "format": "jsonl", "pattern": f"{stream}/*.jsonl", "primary_key": [key]}],
    }
    (folder / f"{source}.yml").write_text(yaml.safe_dump(document, sort_keys=False))


def fixture_job() -> JobDefinition:
    """Every load and model of the fixture graph (LAKEHOUSE_SOURCES + the fixture project; not the
    connections of airbyte/workspace.yml), its steps in this process; at module scope so that
    `reconstructable` can rebuild it for a re-execution."""
    defs = build_definitions(retry_policy=NO_RETRY, dbt_project=FIXTURE_PROJECT)
    selection = AssetSelection.all() - AssetSelection.groups("airbyte")
    everything = define_asset_job("fixture_graph", selection=selection, executor_def=in_process_executor)
    return Definitions(assets=defs.assets, resources=defs.resources, jobs=[everything]).resolve_job_def("fixture_graph")


def started_steps(result) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}


def materialized(result) -> set[AssetKey]:
    return {e.asset_key for e in result.all_events if e.event_type == DagsterEventType.ASSET_MATERIALIZATION}


def test_reexecution_from_failure_runs_only_the_failed_load_and_what_is_downstream(lakehouse: Lakehouse) -> None:
    sources, shop, crm = lakehouse.folder / "sources", lakehouse.folder / "shop", lakehouse.folder / "crm"
    write_jsonl(shop / "orders" / "part-1.jsonl", [
        {"order_id": "o1", "customer_id": "c1", "amount": 10.0},
        {"order_id": "o2", "customer_id": "c1", "amount": 20.0},
        {"order_id": "o3", "customer_id": "c2", "amount": 30.0},
    ])  # fmt: skip
    write_files_source(sources, "fx_shop", "orders", shop, "order_id")
    write_files_source(sources, "fx_crm", "customers", crm, "customer_id")  # crm/ does not exist yet
    job = reconstructable(fixture_job)

    (lakehouse.folder / "dagster").mkdir()
    with DagsterInstance.local_temp(str(lakehouse.folder / "dagster")) as instance:
        first = execute_job(job, instance=instance)
        assert not first.success
        [failure] = [e for e in first.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
        assert failure.step_key == "bronze__fx_crm__customers"
        assert materialized(first) == {ORDERS}, "the shop loaded; the dbt step did not run"
        assert "lakehouse_dbt" not in started_steps(first)

        # The cause is fixed: the crm's files arrive.
        write_jsonl(crm / "customers" / "part-1.jsonl", [
            {"customer_id": "c1", "name": "Ada"},
            {"customer_id": "c2", "name": "Grace"},
        ])  # fmt: skip
        second = execute_job(
            job, instance=instance, reexecution_options=ReexecutionOptions.from_failure(first.run_id, instance)
        )
        assert second.success, [e.message for e in second.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
        assert instance.get_run_by_id(second.run_id).parent_run_id == first.run_id
        assert started_steps(second) == {"bronze__fx_crm__customers", "lakehouse_dbt"}
        assert ORDERS not in materialized(second), "the shop's load is not run again"
        assert {CUSTOMERS, FX_ORDERS, FX_CUSTOMER_ORDERS} <= materialized(second)

    loads = {(row["source"], row["status"]) for row in ledger_rows(lakehouse.root)}
    shop_loads = [row for row in ledger_rows(lakehouse.root) if row["source"] == "fx_shop"]
    assert len(shop_loads) == 1 and ("fx_crm", "success") in loads
    rows = lakehouse.query("select customer_id, order_count, order_amount from fx_marts.fx_customer_orders")
    assert sorted(rows) == [("c1", 2, 30.0), ("c2", 1, 30.0)]


ORDER_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("customer_id", pa.string()), ("amount", pa.float64()),
    ("_loaded_at", pa.timestamp("us", tz="UTC")),
])  # fmt: skip
CUSTOMER_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("name", pa.string()), ("_loaded_at", pa.timestamp("us", tz="UTC")),
])  # fmt: skip


def loaded(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def commit(lakehouse: Lakehouse, source: str, stream: str, schema: pa.Schema, rows: list[dict]) -> None:
    """One loader batch written as the loader writes it (one Delta commit), with the test's `_loaded_at`."""
    uri = lakehouse.root.bronze_uri(source, stream)
    write_deltalake(uri, pa.Table.from_pylist(rows, schema=schema), mode="append")


def register(lakehouse: Lakehouse, source: str, stream: str) -> None:
    lakehouse.query(f"create schema if not exists bronze_{source}")
    uri = lakehouse.root.bronze_uri(source, stream, spark=True)
    lakehouse.query(f"create table bronze_{source}.{stream} using delta location '{uri}'")


def order(order_id: str, customer_id: str, amount: float, at: datetime) -> dict:
    return {"order_id": order_id, "customer_id": customer_id, "amount": amount, "_loaded_at": at}


def test_a_backfill_of_three_days_rebuilds_the_rows_loaded_on_each_day(
    lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = [{"customer_id": c, "name": c.upper(), "_loaded_at": loaded(1, 8)} for c in ("c1", "c2", "c3")]
    commit(lakehouse, "fx_crm", "customers", CUSTOMER_SCHEMA, customers)
    for batch in (
        [order("o1", "c1", 10.0, loaded(1, 10)), order("o2", "c1", 20.0, loaded(1, 10))],
        [order("o3", "c2", 30.0, loaded(2, 9)), order("o1", "c1", 11.0, loaded(2, 9))],  # o1 updated
        [order("o4", "c2", 40.0, loaded(3, 15))],
        [order("o5", "c3", 50.0, loaded(4, 8))],
    ):
        commit(lakehouse, "fx_shop", "orders", ORDER_SCHEMA, batch)
    register(lakehouse, "fx_crm", "customers")
    register(lakehouse, "fx_shop", "orders")

    defs = build_definitions([], dbt_project=FIXTURE_PROJECT)
    models = AssetSelection.groups("silver", "marts")
    built = materialize(defs.assets, selection=models, resources={"dbt": dbt_resource(FIXTURE_PROJECT)})
    assert built.success
    # Loaded after that build, on a day the backfill covers: not yet read by fx_orders.
    commit(lakehouse, "fx_shop", "orders", ORDER_SCHEMA, [order("o6", "c3", 60.0, loaded(4, 12))])

    # The logic changed (amounts x100): rebuild the rows loaded from 2 to 4 March, from the command line
    # (its definitions: this graph's, in place of the project's).
    monkeypatch.setattr("orchestration.definitions.defs", defs)
    monkeypatch.setenv("DAGSTER_HOME", str(lakehouse.folder / "dagster"))
    arguments = ["--from", "2026-03-02", "--to", "2026-03-04", "--vars", "{fx_amount_factor: 100}"]
    done = CliRunner().invoke(app, ["orchestrate", "backfill", *arguments])
    assert done.exit_code == 0, done.output
    assert "backfill of 3 day(s) done" in done.output
    with DagsterInstance.get() as instance:  # DAGSTER_HOME's, where the UI shows the runs
        runs = instance.get_runs(filters=RunsFilter(job_name=JOB_NAME))
        by_day = {run.tags.get("dagster/partition"): run for run in runs}
        assert len(runs) == 3 and sorted(by_day) == ["2026-03-02", "2026-03-03", "2026-03-04"], "one run per day"
        assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
        for run in runs:  # the dbt events of a backfill run are materializations of the dbt assets
            events = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            assert {FX_ORDERS, FX_CUSTOMER_ORDERS} <= {event.dagster_event.asset_key for event in events}

    orders = {row[0]: row[1:] for row in lakehouse.query("select order_id, amount, built_for from fx_silver.fx_orders")}
    assert orders == {
        "o1": (1100.0, "2026-03-02T00:00:00+00:00"),  # its 2 March version, rebuilt by 2 March's run
        "o2": (20.0, ""),  # loaded on 1 March: outside the range, as the first build left it
        "o3": (3000.0, "2026-03-02T00:00:00+00:00"),
        "o4": (4000.0, "2026-03-03T00:00:00+00:00"),
        "o5": (5000.0, "2026-03-04T00:00:00+00:00"),
    }, "o6, loaded after the last build, is left to the next build"
    totals = lakehouse.query("select customer_id, order_count, order_amount from fx_marts.fx_customer_orders")
    assert sorted(totals) == [("c1", 2, 1120.0), ("c2", 2, 7000.0), ("c3", 1, 5000.0)], "the mart, from silver"

    again = materialize(defs.assets, selection=models, resources={"dbt": dbt_resource(FIXTURE_PROJECT)})
    assert again.success
    orders = {row[0]: row[1] for row in lakehouse.query("select order_id, amount from fx_silver.fx_orders")}
    assert orders == {"o1": 1100.0, "o2": 20.0, "o3": 3000.0, "o4": 4000.0, "o5": 5000.0, "o6": 60.0}
