"""A row deleted at the source leaves silver and the marts: PostgreSQL → bronze tombstone → silver → mart.

The company is published into the real PostgreSQL server (`lakehouse company publish --postgres`), whose
source file loads every table by merge and reconciles deletes (`deletes: reconcile`). With the product
catalogue (Snowflake files) beside it, that is all the inventory valuation mart needs, so only
`+fct_inventory_valuation` is built, on a Spark server of its own. Then a stock line is deleted in
PostgreSQL, loaded and built again (incrementally): bronze keeps the key as a tombstone (`_op = 'delete'`,
a new `_loaded_at`), silver flags it deleted, and the mart no longer values it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lakehouse.cli
from lakehouse.catalog import thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from lakehouse.demo import load_and_register
from lakehouse.source_files import DEFAULT_SOURCES_DIR
from loaders.core.config import load_source_config
from loaders.core.delta import read_table
from loaders.pipeline import load_source
from tests.helpers.servers import PostgresServer
from tests.helpers.spark import SparkServer

APP_PASSWORD = "app-Deletes-s3cret"
SCALE = "0.05"
BUILD = [
    "build",
    "--select",
    "+fct_inventory_valuation",
    "--exclude",
    "resource_type:test",
    "--vars",
    json.dumps({"observability_enabled": False}),
]


@pytest.fixture(scope="module")
def postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    postgres_server.create_database("company_production", owner="app", owner_password=APP_PASSWORD)
    yield postgres_server
    postgres_server.drop_database("company_production", owner="app")


def query(spark: SparkServer, sql: str) -> list[tuple]:
    with thrift_cursor(spark.endpoint) as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


def build() -> None:
    outcome = run_dbt(BUILD)
    assert outcome.success, outcome.failures


def test_a_stock_line_deleted_in_postgres_is_a_tombstone_in_bronze_deleted_in_silver_and_gone_from_the_mart(
    postgres: PostgresServer, spark_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LAKEHOUSE_HOME", str(home))  # a Spark server of its own needs a home of its own
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(home / "sources" / "local"))
    monkeypatch.setenv("LAKEHOUSE_POSTGRES_PASSWORD", APP_PASSWORD)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    uri = f"postgresql://app:{APP_PASSWORD}@127.0.0.1:{postgres.port}/company_production"
    result = CliRunner().invoke(lakehouse.cli.app, ["company", "publish", "--postgres", uri, "--scale", SCALE])
    assert result.exit_code == 0, result.output

    app_database = load_source_config(home / "sources" / "local" / "postgres.yml")
    deletes = {stream.name: stream.extra.get("deletes") for stream in app_database.streams}
    assert deletes["product_inventory"] == "reconcile"
    catalogue = load_source_config(DEFAULT_SOURCES_DIR / "snowflake.yml")
    (tmp_path / "root").mkdir()
    # reconciliation reads bronze's keys from LAKEHOUSE_ROOT (or options.lakehouse_root), as `lakehouse load` does
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    root = LakehouseRoot.parse(str(tmp_path / "root"))
    spark: SparkServer = spark_factory(root)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))
    load_and_register(root, spark.endpoint, [app_database, catalogue])
    build()

    valued = query(spark, "select product_id, warehouse_code from finance.fct_inventory_valuation")
    product_id, warehouse = sorted(valued)[0]
    postgres.psql(
        f"delete from public.product_inventory where product_id = {product_id} and warehouse_code = '{warehouse}'",
        "company_production",
    )
    list(load_source(root, app_database, streams=["product_inventory"]))
    build()

    bronze = read_table(root.bronze_uri("postgres", "product_inventory")).to_pylist()
    versions = [row for row in bronze if (row["product_id"], row["warehouse_code"]) == (product_id, warehouse)]
    newest_live = max(row["_loaded_at"] for row in bronze if row["_op"] != "delete")
    assert len(versions) == 1 and versions[0]["_op"] == "delete", versions  # the key's latest version
    assert versions[0]["_loaded_at"] > newest_live

    silver = query(
        spark,
        "select is_deleted, count(*) over () from silver.slv_inventory_levels "
        f"where product_id = {product_id} and warehouse_code = '{warehouse}'",
    )
    assert silver == [(True, 1)]
    assert query(spark, "select count(*) from silver.slv_inventory_levels where is_deleted") == [(1,)]

    after = query(spark, "select product_id, warehouse_code from finance.fct_inventory_valuation")
    assert (product_id, warehouse) not in after
    assert sorted(after) == sorted(valued)[1:]  # every other stock line is still valued
