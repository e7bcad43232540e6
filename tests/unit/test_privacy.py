"""Privacy without Spark: subjects, the salt rule, the retention policy on real Delta tables, the CLI.

The erasure itself runs against the built company lakehouse (tests/integration/test_privacy.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
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
    assert [(r.stream, r.classification, r.years, r.expired_rows) for r in dry] == [
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

    dry = runner.invoke(app, ["privacy", "retention", "--source", "postgres"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "postgres.users" in dry.output
    assert DeltaTable(users).to_pyarrow_table().num_rows == 2

    applied = runner.invoke(app, ["privacy", "retention", "--source", "postgres", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert DeltaTable(users).to_pyarrow_table().num_rows == 1
