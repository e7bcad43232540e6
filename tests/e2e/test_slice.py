"""End to end on the generated company: files → bronze (delta-rs) → Spark via Thrift → dbt staging,
silver, marts.

On a local root, it reads the session's company lakehouse (tests/helpers/company_lakehouse.py). On the
real local S3 server (SeaweedFS), a thin slice is built from scratch: only the sources `fct_orders`
needs (Shopify orders, and the customer systems identity resolution links orders to).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from company.samples import ensure_company
from lakehouse.catalog import thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from lakehouse.demo import load_and_register
from lakehouse.source_files import find_source
from loaders.core.bronze import METADATA_NAMES
from loaders.pipeline import load_source
from tests.helpers.company_lakehouse import SCALE, CompanyLakehouse
from tests.helpers.spark import SparkServer

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


@pytest.fixture(scope="module")
def built_local(company_lakehouse: CompanyLakehouse) -> tuple[CompanyLakehouse, dict[str, int]]:
    assert company_lakehouse.build.success, company_lakehouse.build.failures
    return company_lakehouse, company_lakehouse.loaded_rows


def test_spark_reads_through_thrift_what_delta_rs_wrote(built_local) -> None:
    lakehouse, loaded = built_local
    bronze = DeltaTable(lakehouse.root.bronze_uri("shopify", "orders")).to_pyarrow_table()
    assert set(METADATA_NAMES) <= set(bronze.column_names)
    assert bronze.num_rows == loaded["shopify.orders"] > 0

    from_spark = lakehouse.query("select id, order_number, total_price, _load_id from bronze_shopify.orders")
    from_delta_rs = list(
        zip(*(bronze[c].to_pylist() for c in ("id", "order_number", "total_price", "_load_id")), strict=True)
    )
    assert sorted(from_spark) == sorted(from_delta_rs)


def test_every_layer_has_rows_and_the_mart_reconciles(built_local) -> None:
    lakehouse, _ = built_local
    silver_orders = lakehouse.query("select count(*), count(distinct order_id) from silver.slv_orders")[0]
    assert silver_orders[0] == silver_orders[1] > 0  # one row per order
    assert silver_orders[0] == lakehouse.query("select count(distinct id) from bronze_shopify.orders")[0][0]
    mart = lakehouse.query("select count(*), sum(order_amount) from sales.fct_orders")[0]
    expected = lakehouse.query("select count(*), sum(order_amount) from silver.slv_orders where not is_deleted")[0]
    assert mart == expected
    assert mart[0] > 0


@pytest.mark.mutates_company_lakehouse
def test_incremental_merge_twice_over_the_same_input_gives_the_same_rows(built_local) -> None:
    lakehouse, _ = built_local
    before = sorted(lakehouse.query(f"select {BUSINESS_COLUMNS} from silver.slv_orders"))

    # Reload the same files: every bronze row is new (new _loaded_at), the data is the same.
    with lakehouse.activated():
        for _ in load_source(lakehouse.root, find_source("shopify"), full_refresh=True):
            pass
    for _ in range(2):
        outcome = lakehouse.dbt("run", "--select", "slv_orders")
        assert outcome.statuses == {"success": 1}
        after = sorted(lakehouse.query(f"select {BUSINESS_COLUMNS} from silver.slv_orders"))
        assert after == before


def test_docs_generate_writes_the_site(built_local) -> None:
    lakehouse, _ = built_local
    assert lakehouse.docs.success, lakehouse.docs.failures
    assert (lakehouse.target_dir / "index.html").exists()
    assert "fct_orders" in (lakehouse.target_dir / "catalog.json").read_text()


@pytest.mark.mutates_company_lakehouse
def test_silver_keeps_the_latest_version_of_each_order(built_local, next_day: int) -> None:
    # The next day changes some existing orders (fulfilled, refunded, cancelled): a second version each.
    lakehouse, _ = built_local
    lakehouse.dbt("run", "--select", "slv_orders")

    changed = lakehouse.query(
        "select id, max_by(financial_status, updated_at), max(updated_at) from bronze_shopify.orders "
        "group by id having count(distinct updated_at) > 1",
    )
    assert changed, "the increment changed no existing order"
    silver = {
        order_id: (status, updated_at)
        for order_id, status, updated_at in lakehouse.query(
            "select order_id, financial_status, updated_at from silver.slv_orders"
        )
    }
    for order_id, latest_status, latest_updated_at in changed:
        assert silver[order_id] == (latest_status, latest_updated_at)


def test_the_slice_runs_on_the_local_s3_server(
    s3_env, spark_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second Spark server, bound to the S3 root, needs its own home (one server per home).
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "s3-home"))
    ensure_company(scale=SCALE)
    root = LakehouseRoot.parse(f"s3://{s3_env.bucket}/slice")
    root.check()
    spark: SparkServer = spark_factory(root)
    try:
        monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
        monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))
        results = load_and_register(root, spark.endpoint, [find_source(name) for name in SLICE_SOURCES])
        loaded = {f"{r.source}.{r.stream}": r.rows for r in results}
        # The models only: their tests ran in the company lakehouse's build, over the same SQL.
        outcome = run_dbt(["build", *SLICE, "--exclude", "resource_type:test"])
        assert outcome.success, outcome.failures

        assert spark_query(spark, "select count(*) from bronze_shopify.orders") == [(loaded["shopify.orders"],)]
        assert spark_query(spark, "select count(*) from sales.fct_orders")[0][0] > 0
        location = spark_query(spark, "describe detail sales.fct_orders")[0]
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


def spark_query(spark: SparkServer, sql: str) -> list[tuple]:
    with thrift_cursor(spark.endpoint) as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
