"""`type: airbyte_landing`: the files Airbyte's S3 destination writes, landed in bronze exactly once.

    source: crm_airbyte
    type: airbyte_landing
    options:
      path: s3://landing/airbyte          # the destination's bucket and bucket path (or a local folder)
      namespace: salesforce               # the ${NAMESPACE} part of the path, if the connection has one
      connection: salesforce_to_bronze    # optional: the workspace connection writing these files (lineage)
      endpoint: ${AIRBYTE_S3_ENDPOINT}    # optional; default AWS_ENDPOINT_URL, then AWS itself
      access_key_id: ${AWS_ACCESS_KEY_ID} # optional; default the standard AWS variables
      secret_access_key: ${AWS_SECRET_ACCESS_KEY}
    streams:
      - name: accounts
        airbyte_stream: Account           # the folder's name, when it is not the bronze name
        batch_rows: 50000

The destination writes `<bucket>/<path>/<namespace>/<stream>/<YYYY_MM_DD>_<epoch ms>_<part>.jsonl[.gz]`
(or `.parquet`); every record carries `_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta`
(`sync_id`, `changes`) and `_airbyte_generation_id`, and either its fields at the top level (root-level
flattening) or under `_airbyte_data`, which is unnested here.

Exactly once: the cursor is the files family's (`loaders.files.FileCursor`: every loaded file with its
size and modification time, plus how many lines of the file being read are committed), with the
stream's current generation id. Generations: the first batch of a file whose generation is higher than
the cursor's *replaces* the bronze table (a refresh: the new generation supersedes the earlier ones),
in the same commit as the cursor that records the new generation; files of an older generation that
turn up later are marked loaded and skipped. Records whose `_airbyte_meta.changes` is not empty
(Airbyte nulled or truncated a value) load with the changes in `_rescued_data`, so the ledger counts
them as rescued rows.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import structlog
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import SourceError
from loaders.core.config import SourceConfig, StreamConfig, validated_options
from loaders.core.quarantine import BatchWithRejects
from loaders.files import FileCursor, json_records

log = structlog.get_logger("loaders.airbyte")
BATCH_ROWS = 50_000
SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
GENERATION = "_airbyte_generation_id"
META = "_airbyte_meta"
DATA = "_airbyte_data"
EXTRACTED_AT = "_airbyte_extracted_at"
RESCUED = "_rescued_data"


class LandingOptions(BaseModel):
    """`options:` of an `airbyte_landing` source."""

    model_config = ConfigDict(extra="forbid")

    path: str
    namespace: str | None = None
    # The connection of the Airbyte workspace file (airbyte/workspace.yml) whose destination writes these
    # files: not read by the load; the scheduler draws that connection's asset upstream of these streams.
    connection: str | None = None
    endpoint: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


class LandingStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    airbyte_stream: str | None = None
    namespace: str | None = None  # overrides the source's
    batch_rows: int = Field(default=BATCH_ROWS, gt=0)


@dataclass(frozen=True)
class LandingCursor:
    """The files family's cursor plus the generation id the bronze table holds."""

    files: FileCursor | None
    generation: int | None

    def dump(self) -> str:
        document = json.loads(self.files.dump()) if self.files is not None else {}
        return json.dumps({**document, "generation": self.generation}, sort_keys=True)

    @classmethod
    def load(cls, raw: str | None) -> LandingCursor:
        if raw is None:
            return cls(None, None)
        data = json.loads(raw)
        generation = data.get("generation")
        return cls(FileCursor.load(raw) if "file" in data else None, None if generation is None else int(generation))


@dataclass(frozen=True)
class _File:
    name: str  # relative to the stream's folder
    signature: str  # size:mtime_ns


