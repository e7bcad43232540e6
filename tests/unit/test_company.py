"""The synthetic company: determinism, coverage of every seed system, native shapes, identity noise,
increments, injections and dirty records."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from company import Injection, Manifest, generate, generate_increment
from company.clock import history_batch_name

SCALE = 0.2
DAYS = 30
START = date(2026, 1, 1)
NEXT = DAYS  # the first day after the history
NEXT_BATCH = "day=2026-01-31"
HISTORY = history_batch_name(START, DAYS)  # "day=2026-01-30-history"

SEED_STREAMS = {
    "postgres": ("users", "subscriptions", "product_inventory"),
    "mysql": ("customer_data", "order_history"),
    "sqlserver": ("inventory_movements", "financial_reports"),
    "oracle": ("employee_data", "payroll_records"),
    "snowflake": ("customer_orders", "product_catalog", "financial_transactions"),
    "redshift": ("marketing_campaigns", "customer_behavior"),
    "bigquery": ("web_analytics", "mobile_analytics"),
    "mongodb": ("user_sessions", "product_reviews"),
    "dynamodb": ("user_preferences", "session_data"),
    "kafka": ("user_events", "order_events", "inventory_updates"),
    "kinesis": ("real_time_data_stream",),
    "salesforce": ("leads", "opportunities", "accounts"),
    "hubspot": ("contacts", "deals", "companies"),
    "shopify": ("orders", "products", "customers"),
    "stripe": ("charges", "customers", "subscriptions"),
    "google_ads": ("campaigns", "ad_groups"),
    "facebook_ads": ("campaigns", "ads"),
    "sftp": ("vendor_data", "partner_reports"),
    "ftp": ("legacy_reports",),
    "google_cloud_storage": ("bigquery_exports", "analytics_exports"),
    "azure_blob_storage": ("powerbi_exports", "dynamics_exports"),
    "iot_core": ("sensor_data", "device_status"),
    "mixpanel": ("events", "funnels"),
    "amplitude": ("events", "user_properties"),
    "segment": ("events", "identify"),
    "sap": ("sales_orders", "material_master", "financial_documents"),
    "workday": ("employees", "positions", "organizations"),
    "netsuite": ("customers", "sales_orders", "inventory_items"),
}
KIND_FORMAT = {
    "sql": "parquet",
    "warehouse": "parquet",
    "nosql": "jsonl",
    "stream": "jsonl",
    "saas": "jsonl",
    "iot": "jsonl",
    "files": "csv",
}


def _tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _jsonl(path: Path) -> Iterator[Any]:
    """Parsed lines; unparseable (dirty) lines come back as None."""
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            yield None


def _clean(path: Path, key: str = "id") -> list[dict[str, Any]]:
    return [r for r in _jsonl(path) if isinstance(r, dict) and key in r]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("history")
    manifest = generate(out, seed=7, scale=SCALE, start=START, days=DAYS)
    return out, manifest


@pytest.fixture(scope="module")
def continued(history: tuple[Path, Manifest], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """A copy of the history plus the next day's increment (the history itself stays as generated)."""
    out = tmp_path_factory.mktemp("continued") / "data"
    shutil.copytree(history[0], out)
    return out, generate_increment(out, NEXT, seed=7, scale=SCALE, start=START)


def test_same_arguments_give_byte_identical_files(tmp_path: Path, continued: tuple[Path, Manifest]) -> None:
    first, _ = continued
    second = tmp_path / "again"
    generate(second, seed=7, scale=SCALE, start=START, days=DAYS)
    generate_increment(second, NEXT, seed=7, scale=SCALE, start=START)
    assert _tree_hashes(first) == _tree_hashes(second)
    generate_increment(second, NEXT, seed=7, scale=SCALE, start=START)  # re-running changes nothing
    assert _tree_hashes(first) == _tree_hashes(second)


def test_a_different_seed_gives_different_data(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, seed=1, scale=0.05, days=3)
    generate(b, seed=2, scale=0.05, days=3)
    ha, hb = _tree_hashes(a), _tree_hashes(b)
    data_files = [k for k in ha if k in hb and not k.startswith("_ground_truth") and k != "manifest.json"]
    assert len(data_files) > 50
    assert sum(ha[k] != hb[k] for k in data_files) > len(data_files) * 0.8


