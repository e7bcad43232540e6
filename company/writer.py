"""Writing batches to disk, byte for byte the same on every run."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from company import dirty
from company.spec import Record, StreamDef

_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def extension(fmt: str) -> str:
    return {"parquet": "parquet", "jsonl": "jsonl", "csv": "csv"}[fmt]


def _column(values: list[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(kind):
        # The model keeps instants as Unix seconds; scale them to the column's unit.
        factor = _PER_SECOND[kind.unit]
        return pa.array([None if v is None else v * factor for v in values], pa.int64()).cast(kind)
    return pa.array(values, type=kind)


def effective_schema(schema: pa.Schema, added: dict[str, str], retyped: dict[str, str]) -> pa.Schema:
    fields = [pa.field(f.name, pa.string()) if f.name in retyped else f for f in schema]
    fields += [pa.field(name, pa.string()) for name in added]
    return pa.schema(fields)


def write_parquet(path: Path, schema: pa.Schema, rows: list[Record]) -> None:
    arrays = [_column([row.get(f.name) for row in rows], f.type) for f in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


def write_jsonl(path: Path, spec: StreamDef, rows: list[Record], seed: int, label: str) -> int:
    lines, n_dirty = dirty.lines(spec, rows, seed, label)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return n_dirty


def write_plain_jsonl(path: Path, rows: list[Record]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(dirty.dumps(row) + "\n" for row in rows), encoding="utf-8")


def write_csv(path: Path, spec: StreamDef, rows: list[Record], added: dict[str, str]) -> None:
    columns = [*spec.columns, *added]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if spec.csv_dialect == "excel" else "\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
