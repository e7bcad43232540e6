"""File formats beyond the line-oriented ones: JSON documents, Excel workbooks, and gzip/zip archives.

- `json`: one JSON document per file, an array of objects (or a single object: one record). Each
  element is handed to the JSON Lines reader, so an element that is not an object is a rejected
  record like a bad JSON line.
- `excel`: the first sheet of an .xlsx workbook (or `sheet:`), its first row the header, read with
  openpyxl in read-only mode (rows streamed, `batch_rows` at a time). A column whose cells do not
  share one type is kept as text.
- Compression: `gzip` and `zip` (`compression: auto` picks by the `.gz` / `.zip` extension). A zip
  file's members are read in name order, as one file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

CHUNK_BYTES = 1 << 20


def compression_of(name: str, setting: str) -> str:
    if setting != "auto":
        return setting
    lowered = name.lower()
    return "gzip" if lowered.endswith(".gz") else "zip" if lowered.endswith(".zip") else "none"


@contextmanager
def decompressed(path: Path, compression: str) -> Iterator[list[Path]]:
    """The file's content as local files: the file itself, its gunzipped copy, or a zip's members."""
    if compression == "none":
        yield [path]
        return
    with tempfile.TemporaryDirectory(prefix="lakehouse-unpack-") as folder:
        if compression == "gzip":
            target = Path(folder) / path.name.removesuffix(".gz")
            with gzip.open(path, "rb") as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK_BYTES)
            yield [target]
            return
        with zipfile.ZipFile(path) as archive:
            members = sorted((info for info in archive.infolist() if not info.is_dir()), key=lambda i: i.filename)
            paths = []
            for number, info in enumerate(members):
                target = Path(folder) / f"{number:06d}-{Path(info.filename).name}"
                with archive.open(info) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, CHUNK_BYTES)
                paths.append(target)
        yield paths


def json_document_lines(path: Path) -> io.BytesIO:
    """A JSON document as JSON Lines: one line per element of its top-level array."""
    with path.open("rb") as handle:
        document = json.load(handle)
    records = document if isinstance(document, list) else [document]
    return io.BytesIO(b"\n".join(json.dumps(record, default=str).encode() for record in records) + b"\n")


def excel_tables(path: Path, sheet: str | None, batch_rows: int) -> Iterator[pa.Table]:
    """The sheet's rows as Arrow tables of at most `batch_rows` rows."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = _header_names(header)
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            if row is None or all(value is None for value in row):
                continue
            chunk.append(row)
            if len(chunk) == batch_rows:
                yield _excel_table(names, chunk)
                chunk = []
        if chunk:
            yield _excel_table(names, chunk)
    finally:
        workbook.close()


def _header_names(header: tuple[Any, ...]) -> list[str]:
    names: list[str] = []
    for index, value in enumerate(header):
        name = str(value).strip() if value is not None and str(value).strip() else f"column_{index + 1}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def _excel_table(names: list[str], rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = {}
    for index, name in enumerate(names):
        values = [row[index] if index < len(row) else None for row in rows]
        columns[name] = _excel_column(values)
    return pa.table(columns)


def _excel_column(values: list[Any]) -> pa.Array:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} or kinds <= {bool} or kinds <= {dt.datetime} or kinds <= {dt.date}:
        try:
            array = pa.array(values)
            return array.cast(pa.string()) if pa.types.is_null(array.type) else array
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime | dt.time) else str(value)
