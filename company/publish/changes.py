"""One stream's changes in one generated batch, as a server applies them: rows to upsert, keys to delete.

The generator writes a stream's rows as `<system>/<stream>/<batch>.parquet` (the history shows every
row, an increment the rows created or changed that day) and the rows a system hard-deleted that day as
`<system>/<stream>/deletes/<batch>.jsonl` (the key and `_deleted_at`). Document and key-value stores
(MongoDB, DynamoDB) write JSON Lines instead, in the shape their export tools give (mongoexport's
Extended JSON, DynamoDB's typed items), with a few dirty lines among them (see `company.dirty`):
`read_documents` reads those, leaving the dirty lines out, as no server would hold them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from company.manifest import BatchStats, Manifest
from company.spec import Record, StreamDef
from lakehouse.core.errors import ConfigError


@dataclass(frozen=True)
class Changes:
    spec: StreamDef
    upserts: pa.Table  # the stream's columns; one row per key, the last written wins
    deletes: pa.Table  # the key columns only, typed like the table's
    dirty: int = 0  # Parquet files have no dirty lines


@dataclass(frozen=True)
class DocumentChanges:
    spec: StreamDef
    upserts: list[Record]  # whole documents (items), as the server stores them; one per key, the last wins
    deletes: list[Record]  # the key fields only
    dirty: int = 0  # the file's dirty lines, left out


def company_of(manifest: Manifest) -> str:
    """What identifies one generated company: the same arguments give the same data."""
    return f"seed={manifest.seed} scale={manifest.scale} start={manifest.start}"


def load_manifest(folder: Path) -> Manifest:
    manifest = Manifest.load(folder)
    if manifest is None:
        raise ConfigError(
            f"{folder} holds no generated company (no manifest.json)",
            "generate it first: `python -m company --out DIR` (`lakehouse company publish` "
            "generates the demo's company itself)",
        )
    return manifest


def read_changes(folder: Path, spec: StreamDef, stats: BatchStats) -> Changes:
    schema = table_schema(spec)
    upserts = schema.empty_table()
    if stats.file is not None:
        upserts = pq.read_table(folder / stats.file)
        if not upserts.schema.equals(schema, check_metadata=False):
            raise ConfigError(
                f"{folder / stats.file} does not have the columns of {spec.native_name} "
                "(written with --inject schema drift?)",
                "publish batches generated without --inject: a real table's schema changes with a migration",
            )
    deletes = pa.schema([schema.field(k) for k in spec.primary_key]).empty_table()
    if stats.deletes_file is not None:
        deletes = _delete_keys(folder / stats.deletes_file, spec)
    return Changes(spec, last_per_key(upserts, list(spec.primary_key)), deletes)


def table_schema(spec: StreamDef) -> pa.Schema:
    if spec.fmt != "parquet" or spec.schema is None:
        raise ConfigError(
            f"{spec.native_name} is not a table the generator writes as Parquet",
            "only database systems (postgres, mysql) can be published to a database server",
        )
    return spec.schema


def last_per_key(table: pa.Table, keys: list[str]) -> pa.Table:
    """A key written twice in one batch is one row in a table: keep the last one written."""
    if table.num_rows == 0:
        return table
    numbered = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    last = numbered.group_by(keys, use_threads=False).aggregate([("_row", "max")])["_row_max"]
    return table.take(pc.take(last, pc.sort_indices(last)))


def _delete_keys(path: Path, spec: StreamDef) -> pa.Table:
    schema = table_schema(spec)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    columns = {k: pa.array([r[k] for r in records]).cast(schema.field(k).type) for k in spec.primary_key}
    return pa.table(columns)


def read_documents(
    folder: Path,
    spec: StreamDef,
    stats: BatchStats,
    *,
    document: Callable[[str], Record | None],
    key: Callable[[Record], Hashable],
    deleted: Callable[[str], Record],
) -> DocumentChanges:
    """A JSON Lines batch: `document` decodes a line (None: a dirty line), `key` names a document's key,
    `deleted` decodes a line of the deletes file into the key fields."""
    latest: dict[Hashable, Record] = {}
    dirty = 0
    if stats.file is not None:
        for line in (folder / stats.file).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            decoded = document(line)
            if decoded is None:
                dirty += 1
                continue
            latest.pop(key(decoded), None)  # re-inserted: the order is the last write's
            latest[key(decoded)] = decoded
    deletes: list[Record] = []
    if stats.deletes_file is not None:
        text = (folder / stats.deletes_file).read_text(encoding="utf-8")
        deletes = [deleted(line) for line in text.splitlines() if line.strip()]
    return DocumentChanges(spec, list(latest.values()), deletes, dirty)
