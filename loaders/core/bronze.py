"""The bronze writer: Arrow in, Delta out (delta-rs), exactly once.

Every commit carries a Delta application transaction (`app_id` = pipeline/source/stream, `version` =
the batch sequence) and the stream's new cursor in the same commit's metadata. The stream's state is
read back from the table itself, so data and state cannot diverge: a batch is either committed with
its cursor or not at all.

A full refresh never shows readers a partial table: its batches are committed, exactly once and
with their cursors, to a staging table next to the target (`<root>/bronze/<source>/_refresh/<stream>`),
marked `running` (and `staged` on the last one) and stamped with the target version they will
replace (`refresh_base`). Once the stream is read, the staging table's rows replace the target's in
one overwrite commit carrying the refresh's last cursor (`done`); the staging table is then dropped.
A refresh killed half way is continued from the staging table's cursor by the next run.

Bronze tables keep their whole Delta log (`delta.enableExpiredLogCleanup=false`): the cursors live
in the commit metadata, which checkpoints do not carry.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake

from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.delta import (
    META_APP_ID,
    META_LOAD_ID,
    META_VERSION,
    LoadConflictError,
    Stamp,
    arrow_schema,
    commit_once,
    contiguous,
    create_table,
    delta_compatible,
    find_commit,
    open_table,
)

__all__ = [
    "METADATA_FIELDS",
    "METADATA_NAMES",
    "META_APP_ID",
    "META_CURSOR",
    "META_LOAD_ID",
    "META_REFRESH",
    "META_VERSION",
    "BronzeTable",
    "LoadConflictError",
    "StreamState",
    "Write",
    "describe_cursor",
    "new_load_id",
    "with_metadata_columns",
]

# Metadata columns on every bronze row (loaders/README.md). Always filled, yet declared nullable: a NOT NULL
# column is a Delta "invariant", and on a table whose protocol delta-rs raised to writer v7 (e.g. for
# timestamp_ntz columns) Spark refuses to read it unless `invariants` is listed as a feature.
METADATA_FIELDS = [
    pa.field("_loaded_at", pa.timestamp("us", tz="UTC")),
    pa.field("_load_id", pa.string()),
    pa.field("_source", pa.string()),
    pa.field("_stream", pa.string()),
    pa.field("_op", pa.string()),
    pa.field("_rescued_data", pa.string()),
]
METADATA_NAMES = [f.name for f in METADATA_FIELDS]
# Derived from `_loaded_at` when a stream partitions by it (`partition_by: [_loaded_date]`).
LOADED_DATE = pa.field("_loaded_date", pa.date32())
RESERVED_NAMES = [*METADATA_NAMES, LOADED_DATE.name]

META_CURSOR = "lakehouse.cursor"
META_REFRESH = "lakehouse.refresh"  # staging: "running", "staged" on the last batch; target: "done" on the swap
META_REFRESH_BASE = "lakehouse.refresh_base"  # staging: the target's version the refresh replaces
REFRESH_FOLDER = "_refresh"

BRONZE_CONFIGURATION = {"delta.enableExpiredLogCleanup": "false"}
# delta-rs's Parquet writer holds a whole row group in memory before it writes it, and its default is
# a million rows: a 500,000-row SQL chunk was one row group. 65,536 rows bounds that buffer whatever the
# chunk size (bench/README.md: peak RSS 620 -> 510 MB at 500,000-row chunks, 393 -> 374 MB at 200,000,
# wall time within 1.05x of the floor's in both) and is still a large row group for Spark's scans.
ROW_GROUPS = WriterProperties(max_row_group_size=65_536)


class Write(StrEnum):
    APPEND = "append"
    OVERWRITE = "overwrite"  # the first batch of a full refresh
    MERGE = "merge"  # upsert on the primary key; `_op = 'delete'` turns the row into a tombstone


@dataclass(frozen=True)
class StreamState:
    version: int  # the last committed batch sequence, 0 before the first
    cursor: str | None
    refreshing: bool = False  # a full refresh started and has not committed its last batch
    lost: bool = False  # the commit holding the cursor is no longer in the log
    staged: bool = False  # staging table: every batch of the refresh is committed, the swap is what is left
    base: int | None = None  # staging table: the target version this refresh replaces


class BronzeTable:
    """One bronze Delta table: `<root>/bronze/<source>/<stream>`."""

    def __init__(
        self,
        root: LakehouseRoot,
        source: str,
        stream: str,
        *,
        partition_by: Sequence[str] = (),
        uri: str | None = None,
    ) -> None:
        self.root = root
        self.source = source
        self.stream = stream
        self.uri = uri or root.bronze_uri(source, stream)
        self.partition_by = list(partition_by)
        self._options = root.storage_options()
        self._table: DeltaTable | None = None

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(self.uri, storage_options=self._options)

    def table(self) -> DeltaTable:
        return DeltaTable(self.uri, storage_options=self._options)

    def _current(self, *, refresh: bool = True) -> DeltaTable | None:
        """The table at its latest version (None before the first commit), reusing the loaded log."""
        if self._table is None:
            self._table = open_table(self.uri, self._options)
        elif refresh:
            self._table.update_incremental()
        return self._table

    def data_schema(self) -> pa.Schema | None:
        """The table's own columns, without the metadata columns; None before the first commit.

        As of this load's last commit: a concurrent writer's change makes the next commit conflict anyway.
        """
        table = self._current(refresh=False)
        if table is None:
            return None
        schema = arrow_schema(table)
        return pa.schema([f for f in schema if f.name not in RESERVED_NAMES])

    def state(self, app_id: str) -> StreamState:
        """The last committed batch sequence and cursor for `app_id`, read from the Delta log."""
        table = self._current()
        version = (table.transaction_version(app_id) or 0) if table is not None else 0
        if table is None or version == 0:
            return StreamState(0, None)
        commit = find_commit(table, app_id, version)
        if commit is None:
            return StreamState(version, None, lost=True)
        marker, base = commit.get(META_REFRESH), commit.get(META_REFRESH_BASE)
        return StreamState(
            version,
            commit.get(META_CURSOR),
            refreshing=marker == "running",
            staged=marker == "staged",
            base=int(base) if base is not None else None,
        )

    # --- full refresh: a staging table, swapped in with one commit ------------------------------

    def staging(self) -> BronzeTable:
        """Where a full refresh of this table collects its batches until it replaces the table."""
        uri = f"{self.root.uri}/bronze/{self.source}/{REFRESH_FOLDER}/{self.stream}"
        return BronzeTable(self.root, self.source, self.stream, partition_by=self.partition_by, uri=uri)

    def row_count(self) -> int:
        table = self._current()
        return 0 if table is None else table.to_pyarrow_dataset().count_rows()

    def replace_with(
        self, staging: BronzeTable, *, app_id: str, version: int, cursor: str | None, load_id: str
    ) -> bool:
        """Make the staging table's rows this table's, in one overwrite commit (exactly once for `version`)."""
        source = staging.table()
        schema = arrow_schema(source)
        metadata = {META_REFRESH: "done", **({META_CURSOR: cursor} if cursor is not None else {})}
        stamp = Stamp(app_id, version, load_id, metadata)

        def swap(table: DeltaTable) -> None:
            rows = source.to_pyarrow_dataset().scanner().to_reader()
            write_deltalake(
                table,
                rows,
                mode="overwrite",
                schema_mode="overwrite",
                partition_by=self.partition_by or None,
                commit_properties=stamp.properties(),
                writer_properties=ROW_GROUPS,
            )

        return commit_once(lambda: self._latest(schema), stamp, swap, what=f"bronze {self.source}.{self.stream}")

    def replace_with_nothing(self, *, app_id: str, version: int, cursor: str | None, load_id: str) -> None:
        """An allowed empty refresh: the table keeps its columns and loses its rows, in one commit."""
        schema = self.data_schema()
        if schema is None:
            return
        self.commit(
            schema.empty_table(),
            app_id=app_id,
            version=version,
            cursor=cursor,
            load_id=load_id,
            write=Write.OVERWRITE,
            refresh="done",
        )

    def drop(self) -> None:
        """Delete this table's folder (a staging table, once swapped in or abandoned)."""
        self._table = None
        if self.root.scheme == "file":
            shutil.rmtree(self.uri, ignore_errors=True)
            return
        from pyarrow import fs

        filesystem = fs.S3FileSystem(**_s3_options())
        path = self.uri.removeprefix("s3://")
        if filesystem.get_file_info(path).type != fs.FileType.NotFound:
            filesystem.delete_dir(path)

    def check_partitioning(self) -> None:
        """A table's partition columns are fixed when it is created; say so when the config moved on."""
        table = self._current()
        if table is None:
            return
        actual = list(table.metadata().partition_columns)
        if actual != self.partition_by:
            raise ConfigError(
                f"bronze table {self.uri} is partitioned by {actual or 'nothing'}, "
                f"the stream's `partition_by` says {self.partition_by or 'nothing'}",
                "restore the previous `partition_by`, or delete the table's folder and load again from scratch",
            )

    def commit(
        self,
        data: pa.RecordBatch | pa.Table,
        *,
        app_id: str,
        version: int,
        cursor: str | None,
        load_id: str,
        overwrite: bool = False,
        write: Write | None = None,
        merge_keys: Sequence[str] = (),
        refresh: str | None = None,
        base: int | None = None,
    ) -> bool:
        """Commit one batch with its state. False: an earlier attempt of this load already committed it.

        Raises LoadConflictError when another load committed `version` first.
        """
        how = write or (Write.OVERWRITE if overwrite else Write.APPEND)
        rows = with_metadata_columns(
            data, source=self.source, stream=self.stream, load_id=load_id, loaded_date=self._by_loaded_date
        )
        rows = contiguous(delta_compatible(rows))
        metadata = {META_CURSOR: cursor} if cursor is not None else {}
        if refresh is not None:
            metadata[META_REFRESH] = refresh
        if base is not None:
            metadata[META_REFRESH_BASE] = str(base)
        stamp = Stamp(app_id, version, load_id, metadata)
        what = f"bronze {self.source}.{self.stream}"
        return commit_once(
            lambda: self._latest(rows.schema),
            stamp,
            lambda table: self._write(table, rows, stamp, how, merge_keys),
            what=what,
        )

    @property
    def _by_loaded_date(self) -> bool:
        return LOADED_DATE.name in self.partition_by

    def _latest(self, schema: pa.Schema) -> DeltaTable:
        table = self._current()
        if table is None:
            self._table = table = create_table(
                self.uri, self._options, schema, partition_by=self.partition_by, configuration=BRONZE_CONFIGURATION
            )
        return table

    def _write(self, table: DeltaTable, rows: pa.Table, stamp: Stamp, how: Write, keys: Sequence[str]) -> None:
        properties = stamp.properties()
        if how is Write.MERGE:
            _merge(table, rows, keys, properties)
            return
        write_deltalake(
            table,
            rows,
            mode="overwrite" if how is Write.OVERWRITE else "append",
            schema_mode="overwrite" if how is Write.OVERWRITE else "merge",
            partition_by=self.partition_by or None,
            commit_properties=properties,
            writer_properties=ROW_GROUPS,
        )


