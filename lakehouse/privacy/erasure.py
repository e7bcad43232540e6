"""Erase a data subject from every layer: `erase(root, endpoint, subject)`.

1. Resolve the person: from the given email, source record or customer_key to every email and source
   record of theirs (bronze record streams of subjects.yml, silver's identity map), and the salted
   hashes silver holds of those emails.
2. Bronze: delta-rs deletes the rows holding one of the emails (declared columns, normalised) or one of
   the records (id column).
3. Silver, snapshots, marts: Spark `DELETE FROM` through the Thrift server, on every Delta table of
   the layer databases that has a matching column (see subjects.yml). Delta writes a DELETE's
   predicate into the table's log, so neither the raw email nor the salt is in it: masked columns are
   compared with the salted hashes, a restricted column built unmasked with sha256(nonce + email),
   nonce fresh per request (the same holds for the delta-rs deletes of bronze).
4. `vacuum=True`: the erased tables only are vacuumed with a retention of 0 hours (delta-rs with
   `enforce_retention_duration=False`; Spark with its retention check switched off for this session and
   back on after), so earlier versions, which still hold the rows, are gone for time travel too.
5. The audit record and request log (audit.py).

Run it when no load or dbt build writes to these tables: a zero-hour vacuum removes the files an
in-flight reader or writer of an older version still needs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import structlog

from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.spark import ThriftEndpoint
from lakehouse.privacy.audit import ErasureReport, TableResult, write_audit
from lakehouse.privacy.spark_tables import count_rows, delta_tables, spark_delete, spark_string, table_columns
from lakehouse.privacy.subjects import Subject, SubjectMap, pii_salt, salted_hash

MART_DATABASES = {"sales", "marketing", "finance", "hr"}
log = structlog.get_logger("lakehouse.privacy")


@dataclass
class Person:
    """Everything that identifies the subject."""

    emails: set[str] = field(default_factory=set)  # normalised
    records: set[tuple[str, str]] = field(default_factory=set)  # (source_system, record id)
    customer_keys: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
    # delta-rs records a DELETE's predicate in the table's log: emails are matched there by
    # sha256(nonce + email), never spelled out. A fresh nonce per request, not the PII salt.
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex)


def erase(
    root: LakehouseRoot,
    endpoint: ThriftEndpoint,
    raw_subject: str,
    *,
    vacuum: bool = False,
    subject_map: SubjectMap | None = None,
) -> ErasureReport:
    subject_map = subject_map or SubjectMap.load()
    salt = pii_salt()
    subject = Subject.parse(raw_subject, subject_map.records)
    report = ErasureReport(uuid.uuid4().hex, subject.kind, subject.hash(salt), datetime.now(UTC))
    with spark_session(endpoint, salt) as cursor:
        with _step("resolve", report.request_id):
            person = resolve(root, cursor, subject, subject_map, salt)
        with _step("bronze", report.request_id):
            bronze = [_erase_bronze(root, stream, person, subject_map) for stream in _bronze_streams(subject_map)]
            report.tables += [result for result in bronze if result is not None]
        with _step("layers", report.request_id):
            report.tables += _erase_layers(cursor, person, subject_map)
        if vacuum:
            with _step("vacuum", report.request_id):
                _vacuum(root, cursor, report.touched)
            report.vacuumed = True
    report.completed_at = datetime.now(UTC)
    write_audit(root, report)
    return report


@contextmanager
def _step(name: str, request_id: str) -> Iterator[None]:
    """Log how long a step of the erasure took (the request id, never the subject)."""
    began = time.perf_counter()
    yield
    log.info("privacy.erase.step", step=name, request_id=request_id, seconds=round(time.perf_counter() - began, 1))


@contextmanager
def spark_session(endpoint: ThriftEndpoint, salt: str) -> Iterator:
    """A Thrift session with the PII salt as the Spark conf `lakehouse.pii_salt`, as dbt's connection has."""
    from pyhive import hive

    endpoint.require_reachable()
    connection = hive.connect(
        host=endpoint.host,
        port=endpoint.port,
        username="lakehouse",
        configuration={"set:hiveconf:lakehouse.pii_salt": salt},
    )
    try:
        cursor = connection.cursor()
        yield cursor
        cursor.close()
    finally:
        connection.close()


# -- resolving the person ---------------------------------------------------------------------------


