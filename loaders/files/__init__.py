"""File sources: CSV, JSON, JSON Lines, Parquet and Excel files, plain or gzip/zip, in a local folder
or on SFTP, FTP/FTPS, S3, Google Cloud Storage or Azure Blob Storage (`stores.py`, `remote.py`).

Files are read in name order; the cursor records every file loaded (name, `size:mtime` and the
SHA-256 of its content) and, for the file being read, how many of its rows are committed: a load
resumes mid-file after a crash, never re-reads a finished file, and still loads a file that arrives
later with a name that sorts before the ones already loaded. A loaded file whose size or
modification time changes is fetched again; if its content changed it is read again, whole, as new
data, and if it is the same content dropped again it is only recorded.
Each file is read as a stream of Arrow batches, never whole into Python objects (JSON documents and
Excel sheets excepted: they are parsed by their libraries, a batch of rows at a time for Excel).

Reading is tolerant: a CSV row with the wrong number of fields or a JSON line that does not parse is
handed to the pipeline as a rejected record (it ends up in quarantine with its raw text), and the
rest of the file loads. Each rejected record travels with the batch that holds the next good row
after it, so it is quarantined exactly once even when a load resumes mid-file. A file that cannot
be read at all (not gzip, a broken zip or Parquet file, a JSON document that does not parse) is
quarantined whole, as one record naming its path, and the other files load.

Types are inferred per file (CSV: from its first block, then per block; JSON Lines: per chunk of
`batch_rows` lines). The schema policy fits each batch to the bronze table; within one JSON chunk, the
few lines whose types disagree with the rest are fitted the same way (odd values to `_rescued_data`)
so that they do not split the chunk into many commits.

Stream keys: `format` (csv | json | jsonl | parquet | excel), `pattern` (glob under the folder,
default `<stream>/*.<extension>`), `compression` (auto | none | gzip | zip), `sheet` (Excel),
`batch_rows` (rows per committed batch, default 65,536).
"""

from __future__ import annotations

import base64
import gzip
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import SourceError
from loaders.core.bronze import RESERVED_NAMES
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.quarantine import BatchWithRejects, Rejected
from loaders.core.schema_policy import SchemaPolicy, conform, writable_type
from loaders.files.formats import compression_of, decompressed, excel_tables, json_document_lines
from loaders.files.remote import build_store
from loaders.files.stores import FileStore, LocalStore

BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 8 << 20
# What pyarrow's CSV reader treats as null in a typed column.
CSV_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"]
CSV_NULLS += ["<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


@dataclass(frozen=True)
class FileCursor:
    file: str  # path relative to the source folder
    rows: int  # rows of `file` already committed
    complete: bool
    # Every file loaded to the end: name -> "size:mtime:sha256" ("size:mtime" in older cursors).
    # None in a cursor written before it existed.
    loaded: dict[str, str] | None = None

    def dump(self) -> str:
        document = {"file": self.file, "rows": self.rows, "complete": self.complete, "loaded": self.loaded or {}}
        return json.dumps(document, sort_keys=True)

    @classmethod
    def load(cls, raw: str | None) -> FileCursor | None:
        if raw is None:
            return None
        data = json.loads(raw)
        loaded = data.get("loaded")
        return cls(
            data["file"], int(data["rows"]), bool(data["complete"]), dict(loaded) if loaded is not None else None
        )

    def is_loaded(self, name: str, signature: str) -> bool:
        if self.loaded is None:  # an older cursor knew only the last file: everything before it was loaded
            return name < self.file or (name == self.file and self.complete)
        return self.loaded.get(name) == signature


@dataclass(frozen=True)
class _Reject:
    position: int  # good rows of the file before this record: it travels with the batch holding that row
    reason: str
    raw_payload: str
    line: int | None = None  # the record's line in the file, when known: part of its quarantine id


_Piece = tuple[pa.Table | pa.RecordBatch, list[_Reject]]


class FileStreamOptions(BaseModel):
    """The files family's own stream keys."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "json", "jsonl", "parquet", "excel"] = "csv"
    pattern: str | None = None  # default `<stream>/*.<extension>`
    compression: Literal["auto", "none", "gzip", "zip"] = "auto"
    sheet: str | None = None  # Excel: the sheet to read (default: the first)
    batch_rows: int = Field(default=BATCH_ROWS, gt=0)


EXTENSIONS = {"excel": "xlsx"}
# What a file that cannot be read at all raises: the whole file goes to quarantine.
UNREADABLE = (pa.ArrowInvalid, OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, gzip.BadGzipFile)
MAX_PAYLOAD_BYTES = 1 << 20  # of an unreadable file kept in its quarantine record


class FileStream:
    def __init__(self, store: FileStore | Path, config: StreamConfig, batch_rows: int | None = None) -> None:
        options = config.family_options(FileStreamOptions)
        self.config = config
        self.store: FileStore = LocalStore(store) if isinstance(store, Path) else store
        self.format = options.format
        self.compression = options.compression
        self.sheet = options.sheet
        self.pattern = options.pattern or f"{config.name}/*.{EXTENSIONS.get(self.format, self.format)}"
        self.batch_rows = batch_rows or options.batch_rows

    def files(self) -> list[str]:
        return sorted(self.store.list(self.pattern))

    def read(self, cursor: str | None) -> Iterator[BatchWithRejects]:
        position = FileCursor.load(cursor)
        stats = self.store.list(self.pattern)
        loaded: dict[str, str] = {}
        if position is not None and position.loaded is None:  # an older cursor: the files before its file
            loaded = {n: stat for n, stat in stats.items() if position.is_loaded(n, stat)}
        elif position is not None:  # files loaded before and since removed stay known
            loaded = dict(position.loaded or {})
        for name in sorted(stats):
            resuming = position is not None and name == position.file and not position.complete
            if not resuming and _same_stat(loaded.get(name), stats[name]):
                continue
            skip = position.rows if resuming and position is not None else 0  # the file a load was cut short in
            with self.store.fetch(name) as fetched:
                signature = f"{stats[name]}:{fetched.digest}"
                if not resuming and _digest(loaded.get(name)) == fetched.digest:
                    loaded = {**loaded, name: signature}  # dropped again, same content: only remember it
                    yield BatchWithRejects(pa.table({}), FileCursor(name, 0, True, loaded).dump(), ())
                    continue
                for batch, complete in self._read_file(name, fetched.path, skip):
                    if complete:
                        loaded = {**loaded, name: signature}
                    cursor_now = FileCursor(name, batch.rows, complete, loaded).dump()
                    yield BatchWithRejects(batch.data, cursor_now, batch.rejects)

    def _read_file(self, name: str, path: Path, skip: int) -> Iterator[tuple[_FileBatch, bool]]:
        done = 0
        waiting: list[_Reject] = []  # rejects not yet handed out with a batch
        pending: tuple[pa.Table | pa.RecordBatch, int, list[_Reject]] | None = None
        for data, rejects in self._file_pieces(name, path):
            waiting += [r for r in rejects if r.position >= skip]  # the others were committed before
            start = max(0, skip - done)
            done += data.num_rows
            if start >= data.num_rows:
                continue
            attached, waiting = [r for r in waiting if r.position < done], [r for r in waiting if r.position >= done]
            if pending is not None:
                yield _batch(name, *pending), False
            pending = (data.slice(start), done, attached)
        # The last batch of a file marks it complete, so the next run moves on to the next file.
        if pending is None:  # an empty or already-committed file: still record that it is complete
            pending = (pa.table({}), done, [])
        data, _, attached = pending
        yield _batch(name, data, done, attached + waiting), True

    def _file_pieces(self, name: str, path: Path) -> Iterator[_Piece]:
        """The file's pieces; a file that cannot be read (from where it fails) is one rejected record."""
        position = 0
        try:
            with decompressed(path, compression_of(name, self.compression)) as parts:
                for part in parts:
                    for data, rejects in self._pieces(part):
                        position += data.num_rows
                        yield data, rejects
        except UNREADABLE as exc:
            reason = f"unreadable file {self.store.describe(name)} (format {self.format}): {type(exc).__name__}: {exc}"
            yield pa.table({}), [_Reject(position, reason, _payload(path))]

    def _pieces(self, path: Path) -> Iterator[_Piece]:
        if self.format == "parquet":
            for batch in pq.ParquetFile(path).iter_batches(batch_size=self.batch_rows):
                yield batch, []
        elif self.format == "csv":
            yield from _CsvReader(path, self.batch_rows).pieces()
        elif self.format == "excel":
            for table in excel_tables(path, self.sheet, self.batch_rows):
                yield table, []
        elif self.format == "json":
            yield from _jsonl_pieces(json_document_lines(path), self.batch_rows)
        else:
            with path.open("rb") as handle:
                yield from _jsonl_pieces(handle, self.batch_rows)


def _same_stat(recorded: str | None, stat: str) -> bool:
    return recorded is not None and recorded.split(":")[:2] == stat.split(":")[:2]


def _digest(recorded: str | None) -> str | None:
    parts = (recorded or "").split(":")
    return parts[2] if len(parts) > 2 else None


def _payload(path: Path) -> str:
    """An unreadable file's content for its quarantine record (text as is, binary base64), capped."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_PAYLOAD_BYTES + 1)
    cut = len(raw) > MAX_PAYLOAD_BYTES
    raw = raw[:MAX_PAYLOAD_BYTES]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = "base64:" + base64.b64encode(raw).decode()
    return text + ("\n[truncated]" if cut else "")


@dataclass(frozen=True)
class _FileBatch:
    data: pa.Table | pa.RecordBatch
    rows: int  # rows of the file committed once this batch is
    rejects: tuple[Rejected, ...]


def _batch(name: str, data: pa.Table | pa.RecordBatch, rows: int, rejects: list[_Reject]) -> _FileBatch:
    return _FileBatch(data, rows, tuple(Rejected(r.reason, r.raw_payload, f"{name}:{r.line or ''}") for r in rejects))


class _CsvReader:
    """CSV read as text, then typed per block: a late value of another type cannot fail the whole file.

    Column types are pyarrow's inference from the file's first block. A block in which a column's
    values do not all fit that type keeps the column as text, so no value is lost here; the schema
    policy then decides against the table's type.
    """

    def __init__(self, path: Path, batch_rows: int) -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.position = 0  # good rows before the block being parsed
        self.rejects: list[_Reject] = []

    def pieces(self) -> Iterator[_Piece]:
        schema = self._inferred_schema()
        reader = pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=self._on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in schema.names}),
        )
        # Serial reading (use_threads=False) means a bad row is reported while its own block is parsed.
        for block in reader:
            typed = _typed(block, schema)
            rejects, self.rejects = self.rejects, []
            self.position += typed.num_rows
            if typed.num_rows == 0:
                yield typed, rejects
                continue
            for offset in range(0, typed.num_rows, self.batch_rows):
                yield typed.slice(offset, self.batch_rows), rejects if offset == 0 else []
        if self.rejects:
            yield pa.table({}), self.rejects

    def _inferred_schema(self) -> pa.Schema:
        reader = pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(block_size=min(CSV_BLOCK_BYTES, 1 << 20), use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        )
        schema = reader.schema
        reader.close()
        return pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema])

    def _on_invalid(self, row: pacsv.InvalidRow) -> str:
        line = f" (line {row.number})" if row.number is not None else ""
        reason = f"CSV row has {row.actual_columns} fields, the header has {row.expected_columns}{line}"
        self.rejects.append(_Reject(self.position, reason, row.text, row.number))
        return "skip"


def _typed(block: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    nulls = pa.array(CSV_NULLS)
    columns = []
    for field, column in zip(schema, block.columns, strict=True):
        if pa.types.is_string(field.type):
            columns.append(column)
            continue
        values = pc.if_else(pc.is_in(column, nulls), pa.scalar(None, pa.string()), column)
        try:
            columns.append(values.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=schema.names)


def _jsonl_pieces(handle: BinaryIO, batch_rows: int) -> Iterator[_Piece]:
    position = 0
    first_line = 1
    while True:
        lines = list(itertools.islice(handle, batch_rows))  # stops at the end of the file
        if not lines:
            return
        numbered = [(first_line + i, line.rstrip(b"\r\n")) for i, line in enumerate(lines) if line.strip()]
        first_line += len(lines)
        records = [text for _, text in numbered]
        numbers = [number for number, _ in numbered]
        pieces = list(_parse_json_lines(records, position, numbers))
        rejects = [reject for _, found in pieces for reject in found]
        tables = _combined([data for data, _ in pieces if data.num_rows])
        # All of the chunk's rejects go with its first piece; `_read_file` hands each out by position.
        for index, data in enumerate(tables or [pa.table({})]):
            yield data, rejects if index == 0 else []
        position += sum(t.num_rows for t in tables)


def json_records(lines: list[bytes], origin: str) -> tuple[list[pa.Table], list[Rejected]]:
    """JSON lines parsed as the `jsonl` format parses a chunk: tables in line order, odd values fitted
    (to `_rescued_data`), lines that do not parse as rejects. Used by families that receive JSON
    records from elsewhere (the Airbyte connector runner)."""
    pieces = list(_jsonl_pieces(io.BytesIO(b"\n".join(lines)), max(1, len(lines))))
    tables = [data for data, _ in pieces if data.num_rows]
    rejects = [Rejected(r.reason, r.raw_payload, f"{origin}:{r.line or ''}") for _, found in pieces for r in found]
    return tables, rejects


def _combined(tables: list[pa.Table]) -> list[pa.Table]:
    """One table per chunk, so a few odd lines do not split it into many small commits.

    Pieces whose types agree (or widen, as int into float) are simply concatenated. Otherwise the
    pieces are fitted to the largest one's types, the way the evolve policy fits a batch to a table:
    a value of another type is kept, as it arrived, in `_rescued_data`.
    """
    if len(tables) < 2:
        return tables
    try:
        return [pa.concat_tables(tables, promote_options="permissive")]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    reference = _reference_schema(tables)
    fitted = [conform(t, reference, SchemaPolicy.EVOLVE, passthrough=RESERVED_NAMES).data for t in tables]
    try:
        return [pa.concat_tables(fitted, promote_options="permissive")]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return tables


def _reference_schema(tables: list[pa.Table]) -> pa.Schema:
    """The largest piece's columns, each widened by every piece whose type unifies with it.

    Null-typed parts (a field always null in one piece, an empty list) take the type other pieces
    give them. A piece whose value cannot unify (a struct where the others have a string) keeps the
    reference type, so only its odd values go to `_rescued_data`.
    """
    largest = max(tables, key=lambda t: t.num_rows).schema
    fields = []
    for field in largest:
        kind = field.type
        for table in tables:
            index = table.schema.get_field_index(field.name)
            if index < 0:
                continue
            pair = [pa.schema([field.with_type(kind)]), pa.schema([field.with_type(table.schema.field(index).type)])]
            try:
                kind = pa.unify_schemas(pair, promote_options="permissive").field(0).type
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                continue
        stored = writable_type(kind)
        if stored is not None:
            fields.append(field.with_type(stored))
    return pa.schema(fields)


def _parse_json_lines(records: list[bytes], position: int, numbers: list[int]) -> Iterator[_Piece]:
    """Parse together what parses together; split on failure until each bad line stands alone."""
    if not records:
        return
    payload = b"\n".join(records)
    try:
        options = pajson.ReadOptions(use_threads=False, block_size=max(1 << 20, len(payload) + 1))
        yield pajson.read_json(io.BytesIO(payload), read_options=options), []
        return
    except pa.ArrowInvalid as exc:
        failure = str(exc)
    if len(records) == 1:
        text = records[0].decode("utf-8", errors="replace")
        yield pa.table({}), [_Reject(position, _json_reason(text, failure), text, numbers[0])]
        return
    middle = len(records) // 2
    for data, rejects in _parse_json_lines(records[:middle], position, numbers[:middle]):
        position += data.num_rows
        yield data, rejects
    yield from _parse_json_lines(records[middle:], position, numbers[middle:])


def _json_reason(text: str, failure: str) -> str:
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"malformed JSON: {exc}"
    if not isinstance(value, dict):
        return f"a JSON line must hold an object, not {type(value).__name__}"
    return f"JSON line cannot be converted to Arrow: {failure}"


class FileSource:
    def __init__(self, config: SourceConfig) -> None:
        self.name = config.source
        self.store = build_store(config)
        self._streams = [FileStream(self.store, stream) for stream in config.streams]

    @property
    def folder(self) -> Path | None:
        return self.store.folder if isinstance(self.store, LocalStore) else None

    def streams(self) -> list[FileStream]:
        return self._streams

    def check(self) -> None:
        if not self.store.exists():
            raise SourceError(
                f"source {self.name!r}: the folder {self.store.describe()} does not exist",
                "check options.path (relative paths are relative to the source file) or options.url",
            )


def build(config: SourceConfig) -> FileSource:
    return FileSource(config)