def test_every_seed_system_and_stream_has_rows_in_its_native_format(history: tuple[Path, Manifest]) -> None:
    out, manifest = history
    assert sorted(SEED_STREAMS) == sorted(s for s in manifest.systems if s != "s3")
    for system, streams in SEED_STREAMS.items():
        entry = manifest.systems[system]
        assert set(streams) <= set(entry.streams), system
        for stream in streams:
            st = entry.streams[stream]
            assert st.format == KIND_FORMAT[entry.kind], (system, stream)
            assert st.frequency in ("real-time", "hourly", "daily", "weekly", "monthly")
            path = out / system / stream / f"{HISTORY}.{st.format}"
            assert path.exists(), path
            assert st.row_count > 0, (system, stream)
            _assert_readable(path, st.format, st.row_count - st.dirty_count)


def _assert_readable(path: Path, fmt: str, clean_rows: int) -> None:
    if fmt == "parquet":
        assert pq.read_metadata(path).num_rows == clean_rows
    elif fmt == "jsonl":
        parsed = list(_jsonl(path))
        assert sum(isinstance(r, dict) for r in parsed) >= clean_rows
    else:
        header, *body = path.read_text(encoding="utf-8").splitlines()
        assert header and len(body) == clean_rows


def test_manifest_on_disk_matches_the_returned_manifest(history: tuple[Path, Manifest]) -> None:
    out, manifest = history
    assert (out / "manifest.json").read_text() == manifest.to_json()
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["systems"]["stripe"]["kind"] == "saas"
    charges = on_disk["systems"]["stripe"]["streams"]["charges"]
    assert charges["primary_key"] == ["id"] and charges["frequency"] == "real-time"
    assert {s["kind"] for s in on_disk["systems"].values()} == set(KIND_FORMAT)
    assert Manifest.from_json((out / "manifest.json").read_text()).total_rows == on_disk["total_rows"]


