"""Silver on the generated company: built, incremental = full refresh, PII masked, identities resolved.

Reads the session's company lakehouse (tests/helpers/company_lakehouse.py): the synthetic company at
scale 0.2 (seed 7, 30 days) loaded into bronze and built by one `dbt build`, restricted outputs
unmasked (`unmask_pii`) so the tests can check both sides of the masking rule.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lakehouse.catalog import thrift_cursor
from tests.helpers.company_lakehouse import CompanyLakehouse

RESTRICTED_SCHEMAS = ("hr",)
NON_RESTRICTED_SCHEMAS = ("silver", "snapshots", "reference", "sales", "marketing", "finance")
# Identity resolution must find at least this share of the true same-person record pairs, and at
# least this share of the pairs it links must be true (pairwise, over the ground truth's records).
MIN_IDENTITY_PRECISION = 0.99
MIN_IDENTITY_RECALL = 0.95


@pytest.fixture(scope="module")
def lakehouse(company_lakehouse: CompanyLakehouse) -> CompanyLakehouse:
    return company_lakehouse


def test_dbt_build_passes_on_the_company(lakehouse: CompanyLakehouse) -> None:
    assert lakehouse.build.success, "\n".join(lakehouse.build.failures)
    statuses = lakehouse.build.statuses
    assert statuses.get("fail", 0) == statuses.get("error", 0) == 0
    assert statuses.get("success", 0) >= 30  # seeds, bronze views, silver models, snapshots, the mart
    assert statuses.get("pass", 0) >= 150
    assert lakehouse.query("select count(*) from silver.slv_orders")[0][0] > 0


# --- incremental = full refresh --------------------------------------------------------------------


def orders_first_seen_on_the_last_day(company: Path) -> set[int]:
    """Shopify order ids in the newest day's file that no earlier file holds: the day's new orders."""
    *earlier, last = sorted((company / "shopify" / "orders").glob("*.jsonl"))
    seen = set().union(*(order_ids(path) for path in earlier))
    return order_ids(last) - seen


def order_ids(path: Path) -> set[int]:
    """The ids of a file's well-formed orders (the generator's broken lines go to quarantine)."""
    ids = set()
    for line in path.read_text().splitlines():
        try:
            ids.add(int(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return ids


def silver_contents(lakehouse: CompanyLakehouse) -> dict[str, list[tuple]]:
    contents = {}
    for database in ("silver", *RESTRICTED_SCHEMAS):
        for table in lakehouse.tables(database):
            if not (table.startswith("slv_") or table.startswith("int_")):
                continue
            rows = lakehouse.query(f"select * from {database}.{table}")
            contents[f"{database}.{table}"] = sorted(rows, key=repr)
    return contents


@pytest.mark.mutates_company_lakehouse
def test_incremental_build_after_a_day_equals_a_full_refresh(lakehouse: CompanyLakehouse, next_day: int) -> None:
    # Another test of the session may have built some models on this day already (the day is shared).
    new_orders = orders_first_seen_on_the_last_day(lakehouse.company)
    assert next_day > 0 and new_orders

    lakehouse.dbt("run", "--select", "silver")
    lakehouse.dbt("snapshot")
    incremental = silver_contents(lakehouse)
    in_silver = {row[0] for row in lakehouse.query("select order_id from silver.slv_orders")}
    assert new_orders <= in_silver, f"the day's orders missing from silver: {sorted(new_orders - in_silver)[:10]}"

    lakehouse.dbt("run", "--select", "silver", "--full-refresh")
    rebuilt = silver_contents(lakehouse)

    assert incremental.keys() == rebuilt.keys()
    assert len(incremental) >= 20
    differing = {
        name: (len(incremental[name]), len(rebuilt[name])) for name in rebuilt if incremental[name] != rebuilt[name]
    }
    assert not differing, f"incremental and full-refresh silver differ (rows incremental, full): {differing}"


@pytest.mark.mutates_company_lakehouse
def test_snapshot_validity_windows_have_no_overlaps_or_gaps(lakehouse: CompanyLakehouse, next_day: int) -> None:
    lakehouse.dbt("snapshot")
    outcome = lakehouse.dbt("test", "--select", "resource_type:snapshot")
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


HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Scan:
    """What a scan of every table of some databases found: raw personal values and SHA-256 digests."""

    leaks: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # db.table.column -> kinds
    digests: set[str] = field(default_factory=set)


def scan(lakehouse: CompanyLakehouse, database: str, pii: RawPii, into: Scan | None = None) -> Scan:
    """Every value of every table of `database`: raw personal values by column, and hex SHA-256 digests."""
    found = into or Scan()
    for table in lakehouse.tables(database):
        with thrift_cursor(lakehouse.spark.endpoint) as cursor:
            cursor.execute(f"select * from {database}.{table}")
            columns = [d[0].split(".")[-1] for d in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    kind = pii.found_in(value)
                    if kind:
                        found.leaks[f"{database}.{table}.{column}"].add(kind)
                    if isinstance(value, str) and HEX_DIGEST.match(value):
                        found.digests.add(value)
    return found


@pytest.fixture(scope="module")
def raw(lakehouse: CompanyLakehouse) -> RawPii:
    pii = raw_pii(lakehouse.company)
    assert len(pii.emails) > 500 and len(pii.phones) > 500 and len(pii.salaries) > 20
    return pii


@pytest.fixture(scope="module")
def outside_restricted(lakehouse: CompanyLakehouse, raw: RawPii) -> Scan:
    """One scan of every table outside the restricted schema."""
    found = Scan()
    databases = {row[0] for row in lakehouse.query("show databases")}
    for database in NON_RESTRICTED_SCHEMAS:
        if database in databases:
            scan(lakehouse, database, raw, found)
    return found


def test_no_raw_pii_outside_the_restricted_schema(
    lakehouse: CompanyLakehouse, raw: RawPii, outside_restricted: Scan
) -> None:
    leaks = dict(outside_restricted.leaks)
    assert not leaks, f"raw personal data outside the restricted schema: {leaks}"

    # Built with `unmask_pii`, the restricted schema keeps the detail HR analysts need.
    restricted = scan(lakehouse, "hr", raw).leaks
    kinds = set().union(*restricted.values()) if restricted else set()
    assert {"email", "phone", "salary"} <= kinds, restricted
    assert "hr.slv_employees.monthly_salary_usd" in restricted


def configured_salt() -> str:
    """The salt the build used: LAKEHOUSE_PII_SALT, else the local target's default in profiles.yml."""
    profiles = (Path(__file__).resolve().parents[2] / "dbt" / "profiles.yml").read_text()
    default = re.search(r"env_var\('LAKEHOUSE_PII_SALT', '([^']+)'\)", profiles)  # the local target's
    assert default, "profiles.yml no longer defaults the local target's salt from LAKEHOUSE_PII_SALT"
    return os.environ.get("LAKEHOUSE_PII_SALT", default[1])


