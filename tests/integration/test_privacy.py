"""Privacy on the built company lakehouse: the PII salt stays out of dbt's artifacts, `--vars` cannot
unmask outside the restricted schemas, only `local` has a default salt, and an erasure leaves nothing of
the person in any layer, nor in time travel once vacuumed, with an audit record that does not name them.

The salt and masking checks compile single models into their own target folders; the erasure deletes
data, so it is marked `mutates_company_lakehouse` and runs after every test that only reads.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.core.errors import LakehouseError
from lakehouse.dbt_runner import run_dbt
from lakehouse.privacy.audit import AUDIT_TABLE, REQUEST_LOG_TABLE, read_audit
from lakehouse.privacy.erasure import spark_session
from lakehouse.privacy.subjects import pii_salt, salted_hash
from tests.helpers.company_lakehouse import CompanyLakehouse

MARTS = {"sales", "marketing", "finance", "hr"}


def _files_containing(folders: list[Path], needle: str) -> list[str]:
    hits = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and needle.encode() in path.read_bytes():
                hits.append(str(path))
    return hits


def _compile(lakehouse: CompanyLakehouse, tmp_path: Path, args: list[str], *, target: str = "local", **env: str):
    """dbt compile into a target folder of its own (the shared build's artifacts stay as they are)."""
    overrides = {"DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs"), **env}
    with lakehouse.activated(), pytest.MonkeyPatch.context() as patch:
        for key, value in overrides.items():
            patch.setenv(key, value)
        patch.delenv("LAKEHOUSE_PII_SALT", raising=False)
        return run_dbt(["compile", *args, "--threads", "4"], target=target)


def _compiled(tmp_path: Path, model: str) -> str:
    [path] = (tmp_path / "target" / "compiled").rglob(f"{model}.sql")
    return path.read_text()


def test_the_salt_is_in_no_artifact_log_or_docs(company_lakehouse: CompanyLakehouse) -> None:
    salt = pii_salt()
    target = company_lakehouse.target_dir
    for artifact in ("manifest.json", "run_results.json", "catalog.json", "index.html"):
        assert (target / artifact).exists(), artifact
    compiled = next((target / "compiled").rglob("int_customer_source_records.sql")).read_text()
    assert "sha2(concat(if('${lakehouse.pii_salt}'" in compiled  # hashed, with the salt left to Spark
    spark_home = Path(os.environ["LAKEHOUSE_HOME"]) / "spark"  # server log, metastore (view texts)
    folders = [target, company_lakehouse.home / "dbt-logs", spark_home, Path(company_lakehouse.root.location)]
    assert _files_containing(folders, salt) == []


def test_vars_cannot_unmask_a_model_outside_the_restricted_schemas(
    company_lakehouse: CompanyLakehouse, tmp_path: Path
) -> None:
    # slv_payments is classified restricted but lives in `silver`; slv_employees is restricted in `hr`.
    bypass = json.dumps({"restricted_schemas": ["silver"], "unmask_pii": True})
    outcome = _compile(company_lakehouse, tmp_path, ["--select", "slv_payments", "slv_employees", "--vars", bypass])
    assert outcome.success, outcome.failures
    payments = _compiled(tmp_path, "slv_payments")
    assert re.search(r"sha2\(concat\(.*billing_email\)+, 256\) as billing_email", payments)
    assert re.search(r"if\(false, [\w.]*card_last4, null\) as card_last4", payments)
    employees = _compiled(tmp_path, "slv_employees")
    assert "sha2(" not in employees  # the HR output is unmasked, as the var asks: the rule was applied


def test_the_emr_target_without_a_salt_fails_naming_the_variable(
    company_lakehouse: CompanyLakehouse, tmp_path: Path
) -> None:
    endpoint = company_lakehouse.spark.endpoint
    env = {"EMR_THRIFT_HOST": endpoint.host, "EMR_THRIFT_PORT": str(endpoint.port)}
    try:
        outcome = _compile(
            company_lakehouse, tmp_path, ["--select", "int_customer_source_records"], target="emr", **env
        )
        assert not outcome.success
        message = "\n".join(outcome.failures)
    except LakehouseError as error:
        message = str(error)
    assert "LAKEHOUSE_PII_SALT is not set" in message and "'emr' target" in message
    assert "export LAKEHOUSE_PII_SALT" in message


