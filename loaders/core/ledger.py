"""The load ledger: one row per stream load, success or failure, in `<root>/bronze/_ledger/`.

dbt reads it for freshness, the report for history, an engineer for "what happened last night".
Rows are written by the pipeline when a stream's load ends, including when it fails; the error is
already scrubbed of secrets by then. Counts reconcile: rows_read = rows_loaded + rows_quarantined.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

import pyarrow as pa
from deltalake import CommitProperties, write_deltalake

from lakehouse.core.storage import LakehouseRoot
from loaders.core.delta import create_table, open_table, read_table
from loaders.core.retry import RetryPolicy, call_with_retry

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("load_id", pa.string(), nullable=False),
        pa.field("pipeline", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("rows_read", pa.int64(), nullable=False),
        pa.field("rows_loaded", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("rows_rescued", pa.int64(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("batches", pa.int64(), nullable=False),
        pa.field("started_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("finished_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("error", pa.string()),
        pa.field("cursor_before", pa.string()),
        pa.field("cursor_after", pa.string()),
    ]
)
# Appends never conflict logically; these retries only ride out object-store hiccups.
_WRITE_RETRY = RetryPolicy(max_attempts=5, base_seconds=0.1, max_seconds=2.0)


@dataclass(frozen=True)
class LedgerEntry:
    load_id: str
    pipeline: str
    source: str
    stream: str
    mode: str
    status: str  # success | failed
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_rescued: int
    bytes: int
    batches: int
    started_at: datetime
    finished_at: datetime
    duration_s: float
    error: str | None
    cursor_before: str | None
    cursor_after: str | None


assert [f.name for f in fields(LedgerEntry)] == LEDGER_SCHEMA.names


class Ledger:
    def __init__(self, root: LakehouseRoot) -> None:
        self.uri = f"{root.uri}/bronze/_ledger"
        self._options = root.storage_options()

    def record(self, entry: LedgerEntry) -> None:
        row = pa.Table.from_pylist([asdict(entry)], schema=LEDGER_SCHEMA)

        def append() -> None:
            if open_table(self.uri, self._options) is None:
                create_table(self.uri, self._options, LEDGER_SCHEMA)
            write_deltalake(
                self.uri,
                row,
                mode="append",
                storage_options=self._options,
                commit_properties=CommitProperties(custom_metadata={"lakehouse.load_id": entry.load_id}),
            )

        call_with_retry(append, policy=_WRITE_RETRY, retry_on=lambda exc: isinstance(exc, OSError))

    def read(self) -> pa.Table:
        if open_table(self.uri, self._options) is None:
            return LEDGER_SCHEMA.empty_table()
        return read_table(self.uri, self._options)
