"""The load ledger: one row per stream load attempt, in `<root>/bronze/_ledger/`.

dbt reads it for freshness, the report for history, an engineer for "what happened last night".
A load writes its row when it starts (`running`) and updates it when it ends (`success` or `failed`,
the error already scrubbed of secrets). A load killed outright cannot update its row; the next load
of the same stream marks every row of the stream still `running` as `killed`, so every attempt has
exactly one row and none stays `running` past the next load. Counts reconcile for every ended load:
rows_read = rows_loaded + rows_quarantined (a killed load's counts are unknown and recorded as 0;
its committed rows carry its `_load_id` in bronze).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from datetime import datetime

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

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
_WRITE_RETRY = RetryPolicy(max_attempts=12, base_seconds=0.05, max_seconds=2.0)


@dataclass(frozen=True)
class LedgerEntry:
    load_id: str
    pipeline: str
    source: str
    stream: str
    mode: str
    status: str  # running | success | failed | killed | stopped (a spent API quota: resumes next run)
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


KILLED_ERROR = (
    "the load ended without recording its outcome (killed, or its machine stopped); the next load of "
    "the stream resumed from the last committed batch"
)


class Ledger:
    def __init__(self, root: LakehouseRoot) -> None:
        self.uri = f"{root.uri}/bronze/_ledger"
        self._options = root.storage_options()
        self._opened = threading.local()  # each thread's open table, brought up to date before each write

    def start(self, entry: LedgerEntry) -> None:
        """Record a load as `running`, after marking the stream's loads still `running` as `killed`."""
        row = self._row(entry)
        attempts = 0

        def start() -> None:
            nonlocal attempts
            attempts += 1
            table = self._table()
            predicate = " AND ".join(
                [
                    "status = 'running'",
                    *(f"{name} = {_literal(getattr(entry, name))}" for name in ("pipeline", "source", "stream")),
                    f"load_id != {_literal(entry.load_id)}",  # its own row, when a retry finds it written
                ]
            )
            table.update(
                updates={"status": "'killed'", "error": _literal(KILLED_ERROR)},
                predicate=predicate,
                commit_properties=CommitProperties(custom_metadata={"lakehouse.load_id": entry.load_id}),
            )
            if attempts == 1:  # an append: a third of a merge's cost
                write_deltalake(table, row, mode="append", commit_properties=self._properties(entry))
            else:  # an earlier attempt's outcome is unknown: insert the row only if it is not there
                merge = table.merge(
                    row, "t.load_id = s.load_id", source_alias="s", target_alias="t",
                    commit_properties=self._properties(entry),
                )  # fmt: skip
                merge.when_not_matched_insert_all().execute()

        call_with_retry(start, policy=_WRITE_RETRY, retry_on=_retryable)

    def record(self, entry: LedgerEntry) -> None:
        """Write the load's outcome: its `running` row replaced, or a new row when it has none.

        One overwrite of the rows with the load's id (Delta's replaceWhere), committed at once, so a retry
        leaves the same single row; it costs about two thirds of the merge it replaced.
        """
        row = self._row(entry)

        def record() -> None:
            write_deltalake(
                self._table(), row, mode="overwrite", predicate=f"load_id = {_literal(entry.load_id)}",
                commit_properties=self._properties(entry),
            )  # fmt: skip

        call_with_retry(record, policy=_WRITE_RETRY, retry_on=_retryable)

    def _table(self) -> DeltaTable:
        """The ledger at its latest version: opened once per thread (opening replays the log, about 20 ms
        on a ledger of a few hundred loads), then brought up to date from the new commits only."""
        table: DeltaTable | None = getattr(self._opened, "table", None)
        if table is None:
            table = open_table(self.uri, self._options) or create_table(self.uri, self._options, LEDGER_SCHEMA)
            self._opened.table = table
        else:
            table.update_incremental()
        return table

    @staticmethod
    def _row(entry: LedgerEntry) -> pa.Table:
        return pa.Table.from_pylist([asdict(entry)], schema=LEDGER_SCHEMA)

    @staticmethod
    def _properties(entry: LedgerEntry) -> CommitProperties:
        # No retry inside delta-rs: a conflicting ledger commit is redone here from a fresh snapshot.
        return CommitProperties(custom_metadata={"lakehouse.load_id": entry.load_id}, max_commit_retries=0)

    def read(self) -> pa.Table:
        if open_table(self.uri, self._options) is None:
            return LEDGER_SCHEMA.empty_table()
        return read_table(self.uri, self._options)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _retryable(exc: BaseException) -> bool:
    # Object-store hiccups, and another load's ledger commit landing first (all ledger writes commute).
    return isinstance(exc, OSError | CommitFailedError)
