"""The thin end-to-end slice on the generated company: files → bronze (delta-rs) → Spark via Thrift →
dbt bronze/silver/mart (`fct_orders` and everything it needs).

The company is generated small (scale 0.2) into the test's LAKEHOUSE_HOME; only the sources the
slice reads are loaded (Shopify orders, and the customer systems identity resolution links orders
to). Runs once on a local root and once on the real local S3 server (SeaweedFS).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from deltalake import DeltaTable

from company import generate, generate_increment
from lakehouse.catalog import ensure_layer_databases, register_bronze, thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from lakehouse.source_files import find_source
from loaders.core.bronze import METADATA_NAMES
from loaders.pipeline import load_source
from tests.support import SparkServer, start_spark

SEED, SCALE, DAYS = 7, 0.2, 30
# fct_orders <- slv_orders (Shopify orders + the customer identity map over every customer system),
# Stripe payments and refunds, and the seeds.
SLICE_SOURCES = ("shopify", "postgres", "mysql", "salesforce", "hubspot", "stripe", "netsuite")
# `cautious`: only the tests whose every parent is in the slice (not, say, a relationship to slv_customers).
SLICE = [
    "--select",
    "+fct_orders",
    "--indirect-selection",
    "cautious",
    "--vars",
    json.dumps({"observability_enabled": False}),
]
BUSINESS_COLUMNS = (
    "order_id, order_number, customer_key, order_status, currency_code, is_cancelled, order_amount, "
    "order_date, updated_at"
)


def use_server(monkeypatch: pytest.MonkeyPatch, spark: SparkServer) -> None:
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))


def company_folder() -> Path:
    return Path(os.environ["LAKEHOUSE_HOME"]) / "samples" / "company"


def ensure_company() -> Path:
    folder = company_folder()
    if not (folder / "manifest.json").exists():
        generate(folder, seed=SEED, scale=SCALE, days=DAYS)
    return folder


def load_and_register(spark: SparkServer, *, sources=SLICE_SOURCES, full_refresh: bool = False) -> dict[str, int]:
    configs = [find_source(name) for name in sources]
    rows = {}
    for config in configs:
        for result in load_source(spark.root, config, full_refresh=full_refresh):
            rows[f"{config.source}.{result.stream}"] = result.rows
    with thrift_cursor(spark.endpoint) as cursor:
        ensure_layer_databases(cursor, spark.root)
        register_bronze(cursor, spark.root, configs)
    return rows


def query(spark: SparkServer, sql: str) -> list[tuple]:
    with thrift_cursor(spark.endpoint) as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def built_local(spark_local: SparkServer) -> Iterator[tuple[SparkServer, dict[str, int]]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_server(monkeypatch, spark_local)
        ensure_company()
        loaded = load_and_register(spark_local)
        outcome = run_dbt(["build", *SLICE])
        assert outcome.success, outcome.failures
        yield spark_local, loaded


def test_spark_reads_through_thrift_what_delta_rs_wrote(built_local) -> None:
    spark, loaded = built_local
    bronze = DeltaTable(spark.root.bronze_uri("shopify", "orders")).to_pyarrow_table()
    assert set(METADATA_NAMES) <= set(bronze.column_names)
    assert bronze.num_rows == loaded["shopify.orders"] > 0

    from_spark = query(spark, "select id, order_number, total_price, _load_id from bronze_shopify.orders")
    from_delta_rs = list(
        zip(*(bronze[c].to_pylist() for c in ("id", "order_number", "total_price", "_load_id")), strict=True)
    )
    assert sorted(from_spark) == sorted(from_delta_rs)


def test_every_layer_has_rows_and_the_mart_reconciles(built_local) -> None:
    spark, _ = built_local
    silver_orders = query(spark, "select count(*), count(distinct order_id) from silver.slv_orders")[0]
    assert silver_orders[0] == silver_orders[1] > 0  # one row per order
    assert silver_orders[0] == query(spark, "select count(distinct id) from bronze_shopify.orders")[0][0]
    mart = query(spark, "select count(*), sum(order_amount) from sales.fct_orders")[0]
    expected = query(spark, "select count(*), sum(order_amount) from silver.slv_orders where not is_deleted")[0]
    assert mart == expected
    assert mart[0] > 0


def test_incremental_merge_twice_over_the_same_input_gives_the_same_rows(
    built_local, monkeypatch: pytest.MonkeyPatch
) -> None:
    spark, _ = built_local
    use_server(monkeypatch, spark)
    before = sorted(query(spark, f"select {BUSINESS_COLUMNS} from silver.slv_orders"))

    # Reload the same files: every bronze row is new (new _loaded_at), the data is the same.
    load_and_register(spark, sources=("shopify",), full_refresh=True)
    for _ in range(2):
        outcome = run_dbt(["run", "--select", "slv_orders", "--vars", json.dumps({"observability_enabled": False})])
        assert outcome.success, outcome.failures
        assert outcome.statuses == {"success": 1}
        after = sorted(query(spark, f"select {BUSINESS_COLUMNS} from silver.slv_orders"))
        assert after == before


def test_docs_generate_writes_the_site(built_local, monkeypatch: pytest.MonkeyPatch) -> None:
    spark, _ = built_local
    use_server(monkeypatch, spark)
    outcome = run_dbt(["docs", "generate", "--select", "+fct_orders"])
    assert outcome.success
    target = Path(os.environ["DBT_TARGET_PATH"])
    assert (target / "index.html").exists()
    assert "fct_orders" in (target / "catalog.json").read_text()


def test_silver_keeps_the_latest_version_of_each_order(built_local, monkeypatch: pytest.MonkeyPatch) -> None:
    spark, _ = built_local
    use_server(monkeypatch, spark)
    # The next day changes some existing orders (fulfilled, refunded, cancelled): a second version each.
    generate_increment(company_folder(), DAYS, seed=SEED, scale=SCALE)
    load_and_register(spark, sources=("shopify",))
    outcome = run_dbt(["run", "--select", "slv_orders", "--vars", json.dumps({"observability_enabled": False})])
    assert outcome.success, outcome.failures

    changed = query(
        spark,
        "select id, max_by(financial_status, updated_at), max(updated_at) from bronze_shopify.orders "
        "group by id having count(distinct updated_at) > 1",
    )
    assert changed, "the increment changed no existing order"
    silver = {
        order_id: (status, updated_at)
        for order_id, status, updated_at in query(
            spark, "select order_id, financial_status, updated_at from silver.slv_orders"
        )
    }
    for order_id, latest_status, latest_updated_at in changed:
        assert silver[order_id] == (latest_status, latest_updated_at)


@pytest.mark.s3
def test_the_slice_runs_on_the_local_s3_server(s3_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A second Spark server, bound to the S3 root, needs its own home (one server per home).
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "s3-home"))
    ensure_company()
    root = LakehouseRoot.parse(f"s3://{s3_env.bucket}/slice")
    root.check()
    spark = start_spark(root)
    try:
        use_server(monkeypatch, spark)
        loaded = load_and_register(spark)
        outcome = run_dbt(["build", *SLICE])
        assert outcome.success, outcome.failures

        assert query(spark, "select count(*) from bronze_shopify.orders") == [(loaded["shopify.orders"],)]
        assert query(spark, "select count(*) from sales.fct_orders")[0][0] > 0
        location = query(spark, "describe detail sales.fct_orders")[0]
        assert any(f"s3a://{s3_env.bucket}/slice/gold/sales" in str(value) for value in location)

        keys = {
            obj["Key"]
            for page in s3_env.store.client().get_paginator("list_objects_v2").paginate(Bucket=s3_env.bucket)
            for obj in page.get("Contents", [])
        }
        assert any(k.startswith("slice/bronze/shopify/orders/_delta_log/") for k in keys)
        assert any(k.startswith("slice/silver/slv_orders/_delta_log/") for k in keys)
        assert any(k.startswith("slice/gold/sales/fct_orders/") and k.endswith(".parquet") for k in keys)
    finally:
        spark.server.stop()
