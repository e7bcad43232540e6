"""delta-rs helpers shared by the bronze, quarantine and ledger tables.

The one subtle piece is `commit_once`: the exactly-once commit. delta-rs retries a conflicting
commit on its own by default, and a retried append carrying the same application transaction
lands twice. So every exactly-once commit is made with `max_commit_retries=0` against a snapshot
in which we have just checked the transaction version; on a conflict we reload, check again, and
only then try again. A put-if-absent of the next log entry (S3 conditional put, or the DynamoDB
lock) makes the check-then-commit atomic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import structlog
from deltalake import CommitProperties, DeltaTable, QueryBuilder, Transaction
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from lakehouse.core.errors import LakehouseError
from loaders.core.retry import RetryPolicy, call_with_retry

# Keys of the commit metadata the loaders own.
META_APP_ID = "lakehouse.app_id"
META_VERSION = "lakehouse.version"
META_LOAD_ID = "lakehouse.load_id"

log = structlog.get_logger("loaders")
COMMIT_RETRY = RetryPolicy(max_attempts=12, base_seconds=0.02, max_seconds=2.0)


class LoadConflictError(LakehouseError):
    """Another load of the same stream committed the batch this load was about to commit."""


@dataclass(frozen=True)
class Stamp:
    """What makes a commit exactly-once: the application transaction and who made it."""

    app_id: str
    version: int
    load_id: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    def properties(self) -> CommitProperties:
        custom = {META_APP_ID: self.app_id, META_VERSION: str(self.version), META_LOAD_ID: self.load_id}
        return CommitProperties(
            custom_metadata={**custom, **self.metadata},
            app_transactions=[Transaction(app_id=self.app_id, version=self.version)],
            max_commit_retries=0,
        )


def open_table(uri: str, options: dict[str, str]) -> DeltaTable | None:
    try:
        return DeltaTable(uri, storage_options=options)
    except TableNotFoundError:
        return None


def create_table(
    uri: str,
    options: dict[str, str],
    schema: pa.Schema,
    *,
    partition_by: list[str] | None = None,
    configuration: Mapping[str, str | None] | None = None,
) -> DeltaTable:
    """Create the table if it does not exist yet; a concurrent creator winning the race is fine."""
    try:
        return DeltaTable.create(
            uri,
            schema,
            mode="ignore",
            partition_by=partition_by or None,
            configuration=configuration,
            storage_options=options,
        )
    except DeltaError:
        table = open_table(uri, options)
        if table is None:
            raise
        return table


def delta_compatible(table: pa.Table) -> pa.Table:
    """Arrow types Delta has no twin for, mapped to the nearest lossless one (timestamps become microseconds)."""
    schema = pa.schema([f.with_type(delta_type(f.type)) for f in table.schema])
    return table if schema == table.schema else table.cast(schema)


def contiguous(table: pa.Table) -> pa.Table:
    """One chunk per column, and no nested column that is a slice of a larger array.

    delta-rs aborts the process (a Rust panic in arrow-data, "end <= self.len()") on a sliced
    struct whose children are themselves nested, and pyarrow slices columns to align them when a
    table's chunks are misaligned. `take` rewrites such a column from offset 0.

    A table of flat columns only is left in its chunks: slicing those is safe, and combining them
    would copy the whole batch (a SQL chunk arrives as several record batches) while it is written.
    """
    if table.num_rows and not any(pa.types.is_nested(field.type) for field in table.schema):
        return table
    table = table.combine_chunks()
    for index, column in enumerate(table.columns):
        if column.num_chunks == 1 and column.chunk(0).offset and pa.types.is_nested(column.type):
            chunk = column.chunk(0)
            table = table.set_column(index, table.field(index), chunk.take(pa.array(range(len(chunk)), pa.int64())))
    return table


def delta_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us", tz=kind.tz)
    if pa.types.is_unsigned_integer(kind):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64()}.get(kind.bit_width, pa.decimal128(20, 0))
    if pa.types.is_time(kind) or pa.types.is_duration(kind):
        return pa.string()
    if pa.types.is_date64(kind):
        return pa.date32()
    if pa.types.is_float16(kind):
        return pa.float32()
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(delta_type(f.type)) for f in kind])
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(kind.value_field.with_type(delta_type(kind.value_type)))
    if pa.types.is_map(kind):
        return pa.map_(delta_type(kind.key_type), delta_type(kind.item_type))
    return kind


def arrow_schema(table: DeltaTable) -> pa.Schema:
    return pa.schema(table.schema().to_arrow())


def read_table(uri: str, options: dict[str, str] | None = None, sql: str = "select * from t") -> pa.Table:
    """Read a table through delta-rs's own engine.

    `to_pyarrow_table()` goes through pyarrow's dataset threads, which can abort the interpreter at
    exit next to delta-rs's runtime ("terminate called without an active exception").
    """
    table = DeltaTable(uri, storage_options=options or {})
    return pa.table(QueryBuilder().register("t", table).execute(sql))


def find_commit(table: DeltaTable, app_id: str, version: int) -> dict[str, Any] | None:
    """The commit that set `app_id` to `version`, newest commits first (it is usually among them)."""
    for limit in (100, None):
        for commit in table.history(limit):
            if commit.get(META_APP_ID) == app_id and commit.get(META_VERSION) == str(version):
                return commit
    return None


def is_commit_conflict(error: BaseException) -> bool:
    # OSError: an object-store hiccup (timeout, connection reset); the commit may or may not have landed.
    return isinstance(error, CommitFailedError | OSError)


def commit_once(
    latest: Callable[[], DeltaTable],
    stamp: Stamp,
    write: Callable[[DeltaTable], None],
    *,
    what: str,
    policy: RetryPolicy = COMMIT_RETRY,
    follower: bool = False,
) -> bool:
    """Commit `write` exactly once for `stamp`. False: an earlier attempt of this same load landed it.

    Raises LoadConflictError when another load committed this version first, unless `follower`: a
    table written *before* the one that arbitrates (quarantine before bronze) just skips a version
    that is already there, typically left by a load killed between the two commits.
    """

    def attempt() -> bool:
        table = latest()
        committed = table.transaction_version(stamp.app_id) or 0
        if committed >= stamp.version:
            if follower or (committed == stamp.version and _landed(table, stamp)):
                return False
            raise LoadConflictError(
                f"{what}: another load of {stamp.app_id!r} committed batch {committed} while this load "
                f"({stamp.load_id}) was about to commit batch {stamp.version}",
                "run one load per stream at a time (the other load keeps going); re-run this load afterwards "
                "to continue from the committed state",
            )
        write(table)
        return True

    def on_retry(number: int, wait: float, error: BaseException) -> None:
        # The class only: object-store messages can quote request details we do not control.
        log.info("commit.retry", what=what, attempt=number, wait_s=round(wait, 3), error=type(error).__name__)

    return call_with_retry(attempt, policy=policy, retry_on=is_commit_conflict, on_retry=on_retry)


def _landed(table: DeltaTable, stamp: Stamp) -> bool:
    commit = find_commit(table, stamp.app_id, stamp.version)
    return commit is not None and commit.get(META_LOAD_ID) == stamp.load_id
