"""Retention of silver, snapshots and marts through the Spark Thrift server: exactly the expired rows go.

Small Delta tables named like the project's models (so the seed's classifications apply), in databases of
this test's own (the session's Thrift server is shared), with rows on both sides of each cutoff.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lakehouse.catalog import thrift_cursor
from lakehouse.privacy.retention import LayerPolicy, apply_layer_retention
from tests.helpers.spark import SparkServer

NOW = datetime(2026, 6, 1, tzinfo=UTC)  # pii: 3 years -> 2023-06-01; internal: 5 -> 2021-06-01; restricted: 10


@pytest.fixture
def layers(spark_local: SparkServer) -> Iterator[tuple[object, dict[str, str]]]:
    """A cursor and three fresh databases (silver, snapshots, a mart), dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    databases = {f"rt_silver_{suffix}": "silver", f"rt_snapshots_{suffix}": "snapshots", f"rt_sales_{suffix}": "marts"}
    with thrift_cursor(spark_local.endpoint) as cursor:
        for database in databases:
            cursor.execute(f"create database {database}")
        try:
            yield cursor, databases
        finally:
            for database in databases:
                cursor.execute(f"drop database if exists {database} cascade")


def create(cursor, table: str, columns: str, rows: list[str]) -> None:
    cursor.execute(f"create table {table} ({columns}) using delta")
    cursor.execute(f"insert into {table} values {', '.join(rows)}")


def ids(cursor, table: str) -> list:
    cursor.execute(f"select * from {table} order by 1")
    return [row[0] for row in cursor.fetchall()]


def test_retention_counts_then_deletes_exactly_the_expired_rows_of_each_layer(layers) -> None:
    cursor, databases = layers
    silver, snapshots, sales = databases
    # slv_orders is pii (3 years), slv_payments restricted (10): the same load time expires in one only.
    create(
        cursor,
        f"{silver}.slv_orders",
        "order_id bigint, _loaded_at timestamp",
        ["(1, timestamp'2022-05-01 00:00:00')", "(2, timestamp'2023-07-01 00:00:00')", "(3, timestamp'2026-05-01')"],
    )
    create(
        cursor,
        f"{silver}.slv_payments",
        "payment_id bigint, _loaded_at timestamp",
        ["(1, timestamp'2015-01-01 00:00:00')", "(2, timestamp'2022-05-01 00:00:00')"],
    )
    # snp_customers is internal (5 years), dated by when a version stopped being current; the current one stays.
    create(
        cursor,
        f"{snapshots}.snp_customers",
        "customer_key string, dbt_valid_from timestamp, dbt_valid_to timestamp",
        [
            "('a', timestamp'2015-01-01', timestamp'2020-01-01')",
            "('b', timestamp'2020-01-01', timestamp'2022-01-01')",
            "('c', timestamp'2010-01-01', null)",
        ],
    )
    # dim_customers (internal): the latest of the last order and the last change dates a customer.
    create(
        cursor,
        f"{sales}.dim_customers",
        "customer_key string, last_order_date date, updated_at timestamp",
        [
            "('x', date'2019-01-01', timestamp'2020-01-01')",
            "('y', date'2019-01-01', timestamp'2025-01-01')",
            "('z', null, timestamp'2020-06-01')",
            "('w', null, null)",
        ],
    )
    create(cursor, f"{sales}.fct_returns", "return_id bigint, returned_date date", ["(1, date'2001-01-01')"])
    project = LayerPolicy.load()
    policy = LayerPolicy(databases=databases, dated_by=project.dated_by, marts=project.marts)

    dry = apply_layer_retention(cursor, now=NOW, policy=policy)
    assert {r.table: (r.layer, r.classification, r.expired_rows) for r in dry} == {
        f"{silver}.slv_orders": ("silver", "pii", 1),
        f"{silver}.slv_payments": ("silver", "restricted", 1),
        f"{snapshots}.snp_customers": ("snapshots", "internal", 1),
        f"{sales}.dim_customers": ("marts", "internal", 2),
        f"{sales}.fct_returns": ("marts", "internal", 0),
    }
    (unlisted,) = [r for r in dry if r.table.endswith("fct_returns")]
    assert unlisted.dated_by == [] and "retention.yml" in unlisted.note  # reported, not silently skipped
    assert ids(cursor, f"{silver}.slv_orders") == [1, 2, 3]  # a dry run deletes nothing

    applied = apply_layer_retention(cursor, now=NOW, policy=policy, apply=True)
    assert sum(r.expired_rows for r in applied) == 5
    assert ids(cursor, f"{silver}.slv_orders") == [2, 3]
    assert ids(cursor, f"{silver}.slv_payments") == [2]
    assert ids(cursor, f"{snapshots}.snp_customers") == ["b", "c"]
    assert ids(cursor, f"{sales}.dim_customers") == ["w", "y"]
    assert ids(cursor, f"{sales}.fct_returns") == [1]  # not dated by the policy: untouched

    again = apply_layer_retention(cursor, now=NOW, policy=policy, apply=True)
    assert sum(r.expired_rows for r in again) == 0
