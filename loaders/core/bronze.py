"""The bronze writer: Arrow in, Delta out (delta-rs), exactly once.

Every commit carries a Delta application transaction (`app_id` = pipeline/stream, `version` = the
batch sequence) and the stream's new cursor in the same commit's metadata. The stream's state is
read back from the table itself, so data and state cannot diverge: a batch is either committed with
its cursor or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake

from loaders.core.storage import LakehouseRoot

# Metadata columns on every bronze row (DESIGN.md §5).
METADATA_FIELDS = [
    pa.field("_loaded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("_load_id", pa.string(), nullable=False),
    pa.field("_source", pa.string(), nullable=False),
    pa.field("_stream", pa.string(), nullable=False),
    pa.field("_op", pa.string()),
    pa.field("_rescued_data", pa.string()),
]
METADATA_NAMES = [f.name for f in METADATA_FIELDS]

# Keys of the commit metadata this writer owns.
META_APP_ID = "lakehouse.app_id"
META_VERSION = "lakehouse.version"
META_CURSOR = "lakehouse.cursor"
META_LOAD_ID = "lakehouse.load_id"


@dataclass(frozen=True)
class StreamState:
    version: int  # the last committed batch sequence, 0 before the first
    cursor: str | None


class BronzeTable:
    """One bronze Delta table: `<root>/bronze/<source>/<stream>`."""

    def __init__(self, root: LakehouseRoot, source: str, stream: str) -> None:
        self.root = root
        self.source = source
        self.stream = stream
        self.uri = root.bronze_uri(source, stream)
        self._options = root.storage_options()

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(self.uri, storage_options=self._options)

    def table(self) -> DeltaTable:
        return DeltaTable(self.uri, storage_options=self._options)

    def state(self, app_id: str) -> StreamState:
        """The last committed batch sequence and cursor for `app_id`, read from the Delta log."""
        if not self.exists():
            return StreamState(0, None)
        table = self.table()
        version = table.transaction_version(app_id) or 0
        if version == 0:
            return StreamState(0, None)
        for commit in table.history():
            if commit.get(META_APP_ID) == app_id and int(commit.get(META_VERSION, -1)) == version:
                return StreamState(version, commit.get(META_CURSOR))
        # The commit that set the version was cleaned out of the log; its cursor is unknowable.
        return StreamState(version, None)

    def commit(
        self,
        data: pa.RecordBatch | pa.Table,
        *,
        app_id: str,
        version: int,
        cursor: str | None,
        load_id: str,
        overwrite: bool = False,
    ) -> bool:
        """Commit one batch with its state. Returns False when `version` was already committed."""
        if self.exists() and (self.table().transaction_version(app_id) or 0) >= version:
            return False
        metadata = {META_APP_ID: app_id, META_VERSION: str(version), META_LOAD_ID: load_id}
        if cursor is not None:
            metadata[META_CURSOR] = cursor
        write_deltalake(
            self.uri,
            with_metadata_columns(data, source=self.source, stream=self.stream, load_id=load_id),
            mode="overwrite" if overwrite else "append",
            schema_mode="overwrite" if overwrite else "merge",
            storage_options=self._options,
            commit_properties=CommitProperties(
                custom_metadata=metadata,
                app_transactions=[Transaction(app_id=app_id, version=version)],
            ),
        )
        return True


def with_metadata_columns(data: pa.RecordBatch | pa.Table, *, source: str, stream: str, load_id: str) -> pa.Table:
    """Append the bronze metadata columns; `_op` and `_rescued_data` are kept when the stream set them."""
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    n = table.num_rows
    now = datetime.now(UTC)
    constants = {"_loaded_at": now, "_load_id": load_id, "_source": source, "_stream": stream}
    for field in METADATA_FIELDS:
        if field.name in table.column_names:
            table = table.set_column(
                table.schema.get_field_index(field.name), field, table[field.name].cast(field.type)
            )
        else:
            value = constants.get(field.name)
            table = table.append_column(field, pa.repeat(pa.scalar(value, type=field.type), n))
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
