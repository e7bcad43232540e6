"""Silver on the generated company: built, incremental = full refresh, PII masked, identities resolved.

One module-scoped lakehouse: the synthetic company at scale 0.2 (seed 7, 30 days) generated into a
temporary LAKEHOUSE_HOME, every embedded source loaded into bronze on a temporary local root, the
Spark Thrift server started over it, and `dbt build` run on everything up to silver (with the
snapshots and the revenue mart). Restricted outputs are built unmasked (`unmask_pii`), so the tests
can check both sides of the masking rule. The observability hook and the anomaly tests (which need
run history) are left to their own suite.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from loaders.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from orchestration.catalog import ensure_layer_databases, register_bronze, thrift_cursor
from orchestration.company import generate, generate_increment
from orchestration.source_files import all_sources
from orchestration.transform import DbtOutcome, run_dbt
from tests.support import SparkServer, start_spark

SEED, SCALE, DAYS = 7, 0.2, 30
BUILD_VARS = json.dumps({"unmask_pii": True, "observability_enabled": False})
# The anomaly tests and their models need run history (their own suite covers them); bronze tests are
# warn-only row checks.
EXCLUDED = [
    "--exclude",
    "test_name:volume_anomalies",
    "test_name:column_anomalies",
    "test_name:freshness_anomalies",
    "path:models/staging,resource_type:test",
    "package:lakehouse_observability",
    # seed tests are the reference data's own; snapshot tests run after the increment (below)
    "path:seeds,resource_type:test",
    "path:snapshots,resource_type:test",
]
# Small queries are latency-bound: more dbt threads than cores keeps the Thrift server busy.
THREADS = ["--threads", "4"]
# Everything silver needs and everything built on it (the snapshots and the revenue mart).
SILVER_AND_CHILDREN = ["--select", "+silver+"]
RESTRICTED_SCHEMAS = ("hr",)
NON_RESTRICTED_SCHEMAS = ("silver", "snapshots", "reference", "sales", "marketing", "finance")
# Identity resolution must find at least this share of the true same-person record pairs, and at
# least this share of the pairs it links must be true (pairwise, over the ground truth's records).
MIN_IDENTITY_PRECISION = 0.99
MIN_IDENTITY_RECALL = 0.95


@dataclass
class Lakehouse:
    spark: SparkServer
    company: Path
    build: DbtOutcome
    loaded_rows: dict[str, int] = field(default_factory=dict)

    def query(self, sql: str) -> list[tuple]:
        with thrift_cursor(self.spark.endpoint) as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]

    def tables(self, database: str) -> list[str]:
        return [row[1] for row in self.query(f"show tables in {database}") if not row[2]]  # not temporary


def dbt(*args: str) -> DbtOutcome:
    outcome = run_dbt([*args, *THREADS, "--vars", BUILD_VARS])
    assert outcome.success, "\n".join(outcome.failures)
    return outcome


def load_everything(root: LakehouseRoot, endpoint) -> dict[str, int]:
    configs = all_sources()
    rows: dict[str, int] = {}
    for config in configs:
        for result in load_source(root, config):
            rows[f"{config.source}.{result.stream}"] = result.rows
    with thrift_cursor(endpoint) as cursor:
        ensure_layer_databases(cursor, root)
        register_bronze(cursor, root, configs)
    return rows


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    home = tmp_path_factory.mktemp("silver-home")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LAKEHOUSE_HOME", str(home))
        company = home / "samples" / "company"
        generate(company, seed=SEED, scale=SCALE, days=DAYS)
        root = LakehouseRoot.parse(str(tmp_path_factory.mktemp("silver-root")))
        spark = start_spark(root)
        try:
            monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
            monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))
            loaded = load_everything(root, spark.endpoint)
            build = run_dbt(["build", *SILVER_AND_CHILDREN, *EXCLUDED, *THREADS, "--vars", BUILD_VARS])
            yield Lakehouse(spark, company, build, loaded)
        finally:
            spark.server.stop()


def test_dbt_build_passes_on_the_company(lakehouse: Lakehouse) -> None:
    assert lakehouse.build.success, "\n".join(lakehouse.build.failures)
    statuses = lakehouse.build.statuses
    assert statuses.get("fail", 0) == statuses.get("error", 0) == 0
    assert statuses.get("success", 0) >= 30  # seeds, bronze views, silver models, snapshots, the mart
    assert statuses.get("pass", 0) >= 150
    assert lakehouse.query("select count(*) from silver.slv_orders")[0][0] > 0


# --- incremental = full refresh --------------------------------------------------------------------


def silver_contents(lakehouse: Lakehouse) -> dict[str, list[tuple]]:
    contents = {}
    for database in ("silver", *RESTRICTED_SCHEMAS):
        for table in lakehouse.tables(database):
            if not (table.startswith("slv_") or table.startswith("int_")):
                continue
            rows = lakehouse.query(f"select * from {database}.{table}")
            contents[f"{database}.{table}"] = sorted(rows, key=repr)
    return contents


def test_incremental_build_after_a_day_equals_a_full_refresh(lakehouse: Lakehouse) -> None:
    before = lakehouse.query("select count(*), max(updated_at) from silver.slv_orders")[0]
    generate_increment(lakehouse.company, DAYS, seed=SEED, scale=SCALE)
    day_rows = load_everything(lakehouse.spark.root, lakehouse.spark.endpoint)
    assert sum(day_rows.values()) > 0

    dbt("run", "--select", "silver")
    dbt("snapshot")
    incremental = silver_contents(lakehouse)
    after = lakehouse.query("select count(*), max(updated_at) from silver.slv_orders")[0]
    assert after[0] > before[0] and after[1] > before[1]  # the day's orders arrived

    dbt("run", "--select", "silver", "--full-refresh")
    rebuilt = silver_contents(lakehouse)

    assert incremental.keys() == rebuilt.keys()
    assert len(incremental) >= 20
    differing = {
        name: (len(incremental[name]), len(rebuilt[name])) for name in rebuilt if incremental[name] != rebuilt[name]
    }
    assert not differing, f"incremental and full-refresh silver differ (rows incremental, full): {differing}"


def test_snapshot_validity_windows_have_no_overlaps_or_gaps(lakehouse: Lakehouse) -> None:
    outcome = dbt("test", "--select", "resource_type:snapshot")
    assert outcome.statuses.get("pass", 0) >= 10
    versions = lakehouse.query("select count(*), count(distinct product_id) from snapshots.snp_product_prices")[0]
    assert versions[0] >= versions[1] > 0


# --- PII -------------------------------------------------------------------------------------------


@dataclass
class RawPii:
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    salaries: set[Decimal] = field(default_factory=set)

    def found_in(self, value) -> str | None:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in self.emails:
                return "email"
            if value.strip() in self.phones or digits(value) in self.phones:
                return "phone"
        elif isinstance(value, Decimal | float) and Decimal(str(value)).quantize(Decimal("0.01")) in self.salaries:
            return "salary"  # money columns only: integer ids are not salaries
        return None


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def raw_pii(company: Path) -> RawPii:
    """The personal values the generator wrote: app, CRM, shop and billing emails and phones, HR pay."""
    pii = RawPii()
    users = read_parquet(company / "postgres" / "users")
    pii.emails |= {row["email"].strip().lower() for row in users if row["email"]}
    pii.phones |= {row["phone"] for row in users if row["phone"]}
    for row in read_parquet(company / "oracle" / "employee_data"):
        pii.emails.add(row["EMAIL"].lower())
        if row["PHONE_NUMBER"]:
            pii.phones.add(row["PHONE_NUMBER"])
        pii.salaries.add(Decimal(row["SALARY"]).quantize(Decimal("0.01")))
    for system, stream, email_path, phone_path in (
        ("stripe", "customers", ("email",), ("phone",)),
        ("hubspot", "contacts", ("properties", "email"), ("properties", "phone")),
        ("shopify", "customers", ("email",), ("phone",)),
    ):
        for record in read_jsonl(company / system / stream):
            email, phone = dig(record, email_path), dig(record, phone_path)
            if isinstance(email, str) and email.strip():
                pii.emails.add(email.strip().lower())
            if isinstance(phone, str) and phone.strip():
                pii.phones.add(phone.strip())
    pii.phones |= {digits(phone) for phone in pii.phones if len(digits(phone)) >= 10}
    return pii


def read_parquet(folder: Path) -> list[dict]:
    return [row for path in sorted(folder.glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def read_jsonl(folder: Path) -> Iterator[dict]:
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the generator's deliberately broken lines
            if isinstance(record, dict):
                yield record


def dig(record: dict, path: tuple[str, ...]):
    for key in path:
        record = record.get(key) if isinstance(record, dict) else None
    return record


def scan(lakehouse: Lakehouse, database: str, pii: RawPii) -> dict[str, set[str]]:
    """`database.table.column` -> the kinds of raw personal value found in it."""
    found: dict[str, set[str]] = defaultdict(set)
    for table in lakehouse.tables(database):
        with thrift_cursor(lakehouse.spark.endpoint) as cursor:
            cursor.execute(f"select * from {database}.{table}")
            columns = [d[0].split(".")[-1] for d in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    kind = pii.found_in(value)
                    if kind:
                        found[f"{database}.{table}.{column}"].add(kind)
    return found


def test_no_raw_pii_outside_the_restricted_schema(lakehouse: Lakehouse) -> None:
    pii = raw_pii(lakehouse.company)
    assert len(pii.emails) > 500 and len(pii.phones) > 500 and len(pii.salaries) > 20

    leaks = {}
    for database in NON_RESTRICTED_SCHEMAS:
        if database in {row[0] for row in lakehouse.query("show databases")}:
            leaks.update(scan(lakehouse, database, pii))
    assert not leaks, f"raw personal data outside the restricted schema: {dict(leaks)}"

    # Built with `unmask_pii`, the restricted schema keeps the detail HR analysts need.
    restricted = scan(lakehouse, "hr", pii)
    kinds = set().union(*restricted.values()) if restricted else set()
    assert {"email", "phone", "salary"} <= kinds, restricted
    assert "hr.slv_employees.monthly_salary_usd" in restricted


def test_masked_values_are_salted_hashes_that_still_join(lakehouse: Lakehouse) -> None:
    # The same person's email hashes to the same value in the customer and the order models.
    joined = lakehouse.query(
        "select count(*) from silver.slv_orders as orders "
        "inner join silver.slv_customers as customers on orders.customer_email = customers.email"
    )[0][0]
    assert joined > 0
    emails = lakehouse.query("select email from silver.slv_customers where email is not null limit 50")
    assert emails and all(len(email) == 64 and set(email) <= set("0123456789abcdef") for (email,) in emails)


# --- identity resolution ---------------------------------------------------------------------------


def pairs(groups: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for members in groups.values() for pair in combinations(sorted(members), 2)}


def test_identity_resolution_matches_the_ground_truth(lakehouse: Lakehouse) -> None:
    truth = json.loads((lakehouse.company / "_ground_truth" / "identity.json").read_text())["records"]
    true_person = {
        f"{system}:{record_id}": person for system, records in truth.items() for record_id, person in records.items()
    }
    resolved = {
        f"{system}:{record_id}": customer_key
        for system, record_id, customer_key in lakehouse.query(
            "select source_system, source_record_id, customer_key from silver.slv_customer_identity_map"
        )
    }
    scored = true_person.keys() & resolved.keys()
    assert len(scored) >= 0.95 * len(resolved)  # the map covers the systems the ground truth scores

    by_person: dict[str, set[str]] = defaultdict(set)
    by_customer: dict[str, set[str]] = defaultdict(set)
    for record in scored:
        by_person[true_person[record]].add(record)
        by_customer[resolved[record]].add(record)
    true_pairs, found_pairs = pairs(by_person), pairs(by_customer)
    precision = len(true_pairs & found_pairs) / len(found_pairs)
    recall = len(true_pairs & found_pairs) / len(true_pairs)
    print(
        f"\nidentity resolution over {len(scored)} records, {len(by_person)} persons, {len(by_customer)} customers: "
        f"pairwise precision {precision:.4f}, recall {recall:.4f}"
    )
    assert precision >= MIN_IDENTITY_PRECISION
    assert recall >= MIN_IDENTITY_RECALL


# --- data classification ---------------------------------------------------------------------------


def test_the_data_classification_seed_mirrors_the_column_meta(lakehouse: Lakehouse) -> None:
    """Masking follows the YAML `meta`; the seed documents it. Every `pii` column is in the seed, alike."""
    import csv
    import os

    manifest = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    from_meta = {
        (node["name"], column["name"]): column["meta"]["pii"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot", "seed")
        for column in node["columns"].values()
        if (column.get("meta") or {}).get("pii")
    }
    seed = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "data_classification.csv"
    with seed.open() as handle:
        from_seed = {(row["model_name"], row["column_name"]): row["pii_kind"] for row in csv.DictReader(handle)}
    assert from_meta == {key: kind for key, kind in from_seed.items() if kind}