def normalized_phone(phone: str) -> str | None:
    """As the masking macro normalises a phone (normalize_phone): digits, a 10-digit number gets its 1."""
    number = digits(phone)
    return "1" + number if len(number) == 10 else number or None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_masked_values_are_salted_hashes_that_still_join(
    lakehouse: CompanyLakehouse, raw: RawPii, outside_restricted: Scan
) -> None:
    # The generator's emails and phones, normalised as the masking macros normalise them.
    values = raw.emails | {phone for phone in map(normalized_phone, raw.phones) if phone}
    unsalted = {sha256(value): value for value in values}
    salted = {sha256(configured_salt() + value): value for value in values}

    # A digest of a raw value without the salt can be reversed with a dictionary of emails and phones:
    # none may appear in any table outside the restricted schema.
    unsalted_found = outside_restricted.digests & unsalted.keys()
    assert not unsalted_found, f"unsalted hashes of {sorted(unsalted[d] for d in unsalted_found)[:5]}..."
    # With the configured salt they are the hashes silver stores (so the check above looked at real hashes).
    salted_emails = {digest for digest, value in salted.items() if "@" in value}
    assert len(outside_restricted.digests & salted_emails) > 500
    assert len(outside_restricted.digests & (salted.keys() - salted_emails)) > 100  # phones

    # The same person's email hashes to the same value in the customer and the order models.
    joined = lakehouse.query(
        "select count(*) from silver.slv_orders as orders "
        "inner join silver.slv_customers as customers on orders.customer_email = customers.email"
    )[0][0]
    assert joined > 0


# --- identity resolution ---------------------------------------------------------------------------


def pairs(groups: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for members in groups.values() for pair in combinations(sorted(members), 2)}


def test_identity_resolution_matches_the_ground_truth(lakehouse: CompanyLakehouse) -> None:
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


def test_the_data_classification_seed_mirrors_the_column_meta(lakehouse: CompanyLakehouse) -> None:
    """Masking follows the YAML `meta`; the seed documents it. Every `pii` column is in the seed, alike."""
    manifest = json.loads((lakehouse.target_dir / "manifest.json").read_text())  # the session build's
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