def _s3_options() -> dict[str, object]:
    """pyarrow's S3 client options from the standard AWS variables (as delta-rs gets them)."""
    options: dict[str, object] = {"region": os.environ.get("AWS_REGION", "us-east-1")}
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        options |= {"endpoint_override": rest or endpoint, "scheme": scheme if rest else "https"}
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        options |= {"access_key": os.environ["AWS_ACCESS_KEY_ID"]}
        options |= {"secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "")}
        options |= {"session_token": os.environ.get("AWS_SESSION_TOKEN")}
    return options


def _merge(table: DeltaTable, rows: pa.Table, keys: Sequence[str], properties: CommitProperties) -> None:
    """Upsert on `keys`; a delete updates the key's row into a tombstone instead of removing it.

    The tombstone keeps the row's last values (a value the delete itself carries wins, as a soft
    delete's `deleted_at`), takes the delete's metadata (`_op = 'delete'`, `_loaded_at`, `_load_id`),
    and so is the key's latest version for whatever reads bronze downstream. A delete of a key bronze
    never had is dropped; a later insert of the key updates the tombstone back into a live row.
    """
    on = " AND ".join(f"t.{_quoted(key)} = s.{_quoted(key)}" for key in keys)
    is_delete = "s._op = 'delete'"
    keep = "coalesce(s._op, '') <> 'delete'"
    (
        table.merge(rows, on, source_alias="s", target_alias="t", merge_schema=True, commit_properties=properties)
        .when_matched_update(_tombstone(rows.schema, arrow_schema(table), keys), predicate=is_delete)
        .when_matched_update_all(predicate=keep)
        .when_not_matched_insert_all(predicate=keep)
        .execute()
    )


def _tombstone(source: pa.Schema, target: pa.Schema, keys: Sequence[str]) -> dict[str, str]:
    """Column updates that turn a matched row into its tombstone."""
    updates = {}
    for name in source.names:
        if name in keys:
            continue
        column = _quoted(name)
        if name in _FROM_THE_DELETE or name not in target.names:
            updates[column] = f"s.{column}"
        elif name != "_rescued_data":
            updates[column] = f"coalesce(s.{column}, t.{column})"
    return updates


# Metadata a tombstone takes from the delete; `_rescued_data` stays the row's own.
_FROM_THE_DELETE = frozenset({"_loaded_at", "_load_id", "_source", "_stream", "_op", "_loaded_date"})


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def with_metadata_columns(
    data: pa.RecordBatch | pa.Table, *, source: str, stream: str, load_id: str, loaded_date: bool = False
) -> pa.Table:
    """Append the bronze metadata columns; `_op` and `_rescued_data` are kept when the stream set them."""
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    now = datetime.now(UTC)
    # These describe the load, so they are always the loader's, whatever the source sent.
    constants = {"_loaded_at": now, "_load_id": load_id, "_source": source, "_stream": stream}
    if loaded_date:
        constants[LOADED_DATE.name] = now.date()
    for field in [*METADATA_FIELDS, LOADED_DATE] if loaded_date else METADATA_FIELDS:
        index = table.schema.get_field_index(field.name)
        if field.name in constants:
            column = pa.repeat(pa.scalar(constants[field.name], type=field.type), table.num_rows)
        elif index >= 0:
            column = table[field.name].cast(field.type)
        else:
            column = pa.nulls(table.num_rows, field.type)
        table = table.set_column(index, field, column) if index >= 0 else table.append_column(field, column)
    return table


def new_load_id() -> str:
    """Sortable, unique per load: UTC time plus random suffix."""
    import secrets

    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def describe_cursor(cursor: str | None) -> str:
    if cursor is None:
        return "-"
    try:
        return json.dumps(json.loads(cursor), separators=(",", ":"))
    except ValueError:
        return cursor