def resolve(root: LakehouseRoot, cursor, subject: Subject, subject_map: SubjectMap, salt: str) -> Person:
    person = Person()
    if subject.kind == "email":
        person.emails.add(subject.value)
    elif subject.kind == "record":
        system, _, record_id = subject.value.rpartition(":")
        person.records.add((system, record_id))
    else:
        person.customer_keys.add(subject.value)
    person.records |= _bronze_records_with_emails(root, subject_map, person.emails)
    _expand_through_identity_map(cursor, subject_map, person)
    person.emails |= _bronze_emails_of_records(root, subject_map, person.records)
    person.records |= _bronze_records_with_emails(root, subject_map, person.emails)
    person.hashes = {salted_hash(email, salt) for email in person.emails}
    person.hashes |= _silver_hashes_of_records(cursor, subject_map, person.records)
    return person


def _expand_through_identity_map(cursor, subject_map: SubjectMap, person: Person) -> None:
    """Every record identity resolution merged into the person's customers, and those customers."""
    if not _spark_table_exists(cursor, subject_map.identity_map):
        return
    if person.records:
        cursor.execute(
            f"select distinct customer_key from {subject_map.identity_map} where {_records_predicate(person.records)}"
        )
        person.customer_keys |= {row[0] for row in cursor.fetchall() if row[0]}
    if person.customer_keys:
        cursor.execute(
            f"select source_system, source_record_id from {subject_map.identity_map} "
            f"where customer_key in ({_spark_list(person.customer_keys)})"
        )
        person.records |= {(row[0], row[1]) for row in cursor.fetchall()}


def _silver_hashes_of_records(cursor, subject_map: SubjectMap, records: set[tuple[str, str]]) -> set[str]:
    """The email hashes silver keeps for the records (covers a record whose bronze row is already gone)."""
    if not records or not _spark_table_exists(cursor, subject_map.source_records):
        return set()
    cursor.execute(
        f"select distinct email from {subject_map.source_records} "
        f"where email is not null and {_records_predicate(records)}"
    )
    return {row[0] for row in cursor.fetchall()}


def _bronze_records_with_emails(root: LakehouseRoot, subject_map: SubjectMap, emails: set[str]) -> set[tuple]:
    found: set[tuple[str, str]] = set()
    if not emails:
        return found
    for system, id_column in subject_map.records.items():
        paths = subject_map.bronze.get(system, [])
        if not paths:
            continue
        nonce = uuid.uuid4().hex
        matched = _email_predicate(paths, emails, nonce)
        sql = f"select distinct cast({_df_column(id_column)} as varchar) from t where {matched}"
        found |= {(system, value) for value in _bronze_query(root, system, sql) if value is not None}
    return found


def _bronze_emails_of_records(root: LakehouseRoot, subject_map: SubjectMap, records: set[tuple]) -> set[str]:
    emails: set[str] = set()
    for system, id_column in subject_map.records.items():
        ids = {record_id for record_system, record_id in records if record_system == system}
        for path in subject_map.bronze.get(system, []) if ids else []:
            sql = (
                f"select distinct lower(trim({_df_path(path)})) from t "
                f"where cast({_df_column(id_column)} as varchar) in ({_df_list(ids)})"
            )
            emails |= {value for value in _bronze_query(root, system, sql) if value}
    return emails


# -- bronze -----------------------------------------------------------------------------------------


def _bronze_streams(subject_map: SubjectMap) -> list[str]:
    return sorted(set(subject_map.bronze) | set(subject_map.records))


def _bronze_table(root: LakehouseRoot, qualified: str):
    from deltalake import DeltaTable

    from loaders.core.bronze import BronzeTable

    source, stream = qualified.split(".")
    if not BronzeTable(root, source, stream).exists():
        return None
    return DeltaTable(root.bronze_uri(source, stream), storage_options=root.storage_options())


def _bronze_query(root: LakehouseRoot, qualified: str, sql: str) -> list:
    from deltalake import QueryBuilder

    table = _bronze_table(root, qualified)
    if table is None:
        return []
    result = pa.table(QueryBuilder().register("t", table).execute(sql).read_all())
    return result.column(0).to_pylist()


def _bronze_predicate(stream: str, person: Person, subject_map: SubjectMap) -> str | None:
    terms = []
    if person.emails and subject_map.bronze.get(stream):
        terms.append(_email_predicate(subject_map.bronze[stream], person.emails, person.nonce))
    ids = {record_id for system, record_id in person.records if system == stream}
    if ids and stream in subject_map.records:
        terms.append(f"cast({_df_column(subject_map.records[stream])} as varchar) in ({_df_list(ids)})")
    return " or ".join(f"({term})" for term in terms) or None


def _erase_bronze(root: LakehouseRoot, stream: str, person: Person, subject_map: SubjectMap) -> TableResult | None:
    predicate = _bronze_predicate(stream, person, subject_map)
    table = _bronze_table(root, stream) if predicate else None
    if table is None:
        return None
    metrics = table.delete(predicate)
    return TableResult("bronze", stream, int(metrics.get("num_deleted_rows", 0)))


