"""The thin end-to-end slice: files → bronze (delta-rs) → Spark via Thrift → dbt bronze/silver/mart.

Runs once on a local root and once on the real local S3 server (SeaweedFS).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from deltalake import DeltaTable

from loaders.core.bronze import METADATA_NAMES
from loaders.core.config import load_source_config
from loaders.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from orchestration.catalog import ensure_layer_databases, register_bronze, thrift_cursor
from orchestration.transform import run_dbt
from tests.support import PROJECT_DIR, SparkServer, start_spark

SHOP = PROJECT_DIR / "orchestration" / "sources" / "embedded" / "shop.yml"
BUSINESS_COLUMNS = (
    "order_id, customer_id, order_status, currency_code, is_cancelled, order_amount, order_date, updated_at"
)


def use_server(monkeypatch: pytest.MonkeyPatch, spark: SparkServer) -> None:
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))


def load_and_register(spark: SparkServer, *, full_refresh: bool = False) -> None:
    config = load_source_config(SHOP)
    load_source(spark.root, config, full_refresh=full_refresh)
    with thrift_cursor(spark.endpoint) as cursor:
        ensure_layer_databases(cursor, spark.root)
        register_bronze(cursor, spark.root, [config])


def query(spark: SparkServer, sql: str) -> list[tuple]:
    with thrift_cursor(spark.endpoint) as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


def source_order_rows() -> int:
    files = sorted((PROJECT_DIR / "orchestration" / "samples" / "shop" / "orders").glob("*.csv"))
    return sum(len(f.read_text().splitlines()) - 1 for f in files)


@pytest.fixture(scope="module")
def built_local(spark_local: SparkServer) -> Iterator[SparkServer]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_server(monkeypatch, spark_local)
        load_and_register(spark_local)
        outcome = run_dbt(["build"])
        assert outcome.success, outcome.failures
        yield spark_local


def test_spark_reads_through_thrift_what_delta_rs_wrote(built_local: SparkServer) -> None:
    bronze = DeltaTable(built_local.root.bronze_uri("shop", "orders")).to_pyarrow_table()
    assert set(METADATA_NAMES) <= set(bronze.column_names)
    assert bronze.num_rows == source_order_rows()

    from_spark = query(built_local, "select order_id, status, amount, _load_id from bronze_shop.orders")
    from_delta_rs = list(
        zip(*(bronze[c].to_pylist() for c in ("order_id", "status", "amount", "_load_id")), strict=True)
    )
    assert sorted(from_spark) == sorted(from_delta_rs)


def test_every_layer_has_rows_and_the_mart_reconciles(built_local: SparkServer) -> None:
    silver_orders = query(built_local, "select count(*), count(distinct order_id) from silver.slv_orders")[0]
    assert silver_orders[0] == silver_orders[1] > 0  # one row per order
    mart = query(built_local, "select sum(order_count), sum(revenue_amount) from sales.fct_daily_revenue")[0]
    expected = query(
        built_local,
        "select count(*), sum(case when order_status = 'cancelled' then 0 else order_amount end) "
        "from silver.slv_orders",
    )[0]
    assert mart == expected
    assert mart[0] > 0


def test_silver_keeps_the_latest_version_of_each_order(built_local: SparkServer) -> None:
    # Order 1001 is placed on day one and shipped in the day-two export.
    assert query(built_local, "select order_status from silver.slv_orders where order_id = 1001") == [("shipped",)]


def test_incremental_merge_twice_over_the_same_input_gives_the_same_rows(
    built_local: SparkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_server(monkeypatch, built_local)
    before = sorted(query(built_local, f"select {BUSINESS_COLUMNS} from silver.slv_orders"))

    # Reload the same files: every bronze row is new (new _loaded_at), the data is the same.
    load_and_register(built_local, full_refresh=True)
    for _ in range(2):
        outcome = run_dbt(["run", "--select", "slv_orders"])
        assert outcome.success, outcome.failures
        assert outcome.statuses == {"success": 1}
        after = sorted(query(built_local, f"select {BUSINESS_COLUMNS} from silver.slv_orders"))
        assert after == before


def test_docs_generate_writes_the_site(built_local: SparkServer, monkeypatch: pytest.MonkeyPatch) -> None:
    use_server(monkeypatch, built_local)
    outcome = run_dbt(["docs", "generate"])
    assert outcome.success
    target = Path(__import__("os").environ["DBT_TARGET_PATH"])
    assert (target / "index.html").exists()
    assert "fct_daily_revenue" in (target / "catalog.json").read_text()


@pytest.mark.s3
def test_the_slice_runs_on_the_local_s3_server(s3_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A second Spark server, bound to the S3 root, needs its own home (one server per home).
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "s3-home"))
    root = LakehouseRoot.parse(f"s3://{s3_env.bucket}/slice")
    root.check()
    spark = start_spark(root)
    try:
        use_server(monkeypatch, spark)
        load_and_register(spark)
        outcome = run_dbt(["build"])
        assert outcome.success, outcome.failures

        assert query(spark, "select count(*) from bronze_shop.orders") == [(source_order_rows(),)]
        assert query(spark, "select count(*) from sales.fct_daily_revenue")[0][0] > 0
        location = query(spark, "describe detail sales.fct_daily_revenue")[0]
        assert any(f"s3a://{s3_env.bucket}/slice/gold/sales" in str(value) for value in location)

        keys = {
            obj["Key"]
            for page in s3_env.store.client().get_paginator("list_objects_v2").paginate(Bucket=s3_env.bucket)
            for obj in page.get("Contents", [])
        }
        assert any(k.startswith("slice/bronze/shop/orders/_delta_log/") for k in keys)
        assert any(k.startswith("slice/silver/slv_orders/_delta_log/") for k in keys)
        assert any(k.startswith("slice/gold/sales/fct_daily_revenue/") and k.endswith(".parquet") for k in keys)
    finally:
        spark.server.stop()