class LandingFolder:
    """A folder of landing files on S3 or the local disk, through pyarrow's file systems."""

    def __init__(self, options: LandingOptions, relative_to: SourceConfig) -> None:
        parsed = urlparse(options.path)
        if parsed.scheme in ("s3", "s3a"):
            self.fs: pafs.FileSystem = _s3(options)
            self.base = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
        else:
            self.fs = pafs.LocalFileSystem()
            self.base = str(relative_to.relative_path(options.path))
        self.display = options.path

    def files(self, folder: str) -> list[_File]:
        selector = pafs.FileSelector(f"{self.base}/{folder}", recursive=True, allow_not_found=True)
        found = []
        for info in self.fs.get_file_info(selector):
            if info.type == pafs.FileType.File and info.path.endswith(SUFFIXES):
                name = info.path.removeprefix(f"{self.base}/{folder}/")
                found.append(_File(name, f"{info.size}:{info.mtime_ns or 0}"))
        return sorted(found, key=lambda f: f.name)

    def open(self, path: str) -> io.BufferedReader:
        """A line-readable stream (gzip decompressed on the fly)."""
        compression = "gzip" if path.endswith(".gz") else None
        return io.BufferedReader(self.fs.open_input_stream(f"{self.base}/{path}", compression=compression))

    def open_random(self, path: str) -> pa.NativeFile:
        """A seekable file, for Parquet's footer."""
        return self.fs.open_input_file(f"{self.base}/{path}")

    def check(self) -> None:
        try:
            self.fs.get_file_info(self.base)
        except OSError as exc:
            raise SourceError(
                f"cannot reach the Airbyte landing folder {self.display}: {exc}",
                "check options.path, the endpoint and the credentials of the source file",
            ) from None


def _s3(options: LandingOptions) -> pafs.S3FileSystem:
    endpoint = options.endpoint or os.environ.get("AWS_ENDPOINT_URL")
    arguments: dict[str, Any] = {"region": options.region or os.environ.get("AWS_REGION", "us-east-1")}
    key = options.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID")
    secret = options.secret_access_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        arguments |= {"access_key": key, "secret_key": secret}
    if endpoint:
        parsed = urlparse(endpoint)
        arguments |= {"endpoint_override": parsed.netloc or parsed.path, "scheme": parsed.scheme or "https"}
    return pafs.S3FileSystem(**arguments)


class LandingStream:
    def __init__(self, folder: LandingFolder, config: StreamConfig, namespace: str | None) -> None:
        self.config = config
        self.options = config.family_options(LandingStreamOptions)
        self.folder = folder
        parts = [self.options.namespace or namespace, self.options.airbyte_stream or config.name]
        self.prefix = "/".join(part for part in parts if part)

    def read(self, cursor: str | None) -> Iterator[BatchWithRejects]:
        position = LandingCursor.load(cursor)
        files = self.folder.files(self.prefix)
        loaded = dict(position.files.loaded or {}) if position.files is not None else {}
        generation = position.generation
        for file in files:
            at = position.files
            skip = at.rows if at is not None and at.file == file.name and not at.complete else 0
            if not skip and loaded.get(file.name) == file.signature:
                continue
            found = self._generation(file.name)
            if generation is not None and found is not None and found < generation:
                log.info("airbyte.superseded_file", file=file.name, generation=found, current=generation)
                loaded = {**loaded, file.name: file.signature}
                yield self._batch(pa.table({}), (), LandingCursor(FileCursor(file.name, 0, True, loaded), generation))
                continue
            replace = generation is not None and found is not None and found > generation and skip == 0
            generation = found if found is not None and (generation is None or found > generation) else generation
            for data, rejects, rows, complete in self._chunks(file.name, skip):
                if complete:
                    loaded = {**loaded, file.name: file.signature}
                state = LandingCursor(FileCursor(file.name, rows, complete, loaded), generation)
                yield self._batch(data, rejects, state, replace=replace)
                replace = False

    def _batch(self, data: pa.Table, rejects: Any, cursor: LandingCursor, *, replace: bool = False) -> BatchWithRejects:
        return BatchWithRejects(data, cursor.dump(), tuple(rejects), replace=replace)

    def _path(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def _generation(self, name: str) -> int | None:
        """The file's generation id, from its first record (None: an empty file, or no generation column)."""
        if name.endswith(".parquet"):
            with self.folder.open_random(self._path(name)) as handle:
                first = next(pq.ParquetFile(handle).iter_batches(batch_size=1, columns=None), None)
            values = first.to_pylist() if first is not None else []
        else:
            with self.folder.open(self._path(name)) as handle:
                line = handle.readline()
            values = [json.loads(line)] if line.strip() else []
        value = values[0].get(GENERATION) if values and isinstance(values[0], dict) else None
        return None if value is None else int(value)

    def _chunks(self, name: str, skip: int) -> Iterator[tuple[pa.Table, list[Any], int, bool]]:
        """(rows, rejects, records of the file committed once this chunk is, last chunk?)."""
        pieces = self._parquet(name) if name.endswith(".parquet") else self._jsonl(name)
        done, pending = 0, None
        for table, rejects, records in pieces:
            start, done = done, done + records
            if done <= skip:
                continue
            if start < skip:  # the chunk straddles the committed position: keep its uncommitted tail
                table, rejects = table.slice(skip - start), []
            if pending is not None:
                yield (*pending, False)
            pending = (_bronze_rows(table), rejects, done)
        yield (*(pending or (pa.table({}), [], done)), True)

    def _jsonl(self, name: str) -> Iterator[tuple[pa.Table, list[Any], int]]:
        with self.folder.open(self._path(name)) as handle:
            number = 0
            while True:
                lines = [line for line in (handle.readline() for _ in range(self.options.batch_rows)) if line]
                if not lines:
                    return
                records = [line.rstrip(b"\r\n") for line in lines if line.strip()]
                tables, rejects = json_records(records, f"{self.prefix}/{name}@{number}")
                number += len(lines)
                table = pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})
                yield table, rejects, len(records)

    def _parquet(self, name: str) -> Iterator[tuple[pa.Table, list[Any], int]]:
        with self.folder.open_random(self._path(name)) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=self.options.batch_rows):
                yield pa.Table.from_batches([batch]), [], batch.num_rows