def _email_predicate(paths: list[str], emails: set[str], nonce: str) -> str:
    """Rows whose normalised email is one of `emails`, written with nonce-salted hashes, not the emails."""
    hashes = _df_list({salted_hash(email, nonce) for email in emails})
    return " or ".join(
        f"encode(sha256(concat('{nonce}', lower(btrim({_df_path(path)})))), 'hex') in ({hashes})" for path in paths
    )


def _df_column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _df_path(path: str) -> str:
    """`a.b.c` as DataFusion reads a struct field: "a"['b']['c']."""
    head, *fields = path.split(".")
    return _df_column(head) + "".join(f"['{f}']" for f in fields)


def _df_list(values: set[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in sorted(values))


# -- silver, snapshots, marts -----------------------------------------------------------------------


def _erase_layers(cursor, person: Person, subject_map: SubjectMap) -> list[TableResult]:
    results = []
    for database in subject_map.databases:
        predicates = {}
        for table in delta_tables(cursor, database):
            predicate = _layer_predicate(table_columns(cursor, f"{database}.{table}"), person, subject_map)
            if predicate is not None:
                predicates[f"{database}.{table}"] = predicate
        # One counting query per database; a DELETE (a Delta transaction each) only where the subject is.
        for table, count in count_rows(cursor, predicates).items():
            rows = _spark_delete(cursor, table, predicates[table]) if count else 0
            results.append(TableResult(_layer(database), table, rows))
    return results


def _layer(database: str) -> str:
    return "marts" if database in MART_DATABASES else database


def _layer_predicate(columns: dict[str, str], person: Person, subject_map: SubjectMap) -> str | None:
    terms = []
    email_columns = [
        name
        for name, data_type in columns.items()
        if data_type == "string" and any(part in name.lower() for part in subject_map.email_columns_containing)
    ]
    # Delta records a DELETE's predicate in the table's log (after Spark's variable substitution), so
    # neither the salt nor a raw email may appear in it: masked columns are compared with the salted
    # hashes, unmasked ones (restricted outputs) with sha256(nonce + email).
    for name in email_columns if person.hashes else []:
        terms.append(f"`{name}` in ({_spark_list(person.hashes)})")
    for name in email_columns if person.emails else []:
        nonce_hashes = _spark_list({salted_hash(email, person.nonce) for email in person.emails})
        terms.append(f"sha2(concat('{person.nonce}', lower(trim(`{name}`))), 256) in ({nonce_hashes})")
    if person.customer_keys and "customer_key" in columns:
        terms.append(f"customer_key in ({_spark_list(person.customer_keys)})")
    if person.records and {"source_system", "source_record_id"} <= set(columns):
        terms.append(_records_predicate(person.records))
    return " or ".join(f"({term})" for term in terms) or None


def _records_predicate(records: set[tuple[str, str]]) -> str:
    pairs = ", ".join(f"({spark_string(system)}, {spark_string(record_id)})" for system, record_id in sorted(records))
    return f"(source_system, source_record_id) in ({pairs})"


def _spark_delete(cursor, table: str, predicate: str) -> int:
    return spark_delete(
        cursor,
        table,
        predicate,
        what="the subject's rows",
        fix="fix the cause and run the erasure again (it is idempotent); the audit is written only on success",
    )


def _spark_table_exists(cursor, qualified: str) -> bool:
    database, table = qualified.split(".")
    cursor.execute(f"show databases like '{database}'")
    if not cursor.fetchall():
        return False
    cursor.execute(f"show tables in {database} like '{table}'")
    return bool(cursor.fetchall())


def _spark_list(values: set[str]) -> str:
    return ", ".join(spark_string(value) for value in sorted(values))


# -- vacuum -----------------------------------------------------------------------------------------


def _vacuum(root: LakehouseRoot, cursor, touched: list[TableResult]) -> None:
    """Remove the files of versions before the erasure, for the erased tables only."""
    for result in touched:
        if result.layer == "bronze":
            table = _bronze_table(root, result.table)
            removed = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
            result.vacuumed_files = len(removed)
    spark_tables = [result.table for result in touched if result.layer != "bronze"]
    if not spark_tables:
        return
    cursor.execute("set spark.databricks.delta.retentionDurationCheck.enabled = false")
    try:
        for table in spark_tables:
            cursor.execute(f"show tblproperties {table}")
            properties = dict(cursor.fetchall())
            if properties.get("delta.enableDeletionVectors", "false").lower() == "true":
                cursor.execute(f"reorg table {table} apply (purge)")  # rewrite files the deletes only masked
            cursor.execute(f"vacuum {table} retain 0 hours")
            cursor.fetchall()
    finally:
        cursor.execute("set spark.databricks.delta.retentionDurationCheck.enabled = true")
