"""A record updated in a SaaS API between two runs is updated in silver: REST API → bronze → staging → silver.

`sources/rest/salesforce.yml` (`type: rest`) loads the generated company from the API stand-in
(tests/helpers/api_standins.py), and dbt builds what its leads feed, `stg_salesforce__leads` and
`slv_leads`, on a Spark server of its own, with the staging views over the two REST shapes the files
family does not land alike: Salesforce accounts from Bulk API 2.0 CSV (no `attributes`, values typed
from text) and Shopify products from the GraphQL Admin API (mapped to the REST names). Then the
company's next day changes a lead's status in the API; the next load takes that day's leads only, the
incremental build merges them, and silver shows the new status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import company
from lakehouse.catalog import thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from lakehouse.demo import load_and_register
from loaders.core.config import load_source_config
from loaders.pipeline import load_source
from loaders.rest.records import to_instant
from tests.helpers.api_standins import RunningStandIn, source_environment, start_standin
from tests.helpers.loader_io import PROJECT_DIR
from tests.helpers.spark import SparkServer

REST_DIR = PROJECT_DIR / "sources" / "rest"
DAYS = 10
INCREMENT = (company.DEFAULT_START + timedelta(days=DAYS)).isoformat()
BUILD = [
    "build",
    "--select",
    "+slv_leads",
    "stg_salesforce__accounts",
    "stg_shopify__products",
    "--exclude",
    "resource_type:test",  # slv_leads' tests run in the company lakehouse's build, over the same SQL
    "--vars",
    json.dumps({"observability_enabled": False}),
]


@pytest.fixture(scope="module")
def company_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small company's history, and its next day beside it (applied to the API on demand)."""
    out = tmp_path_factory.mktemp("home") / "samples" / "company"
    company.generate(out, seed=7, scale=0.05, days=DAYS)
    company.generate_increment(out, DAYS, seed=7, scale=0.05)
    return out


@pytest.fixture(scope="module")
def saas_api_server(company_dir: Path) -> Iterator[RunningStandIn]:
    running = start_standin(company_dir)
    yield running
    running.stop()


def query(spark: SparkServer, sql: str) -> list[tuple[Any, ...]]:
    with thrift_cursor(spark.endpoint) as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


def build() -> None:
    outcome = run_dbt(BUILD)
    assert outcome.success, outcome.failures


def latest(records: list[dict[str, Any]], key: str, cursor: str) -> dict[Any, dict[str, Any]]:
    newest: dict[Any, dict[str, Any]] = {}
    for record in records:
        held = newest.get(record[key])
        if held is None or to_instant(record[cursor]) >= to_instant(held[cursor]):
            newest[record[key]] = record
    return newest


def utc(value: str) -> str:
    moment = to_instant(value)
    assert moment is not None, value
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SPARK_UTC = "yyyy-MM-dd'T'HH:mm:ss'Z'"


def test_a_lead_updated_in_salesforce_between_runs_is_updated_in_silver(
    saas_api_server: RunningStandIn,
    company_dir: Path,
    spark_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = saas_api_server.standin
    api.reset()
    for name, value in source_environment(saas_api_server, company_dir.parent.parent).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))  # a Spark server of its own needs a home of its own
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    (tmp_path / "root").mkdir()
    root = LakehouseRoot.parse(str(tmp_path / "root"))
    spark: SparkServer = spark_factory(root)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))
    salesforce = load_source_config(REST_DIR / "salesforce.yml")
    shopify = load_source_config(REST_DIR / "shopify.yml")
    assert salesforce.type == shopify.type == "rest"
    load_and_register(root, spark.endpoint, [salesforce, shopify])
    build()

    # staging reads the REST shapes as it reads the files: Bulk API accounts and GraphQL products
    accounts = latest(api.rows("salesforce", "accounts"), "Id", "SystemModstamp")
    staged_accounts = query(
        spark,
        f'select account_id, is_person_account, employee_count, email, date_format(updated_at, "{SPARK_UTC}") '
        "from staging.stg_salesforce__accounts",
    )
    assert sorted(staged_accounts) == sorted(
        (a["Id"], a["IsPersonAccount"], a["NumberOfEmployees"], a["PersonEmail"], utc(a["SystemModstamp"]))
        for a in accounts.values()
    )
    products = latest(api.rows("shopify", "products"), "id", "updated_at")
    staged_products = query(
        spark,
        "select product_id, variant_id, sku, grams, price, product_status, "
        f'date_format(updated_at, "{SPARK_UTC}") from staging.stg_shopify__products',
    )
    assert sorted(staged_products) == sorted(
        (
            p["id"],
            p["variants"][0]["id"],
            p["variants"][0]["sku"].upper(),
            p["variants"][0]["grams"],
            Decimal(p["variants"][0]["price"]),
            p["status"],
            utc(p["updated_at"]),
        )
        for p in products.values()
    )

    # the next day: one known lead changes status in Salesforce, another is new
    before = latest(api.rows("salesforce", "leads"), "Id", "SystemModstamp")
    assert query(spark, "select count(*), count(distinct lead_id) from silver.slv_leads") == [
        (len(before), len(before))
    ]
    api.advance(INCREMENT)
    after = latest(api.rows("salesforce", "leads"), "Id", "SystemModstamp")
    changed = [i for i in before if after[i]["Status"] != before[i]["Status"]]
    assert changed, "the generated day changes no known lead's status: pick another day or seed"
    lead = changed[0]
    silver_status = (
        f"select lead_status, date_format(updated_at, \"{SPARK_UTC}\") from silver.slv_leads where lead_id = '{lead}'"
    )
    assert query(spark, silver_status) == [(before[lead]["Status"], utc(before[lead]["SystemModstamp"]))]

    reloaded = load_source(root, salesforce, streams=["leads"])[0]
    day = [json.loads(line) for line in (company_dir / "salesforce" / "leads" / f"day={INCREMENT}.jsonl").open()]
    assert reloaded.status == "success" and reloaded.rows == len(day)  # that day's leads, nothing again
    build()

    assert query(spark, silver_status) == [(after[lead]["Status"], utc(after[lead]["SystemModstamp"]))]
    assert query(spark, "select count(*), count(distinct lead_id) from silver.slv_leads") == [(len(after), len(after))]