def _bronze_rows(table: pa.Table) -> pa.Table:
    """Unnest `_airbyte_data`, type `_airbyte_extracted_at`, keep `_airbyte_meta` as JSON and rescue its changes."""
    if table.num_rows == 0:
        return table
    if DATA in table.column_names and pa.types.is_struct(table.schema.field(DATA).type):
        data = table[DATA].combine_chunks()
        rest = table.drop_columns([DATA])
        for index, child in enumerate(data.type):
            if child.name not in rest.column_names:
                rest = rest.append_column(child.name, pc.struct_field(data, [index]))
        table = rest
    if EXTRACTED_AT in table.column_names and pa.types.is_integer(table.schema.field(EXTRACTED_AT).type):
        typed = table[EXTRACTED_AT].cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
        table = table.set_column(table.column_names.index(EXTRACTED_AT), EXTRACTED_AT, typed)
    if META in table.column_names:
        table = _rescue_changes(table)
    return table


def _rescue_changes(table: pa.Table) -> pa.Table:
    """`_airbyte_meta` as a JSON string; rows with changes get them in `_rescued_data` (merged with what is there)."""
    metas = [_as_meta(value) for value in table[META].to_pylist()]
    rescued = table[RESCUED].to_pylist() if RESCUED in table.column_names else [None] * table.num_rows
    merged = []
    for meta, before in zip(metas, rescued, strict=True):
        changes = (meta or {}).get("changes") if isinstance(meta, dict) else None
        if not changes:
            merged.append(before)
            continue
        document = json.loads(before) if before else {}
        merged.append(json.dumps({**document, f"{META}.changes": changes}, default=str))
    as_json = pa.array([None if m is None else json.dumps(m, default=str) for m in metas], pa.string())
    table = table.set_column(table.column_names.index(META), META, as_json)
    column = pa.array(merged, pa.string())
    if RESCUED in table.column_names:
        return table.set_column(table.column_names.index(RESCUED), RESCUED, column)
    return table.append_column(RESCUED, column)


def _as_meta(value: Any) -> Any:
    """`_airbyte_meta` as an object: Parquet and some JSON writers hold it as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class LandingSource:
    def __init__(self, config: SourceConfig) -> None:
        options = config.family_options(LandingOptions)
        self.name = config.source
        self.folder = LandingFolder(options, config)
        self._streams = [LandingStream(self.folder, stream, options.namespace) for stream in config.streams]

    def streams(self) -> list[LandingStream]:
        return self._streams

    def check(self) -> None:
        self.folder.check()


def build(config: SourceConfig) -> LandingSource:
    return LandingSource(config)


def landing_connection(config: SourceConfig) -> str | None:
    """The workspace connection an `airbyte_landing` source names (`options.connection`), read without
    resolving references, so no secret is looked up."""
    return validated_options(LandingOptions, config.options, config.path, "options").connection


def landing_stream_name(stream: StreamConfig) -> str:
    """The Airbyte stream whose folder a bronze stream reads (`airbyte_stream:`, else the stream's name)."""
    return str((stream.model_extra or {}).get("airbyte_stream") or stream.name)
