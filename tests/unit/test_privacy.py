"""Privacy without Spark: subjects, the salt rule, the retention policy on real Delta tables, the CLI.

The erasure itself runs against the built company lakehouse (tests/integration/test_privacy.py), the
retention of silver, snapshots and marts against the Thrift server (tests/integration/test_retention.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.process import free_ports
from lakehouse.privacy import retention
from lakehouse.privacy.subjects import LOCAL_DEV_SALT, Subject, SubjectMap, pii_salt, salted_hash
from lakehouse.source_files import all_sources

PROJECT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_every_table_of_the_subject_map_is_a_declared_stream() -> None:
    streams = {f"{config.source}.{stream.name}" for config in all_sources() for stream in config.streams}
    subject_map = SubjectMap.load()
    assert set(subject_map.bronze) - streams == set()
    assert set(subject_map.records) - streams == set()
    assert set(subject_map.records) <= set(subject_map.bronze)  # a record's email is found by its id too


def test_a_subject_is_an_email_a_record_or_a_customer_key() -> None:
    records = SubjectMap.load().records
    assert Subject.parse("  Ada.Lovelace@Example.COM ", records) == Subject("email", "ada.lovelace@example.com")
    assert Subject.parse("postgres.users:42", records) == Subject("record", "postgres.users:42")
    assert Subject.parse("0123456789ABCDEF0123456789abcdef", records).kind == "customer_key"
    with pytest.raises(ConfigError) as error:
        Subject.parse("nobody.users:1", records)
    assert "postgres.users" in error.value.fix


def test_the_subject_hash_is_dbts_salted_sha256_of_the_normalised_email() -> None:
    subject = Subject.parse(" Bob@Example.com", SubjectMap.load().records)
    expected = hashlib.sha256(b"salt" + b"bob@example.com").hexdigest()
    assert subject.hash("salt") == salted_hash("bob@example.com", "salt") == expected
    assert "bob" not in subject.hash("salt")


def test_only_the_local_target_has_a_default_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_PII_SALT", raising=False)
    monkeypatch.delenv("DBT_TARGET", raising=False)
    assert pii_salt() == LOCAL_DEV_SALT
    monkeypatch.setenv("DBT_TARGET", "emr")
    with pytest.raises(ConfigError) as error:
        pii_salt()
    assert "LAKEHOUSE_PII_SALT" in str(error.value)
    monkeypatch.setenv("LAKEHOUSE_PII_SALT", "from-secrets-manager")
    assert pii_salt() == "from-secrets-manager"


def test_the_dev_salt_matches_the_local_profile() -> None:
    profiles = (PROJECT / "dbt" / "profiles.yml").read_text()
    assert f"env_var('LAKEHOUSE_PII_SALT', '{LOCAL_DEV_SALT}')" in profiles
    assert "env_var('LAKEHOUSE_PII_SALT', '')" in profiles  # emr: no default


def test_retention_years_are_the_infrastructures() -> None:
    spec = importlib.util.spec_from_file_location("infra_config", PROJECT / "infra" / "lakehouse_infra" / "config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert retention.RETENTION_YEARS == module.RETENTION_YEARS


def test_a_stream_takes_its_strictest_column_classification() -> None:
    classifications = retention.stream_classifications()
    assert classifications["postgres.users"] == "pii"  # email, phone, names
    assert classifications["stripe.charges"] == "restricted"  # card data besides the email
    assert classifications.get("postgres.products", retention.DEFAULT_CLASSIFICATION) == "internal"


def _bronze(root: LakehouseRoot, source: str, stream: str, loaded: list[datetime]) -> str:
    uri = root.bronze_uri(source, stream)
    rows = pa.table(
        {
            "id": pa.array(range(len(loaded)), pa.int64()),
            "_loaded_at": pa.array(loaded, pa.timestamp("us", tz="UTC")),
        }
    )
    write_deltalake(uri, rows)
    return uri


def test_retention_counts_then_deletes_only_rows_past_their_classifications_years(tmp_path: Path) -> None:
    root = LakehouseRoot.parse(str(tmp_path))
    old_pii, recent = datetime(2022, 5, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    users = _bronze(root, "postgres", "users", [old_pii, old_pii, recent])  # pii: 3 years -> 2023-06-01
    charges = _bronze(root, "stripe", "charges", [old_pii, recent])  # restricted: 10 years
    streams = [("postgres", "users"), ("stripe", "charges"), ("postgres", "missing")]

    dry = retention.apply_retention(root, streams, now=NOW)
    assert [(r.table, r.classification, r.years, r.expired_rows) for r in dry] == [
        ("postgres.users", "pii", 3, 2),
        ("stripe.charges", "restricted", 10, 0),
    ]
    assert DeltaTable(users).to_pyarrow_table().num_rows == 3  # a dry run deletes nothing

    applied = retention.apply_retention(root, streams, now=NOW, apply=True)
    assert [r.expired_rows for r in applied] == [2, 0]
    assert DeltaTable(users).to_pyarrow_table().column("id").to_pylist() == [2]
    assert DeltaTable(charges).to_pyarrow_table().num_rows == 2


def test_retention_cli_is_a_dry_run_unless_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = LakehouseRoot.parse(str(tmp_path))
    users = _bronze(root, "postgres", "users", [datetime(2001, 1, 1, tzinfo=UTC), datetime.now(UTC)])
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    runner = CliRunner()

    dry = runner.invoke(app, ["privacy", "retention", "--source", "postgres", "--layer", "bronze"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "postgres.users" in dry.output
    assert DeltaTable(users).to_pyarrow_table().num_rows == 2

    applied = runner.invoke(app, ["privacy", "retention", "--source", "postgres", "--layer", "bronze", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert DeltaTable(users).to_pyarrow_table().num_rows == 1


def test_the_cli_refuses_an_unknown_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    result = CliRunner().invoke(app, ["privacy", "retention", "--layer", "gold"])
    assert result.exit_code == 2
    assert "unknown layers ['gold']" in result.output and "bronze, silver, snapshots, marts" in result.output


def test_layer_retention_without_a_thrift_server_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", "127.0.0.1")
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(free_ports(1)[0]))  # nothing listens there
    result = CliRunner().invoke(app, ["privacy", "retention", "--layer", "silver"])
    assert result.exit_code == 2
    assert "cannot reach the Spark Thrift server" in result.output and "lakehouse spark start" in result.output


# -- the policy of silver, snapshots and marts --------------------------------------------------------


def _mart_and_silver_models() -> dict[str, dict[str, dict]]:
    """layer -> model name -> {column name: column YAML}, from the dbt project's model files."""
    found: dict[str, dict[str, dict]] = {"silver": {}, "marts": {}}
    for layer in found:
        for path in (PROJECT / "dbt" / "models" / layer).glob("*/_*__models.yml"):
            for model in yaml.safe_load(path.read_text()).get("models", []):
                found[layer][model["name"]] = {column["name"]: column for column in model.get("columns", [])}
    return found


