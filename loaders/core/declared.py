"""Checks that the columns a source file names (cursor, keys, partitions, soft-delete flag) exist in
the stream's data, run once per load on its first non-empty batch."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from lakehouse.core.errors import ConfigError
from loaders.core.batch import SyncMode
from loaders.core.bronze import RESERVED_NAMES
from loaders.core.changes import locate
from loaders.core.config import StreamConfig


def check_declared_columns(stream: StreamConfig, data: pa.Table) -> None:
    """Raise a ConfigError naming the file, the key and the columns the data has, when a key names a
    column the data lacks (or a merge key is nested, which an upsert cannot match on)."""
    declared = {
        "cursor_field": [stream.cursor_field] if stream.cursor_field else [],
        "primary_key": list(stream.primary_key),
        "partition_by": [c for c in stream.partition_by if c not in RESERVED_NAMES],
        "soft_delete_field": [stream.soft_delete_field] if stream.soft_delete_field else [],
    }
    for key, columns in declared.items():
        missing = [c for c in columns if not _present(data, c, top_level=key == "partition_by")]
        if missing:
            raise _missing_column_error(stream.source_file, stream.name, key, missing, data)
    nested = [k for k in stream.primary_key if k not in data.column_names]
    if nested and stream.mode in (SyncMode.MERGE, SyncMode.CDC):
        raise ConfigError(
            f"{stream.source_file}: stream {stream.name!r}: key `primary_key`: a {stream.mode.value} "
            f"upserts on top-level columns, and {', '.join(map(repr, nested))} is nested in the data",
            "use `mode: append` for this stream (silver deduplicates), or key it on top-level columns",
        )


def _present(data: pa.Table, column: str, *, top_level: bool) -> bool:
    # Partitions must be top-level columns; cursors and keys may be nested (`segments.date`, DynamoDB's `Item`).
    return column in data.column_names if top_level else locate(data.schema, column) is not None


def _missing_column_error(path: Path | None, stream: str, key: str, missing: list[str], data: pa.Table) -> ConfigError:
    available = ", ".join(c for c in data.column_names if c not in RESERVED_NAMES)
    where = f"{path}: " if path else ""
    return ConfigError(
        f"{where}stream {stream!r}: key `{key}` names {', '.join(map(repr, missing))}, "
        f"which is not in the stream's data; available columns: {available}",
        f"set `{key}` to columns the stream has (one of: {available})"
        + (f" in {path}" if path else "")
        + ", or remove the key",
    )
