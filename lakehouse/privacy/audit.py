"""The erasure audit trail, two Delta tables under the root.

`<root>/privacy/_erasure_audit`: one row per request (request id, the subject's salted hash, never the
raw identifier; tables touched, rows deleted, whether they were vacuumed, when). `<root>/privacy/
_erasure_requests`: the request log, one row per table an erasure looked at (rows deleted there, files
vacuumed). Both are appended to, never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from lakehouse.core.storage import LakehouseRoot

AUDIT_TABLE = "privacy/_erasure_audit"
REQUEST_LOG_TABLE = "privacy/_erasure_requests"

_TIMESTAMP = pa.timestamp("us", tz="UTC")
AUDIT_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("subject_kind", pa.string()),
        ("subject_hash", pa.string()),
        ("tables_touched", pa.list_(pa.string())),
        ("rows_deleted", pa.int64()),
        ("vacuumed", pa.bool_()),
        ("requested_at", _TIMESTAMP),
        ("completed_at", _TIMESTAMP),
    ]
)
REQUEST_LOG_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("layer", pa.string()),
        ("table_name", pa.string()),
        ("rows_deleted", pa.int64()),
        ("vacuumed_files", pa.int64()),
        ("logged_at", _TIMESTAMP),
    ]
)


@dataclass
class TableResult:
    layer: str  # bronze | silver | snapshots | marts
    table: str  # bronze: source.stream; others: database.table
    rows_deleted: int
    vacuumed_files: int | None = None  # bronze only (Spark's VACUUM does not say)


@dataclass
class ErasureReport:
    request_id: str
    subject_kind: str
    subject_hash: str
    requested_at: datetime
    completed_at: datetime | None = None
    vacuumed: bool = False
    tables: list[TableResult] = field(default_factory=list)

    @property
    def touched(self) -> list[TableResult]:
        return [t for t in self.tables if t.rows_deleted]

    @property
    def rows_deleted(self) -> int:
        return sum(t.rows_deleted for t in self.tables)


def write_audit(root: LakehouseRoot, report: ErasureReport) -> None:
    """Append the request's audit record and its request log."""
    from deltalake import write_deltalake

    audit = pa.Table.from_pylist(
        [
            {
                "request_id": report.request_id,
                "subject_kind": report.subject_kind,
                "subject_hash": report.subject_hash,
                "tables_touched": [f"{t.layer}:{t.table}" for t in report.touched],
                "rows_deleted": report.rows_deleted,
                "vacuumed": report.vacuumed,
                "requested_at": report.requested_at,
                "completed_at": report.completed_at,
            }
        ],
        schema=AUDIT_SCHEMA,
    )
    log = pa.Table.from_pylist(
        [
            {
                "request_id": report.request_id,
                "layer": t.layer,
                "table_name": t.table,
                "rows_deleted": t.rows_deleted,
                "vacuumed_files": t.vacuumed_files,
                "logged_at": report.completed_at,
            }
            for t in report.tables
        ],
        schema=REQUEST_LOG_SCHEMA,
    )
    options = root.storage_options()
    write_deltalake(f"{root.uri}/{AUDIT_TABLE}", audit, mode="append", storage_options=options)
    write_deltalake(f"{root.uri}/{REQUEST_LOG_TABLE}", log, mode="append", storage_options=options)


def read_audit(root: LakehouseRoot) -> list[dict]:
    from deltalake import DeltaTable

    table = DeltaTable(f"{root.uri}/{AUDIT_TABLE}", storage_options=root.storage_options())
    return pa.table(table.to_pyarrow_table()).to_pylist()