def test_a_table_takes_the_strictest_classification_of_its_seed_rows() -> None:
    classifications = retention.table_classifications()
    assert classifications["slv_orders"] == "pii"  # customer_email
    assert classifications["slv_payments"] == "restricted"  # the whole model (`*`) besides a pii email
    assert classifications["snp_employees"] == "restricted"
    assert classifications["dim_employees"] == "restricted"
    assert "fct_orders" not in classifications  # no classified column: the default, internal


def test_every_mart_is_dated_by_date_columns_it_has_and_every_silver_model_by_loaded_at() -> None:
    models = _mart_and_silver_models()
    policy = retention.LayerPolicy.load()
    assert set(policy.marts) == set(models["marts"]), "retention.yml dates every mart, and only marts"
    for mart, columns in policy.marts.items():
        types = {models["marts"][mart][column]["data_type"] for column in columns}
        assert types <= {"date", "timestamp"}, (mart, columns)
    assert policy.dated_by["silver"] == ["_loaded_at"]
    assert [name for name, columns in models["silver"].items() if "_loaded_at" not in columns] == []


SILVER = {"order_id": "bigint", "_loaded_at": "timestamp"}


def _plan(database: str, table: str, columns: dict[str, str]) -> retention.TablePlan:
    return retention.plan_table(
        database,
        table,
        columns,
        NOW,
        policy=retention.LayerPolicy.load(),
        classifications=retention.table_classifications(),
        years=retention.RETENTION_YEARS,
    )


def test_each_layer_dates_its_rows_by_its_own_columns_and_years() -> None:
    silver = _plan("silver", "slv_orders", SILVER)
    assert (silver.layer, silver.classification, silver.years) == ("silver", "pii", 3)
    assert silver.predicate == "`_loaded_at` < timestamp '2023-06-01 00:00:00.000000'"

    hr_silver = _plan("hr", "slv_employees", {"employee_id": "string", "_loaded_at": "timestamp"})
    assert (hr_silver.layer, hr_silver.classification, hr_silver.years) == ("silver", "restricted", 10)

    snapshot = _plan("snapshots", "snp_customers", {"customer_key": "string", "dbt_valid_to": "timestamp"})
    assert (snapshot.layer, snapshot.classification, snapshot.years) == ("snapshots", "internal", 5)
    assert snapshot.predicate == "`dbt_valid_to` < timestamp '2021-06-01 00:00:00.000000'"

    mart = _plan("sales", "dim_customers", {"last_order_date": "date", "updated_at": "timestamp"})
    assert (mart.layer, mart.years) == ("marts", 5)
    assert mart.predicate == "greatest(`last_order_date`, `updated_at`) < timestamp '2021-06-01 00:00:00.000000'"

    hr_mart = _plan("hr", "agg_payroll_cost_monthly", {"pay_month": "date"})
    assert (hr_mart.layer, hr_mart.classification, hr_mart.years) == ("marts", "restricted", 10)


def test_a_table_the_policy_cannot_date_is_reported_and_never_deleted_from() -> None:
    unlisted = _plan("sales", "fct_new_mart", {"order_date": "date"})
    assert unlisted.predicate is None and "retention.yml" in unlisted.note
    renamed = _plan("finance", "fct_gl_entries", {"booked_on": "date"})
    assert renamed.predicate is None and "no column posting_date" in renamed.note


def test_a_policy_with_an_unknown_layer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "retention.yml"
    path.write_text("databases: {silver: gold}\nsilver: [_loaded_at]\n")
    with pytest.raises(ConfigError) as error:
        retention.LayerPolicy.load(path)
    assert "unknown layers {'silver': 'gold'}" in error.value.cause and "marts" in error.value.fix