def test_database_tables_carry_precise_arrow_types(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    users = pq.read_schema(out / f"postgres/users/{HISTORY}.parquet")
    assert str(users.field("updated_at").type) == "timestamp[us, tz=UTC]"
    subs = pq.read_schema(out / f"postgres/subscriptions/{HISTORY}.parquet")
    assert str(subs.field("unit_price").type) == "decimal128(10, 2)"
    oracle = pq.read_schema(out / f"oracle/employee_data/{HISTORY}.parquet")
    assert {"EMPLOYEE_ID", "HIRE_DATE", "SALARY"} <= set(oracle.names)
    assert str(pq.read_schema(out / f"sqlserver/inventory_movements/{HISTORY}.parquet").field("UnitCost").type) == (
        "decimal128(19, 4)"
    )


def test_stripe_charges_look_like_stripe_charges(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    charges = _clean(out / f"stripe/charges/{HISTORY}.jsonl")
    assert len(charges) > 100
    for ch in charges[:200]:
        assert ch["id"].startswith("ch_") and ch["object"] == "charge"
        assert isinstance(ch["amount"], int) and ch["amount"] > 0
        assert ch["currency"] in ("usd", "eur", "gbp", "cad")
        assert ch["customer"].startswith("cus_")
        assert isinstance(ch["created"], int) and isinstance(ch["refunded"], bool)
        assert ch["status"] in ("succeeded", "failed")
        assert ch["refunds"]["object"] == "list"
    assert any(ch["amount_refunded"] > 0 for ch in charges)
    assert any(ch["status"] == "failed" for ch in charges)


def test_native_shapes_of_other_apis(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    opp = _clean(out / f"salesforce/opportunities/{HISTORY}.jsonl", "Id")[0]
    assert {"Id", "AccountId", "StageName", "Amount", "CloseDate", "SystemModstamp", "IsDeleted"} <= set(opp)
    contact = _clean(out / f"hubspot/contacts/{HISTORY}.jsonl")[0]
    assert set(contact) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    order = _clean(out / f"shopify/orders/{HISTORY}.jsonl")[0]
    assert isinstance(order["total_price"], str) and order["line_items"] and "email" in order
    item = json.loads((out / f"dynamodb/user_preferences/{HISTORY}.jsonl").read_text().splitlines()[0])["Item"]
    assert set(item["user_id"]) == {"S"} and set(item["updated_at"]) == {"N"}
    message = next(r for r in _jsonl(out / f"kafka/order_events/{HISTORY}.jsonl") if r)
    assert {"key", "partition", "offset", "timestamp", "value"} <= set(message)
    ga4 = pq.read_table(out / f"bigquery/web_analytics/{HISTORY}.parquet").slice(0, 1).to_pylist()[0]
    assert ga4["event_params"] and {"key", "value"} == set(ga4["event_params"][0])
    assert ga4["event_timestamp"] > 1_700_000_000_000_000


def test_stripe_crm_email_match_share_equals_the_stated_share(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    crm: set[str] = set()
    for acc in _clean(out / f"salesforce/accounts/{HISTORY}.jsonl", "Id"):
        if not acc["IsDeleted"] and acc.get("PersonEmail"):
            crm.add(acc["PersonEmail"].strip().lower())
    for contact in _clean(out / f"hubspot/contacts/{HISTORY}.jsonl"):
        email = contact["properties"].get("email")
        if not contact["archived"] and email:
            crm.add(email.strip().lower())
    customers = {c["id"]: c for c in _clean(out / f"stripe/customers/{HISTORY}.jsonl") if isinstance(c["id"], str)}
    matched = sum(1 for c in customers.values() if c["email"] and c["email"].strip().lower() in crm)
    stated = json.loads((out / "_ground_truth/identity.json").read_text())["stripe_crm_email_match"]
    assert stated["stripe_customers"] == len(customers)
    assert matched == stated["matched"]
    assert abs(matched / len(customers) - stated["intended_share"]) <= 1 / len(customers)


def test_identity_noise_is_present(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    identity = json.loads((out / "_ground_truth/identity.json").read_text())["records"]
    legacy = identity["mysql.customer_data"]
    assert len(legacy) > len(set(legacy.values()))  # duplicate legacy records of one person
    emails = [c["email"] for c in _clean(out / f"stripe/customers/{HISTORY}.jsonl") if c["email"]]
    assert any(e != e.strip() for e in emails) and any(e != e.lower() for e in emails)


def test_increment_updates_and_deletes_rows_of_the_history(continued: tuple[Path, Manifest]) -> None:
    out, increment = continued
    stats = increment.systems["postgres"].streams["users"].batches[NEXT_BATCH]
    assert stats.delete_count >= 1 and stats.deletes_file
    users_before = set(pq.read_table(out / f"postgres/users/{HISTORY}.parquet").column("id").to_pylist())
    deleted = [json.loads(line)["id"] for line in (out / stats.deletes_file).read_text().splitlines()]
    assert set(deleted) <= users_before
    before = {o["id"]: o["updated_at"] for o in _clean(out / f"shopify/orders/{HISTORY}.jsonl")}
    after = _clean(out / f"shopify/orders/{NEXT_BATCH}.jsonl")
    updates = [o for o in after if o["id"] in before]
    assert updates, "fulfilments and refunds should update orders placed in the history"
    assert all(_shop_time(o["updated_at"]) > _shop_time(before[o["id"]]) for o in updates)
    assert any(o["id"] not in before for o in after)
    session_deletes = increment.systems["dynamodb"].streams["session_data"].batches[NEXT_BATCH]
    assert session_deletes.delete_count > 0


def _shop_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_increment_carries_late_arriving_records(continued: tuple[Path, Manifest]) -> None:
    out, _ = continued
    day_start_ms = int(datetime(2026, 1, 31, tzinfo=UTC).timestamp() * 1000)
    late = 0
    for topic in ("user_events", "order_events", "inventory_updates"):
        for msg in _jsonl(out / f"kafka/{topic}/{NEXT_BATCH}.jsonl"):
            if isinstance(msg, dict) and isinstance(msg.get("value"), dict) and "occurred_at" in msg["value"]:
                occurred = datetime.fromisoformat(msg["value"]["occurred_at"]).timestamp() * 1000
                late += occurred < day_start_ms
    mobile = pq.read_table(out / f"bigquery/mobile_analytics/{NEXT_BATCH}.parquet").column("event_timestamp")
    late += sum(ts < day_start_ms * 1000 for ts in mobile.to_pylist())
    assert late > 0


def test_volume_drop_reduces_that_source_on_that_day(tmp_path: Path, continued: tuple[Path, Manifest]) -> None:
    _, increment = continued
    dropped = generate_increment(
        tmp_path, NEXT, seed=7, scale=SCALE, start=START, inject=Injection("kafka", "volume_drop", 0.1)
    )
    for stream, normal in increment.systems["kafka"].streams.items():
        before = normal.batches[NEXT_BATCH].row_count
        after = dropped.systems["kafka"].streams[stream].batches[NEXT_BATCH]
        assert after.injection and after.injection["kind"] == "volume_drop"
        assert after.row_count <= max(1, before * 0.2) < before
    untouched = dropped.systems["stripe"].streams["charges"].batches[NEXT_BATCH]
    assert untouched.row_count == increment.systems["stripe"].streams["charges"].batches[NEXT_BATCH].row_count


def test_schema_change_adds_a_column_and_changes_a_type(tmp_path: Path) -> None:
    m = generate_increment(
        tmp_path,
        NEXT,
        seed=7,
        scale=SCALE,
        start=START,
        inject=Injection("postgres.product_inventory", "schema_change"),
    )
    stats = m.systems["postgres"].streams["product_inventory"].batches[NEXT_BATCH]
    assert stats.injection and stats.injection["added"] and stats.injection["retyped"]
    schema = pq.read_schema(tmp_path / stats.file) if stats.file else None
    assert schema is not None and "loyalty_tier" in schema.names
    (retyped,) = stats.injection["retyped"]
    assert str(schema.field(retyped).type) == "string"


def test_dirty_records_are_bounded_and_counted(history: tuple[Path, Manifest]) -> None:
    out, manifest = history
    total_dirty = 0
    for system in manifest.systems.values():
        for st in system.streams.values():
            stats = next(iter(st.batches.values()))
            assert stats.dirty_count <= (stats.row_count - stats.dirty_count) * 0.01
            total_dirty += stats.dirty_count
    assert total_dirty > 0
    stats = manifest.systems["stripe"].streams["charges"].batches[manifest.batches[0]]
    broken = sum(
        1
        for r in _jsonl(out / f"stripe/charges/{HISTORY}.jsonl")
        if not isinstance(r, dict) or "id" not in r or not isinstance(r.get("updated"), int)
    )
    assert broken == stats.dirty_count > 0


def test_ground_truth_revenue_reconciles_with_stripe(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    truth = json.loads((out / "_ground_truth/revenue.json").read_text())
    fx = truth["fx_to_usd"]
    first = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    per_day: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    for ch in _clean(out / f"stripe/charges/{HISTORY}.jsonl"):
        if ch["id"] in seen or not isinstance(ch["updated"], int):
            continue
        seen.add(ch["id"])
        cur = ch["currency"].upper()
        if ch["status"] == "succeeded" and ch["created"] >= first:
            _add(per_day, ch["created"], cur, ch["amount"])
        for r in ch["refunds"]["data"]:
            if r["created"] >= first:
                _add(per_day, r["created"], cur, -r["amount"])
    for day in truth["days"]:
        cells = per_day.get(day["date"], {})
        assert round(sum(round(v * fx[c]) for c, v in cells.items()) / 100, 2) == pytest.approx(
            day["net_usd"], abs=0.05
        )


def _add(per_day: dict[str, dict[str, int]], ts: int, currency: str, amount: int) -> None:
    cell = per_day.setdefault(datetime.fromtimestamp(ts, UTC).date().isoformat(), {})
    cell[currency] = cell.get(currency, 0) + amount


def test_ground_truth_files_cover_the_business_figures(history: tuple[Path, Manifest]) -> None:
    out, _ = history
    truth = out / "_ground_truth"
    assert len(json.loads((truth / "revenue.json").read_text())["days"]) == DAYS
    mrr = json.loads((truth / "mrr.json").read_text())["months"]
    assert mrr and mrr[0]["mrr_usd"] > 0
    heads = json.loads((truth / "headcount.json").read_text())["months"][0]
    assert heads["total"] == sum(o["headcount"] for o in heads["organisations"].values()) > 0
    marketing = json.loads((truth / "marketing.json").read_text())["rows"]
    assert {r["platform"] for r in marketing} == {"google", "facebook"}
    assert sum(r["conversions"] for r in marketing) > 0