# -- erasure --------------------------------------------------------------------------------------------


def _layer(database: str) -> str:
    if database.startswith("bronze_"):
        return "bronze"
    return "marts" if database in MARTS else database


def _tables_holding(lakehouse: CompanyLakehouse, needles: list[str]) -> dict[str, int]:
    """Every table and view of every database with rows whose values (nested ones too) contain a needle."""
    condition = " or ".join(f"instr(lower(to_json(struct(*))), '{needle}') > 0" for needle in needles)
    found = {}
    for (database,) in lakehouse.query("show databases"):
        tables = lakehouse.tables(database)
        if not tables:
            continue
        sql = " union all ".join(
            f"select '{database}.{table}', count(*) from {database}.{table} where {condition}" for table in tables
        )
        found.update({name: count for name, count in lakehouse.query(sql) if count})
    return found


def _a_customer_in_every_layer(lakehouse: CompanyLakehouse, salt: str) -> str:
    """The raw email of an app user who is in bronze, staging, silver, the customer snapshot and the marts."""
    with spark_session(lakehouse.spark.endpoint, salt) as cursor:
        cursor.execute(
            """
            select users.email
            from bronze_postgres.users as users
            inner join staging.stg_postgres__users as staged on cast(users.id as bigint) = staged.user_id
            inner join silver.slv_customers as customers
                on sha2(concat('${lakehouse.pii_salt}', lower(trim(users.email))), 256) = customers.email
            inner join snapshots.snp_customers as snapshot on customers.customer_key = snapshot.customer_key
            inner join sales.dim_customers as dim on customers.customer_key = dim.customer_key
            inner join sales.fct_orders as orders on customers.customer_key = orders.customer_key
            order by users.email
            limit 1
            """
        )
        return cursor.fetchall()[0][0].strip().lower()


@pytest.mark.mutates_company_lakehouse(last=True)
def test_an_erased_person_is_in_no_layer_nor_in_time_travel_and_the_audit_does_not_name_them(
    company_lakehouse: CompanyLakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    lakehouse, salt = company_lakehouse, pii_salt()
    email = _a_customer_in_every_layer(lakehouse, salt)  # present in every layer (the joins say so)
    needles = [email, salted_hash(email, salt)]
    users_uri = lakehouse.root.bronze_uri("postgres", "users")
    bronze_version = DeltaTable(users_uri, storage_options=lakehouse.root.storage_options()).version()
    silver_version = max(int(row[0]) for row in lakehouse.query("describe history silver.slv_customers"))

    monkeypatch.setenv("LAKEHOUSE_ROOT", lakehouse.root.uri)
    with lakehouse.activated():
        result = CliRunner().invoke(app, ["privacy", "erase", "--subject", email.upper(), "--vacuum"])
    assert result.exit_code == 0, result.output
    assert email not in result.output.lower()

    assert _tables_holding(lakehouse, needles) == {}
    users = DeltaTable(users_uri, storage_options=lakehouse.root.storage_options())
    deletes = [commit for commit in users.history() if commit.get("operation") == "DELETE"]
    assert deletes and all(email not in json.dumps(commit) for commit in deletes)  # the logged predicate
    with pytest.raises(Exception):  # noqa: B017 - the versions before the erasure lost their files
        DeltaTable(users_uri, version=bronze_version).to_pyarrow_table()
    with pytest.raises(Exception):  # noqa: B017
        lakehouse.query(f"select count(*) from silver.slv_customers version as of {silver_version}")

    [audit] = read_audit(lakehouse.root)
    assert audit["subject_hash"] == salted_hash(email, salt) and audit["subject_kind"] == "email"
    assert audit["vacuumed"] and audit["rows_deleted"] > 0
    touched = set(audit["tables_touched"])
    assert {"bronze:postgres.users", "silver:silver.slv_customers", "snapshots:snapshots.snp_customers"} <= touched
    assert "marts:sales.dim_customers" in touched
    root = Path(lakehouse.root.location)
    assert _files_containing([root / AUDIT_TABLE, root / REQUEST_LOG_TABLE], email) == []
    # The deletes' predicates are in the tables' logs: they name neither the email nor the salt.
    logs = [path for path in root.rglob("_delta_log") if path.is_dir()]
    assert _files_containing(logs, salt) == []
