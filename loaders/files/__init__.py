"""File sources: CSV, JSON Lines and Parquet files in a folder (later SFTP, FTP, S3, GCS, Azure).

Files are read in name order; the cursor records the last file and how many of its rows are
committed, so a load resumes mid-file after a crash and never re-reads a finished file.
Each file is read as a stream of Arrow batches, never whole into Python objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.errors import ConfigError, SourceError
from loaders.core.protocol import Batch, StreamSpec

FORMATS = ("csv", "jsonl", "parquet")
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class FileCursor:
    file: str  # path relative to the source folder
    rows: int  # rows of `file` already committed
    complete: bool

    def dump(self) -> str:
        return json.dumps({"file": self.file, "rows": self.rows, "complete": self.complete})

    @classmethod
    def load(cls, raw: str | None) -> FileCursor | None:
        if raw is None:
            return None
        data = json.loads(raw)
        return cls(data["file"], int(data["rows"]), bool(data["complete"]))


class FileStream:
    def __init__(self, folder: Path, config: StreamConfig, batch_rows: int = BATCH_ROWS) -> None:
        extra = config.extra
        self.spec = StreamSpec(config.name, config.mode, config.primary_key, config.cursor_field)
        self.folder = folder
        self.format = extra.get("format", "csv")
        self.pattern = extra.get("pattern", f"{config.name}/*.{self.format}")
        self.batch_rows = batch_rows
        if self.format not in FORMATS:
            raise ConfigError(
                f"stream {config.name!r}: format {self.format!r} is not supported",
                f"use one of {', '.join(FORMATS)}",
            )

    def files(self) -> list[str]:
        return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.glob(self.pattern) if p.is_file())

    def read(self, cursor: str | None) -> Iterator[Batch]:
        position = FileCursor.load(cursor)
        for name in self.files():
            skip = 0
            if position is not None:
                if name < position.file or (name == position.file and position.complete):
                    continue
                if name == position.file:
                    skip = position.rows
            yield from self._read_file(name, skip)

    def _read_file(self, name: str, skip: int) -> Iterator[Batch]:
        done = 0
        pending: Batch | None = None
        for batch in self._batches(self.folder / name):
            start = max(0, skip - done)
            done += batch.num_rows
            if start >= batch.num_rows:
                continue
            if pending is not None:
                yield pending
            pending = Batch(batch.slice(start), FileCursor(name, done, complete=False).dump())
        # The last batch of a file marks it complete, so the next run moves on to the next file.
        if pending is not None:
            yield Batch(pending.data, FileCursor(name, done, complete=True).dump())
        else:  # an empty or already-committed file: still record that it is complete
            yield Batch(pa.table({}), FileCursor(name, done, complete=True).dump())

    def _batches(self, path: Path) -> Iterator[pa.RecordBatch]:
        try:
            if self.format == "parquet":
                yield from pq.ParquetFile(path).iter_batches(batch_size=self.batch_rows)
            elif self.format == "csv":
                reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=8 << 20))
                yield from _rebatch(reader, self.batch_rows)
            else:
                yield from pajson.read_json(path).to_batches(max_chunksize=self.batch_rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceError(
                f"cannot read {path} as {self.format}: {exc}",
                "check the file's format, or set `format:` for this stream in the source file",
            ) from None


def _rebatch(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        for offset in range(0, batch.num_rows, rows):
            yield batch.slice(offset, rows)


class FileSource:
    def __init__(self, config: SourceConfig) -> None:
        options = config.resolved_options()
        if "path" not in options:
            raise ConfigError(
                f"{config.path}: key `options.path` is missing", "set options.path to the folder of files"
            )
        self.name = config.source
        self.folder = config.relative_path(options["path"])
        self._streams = [FileStream(self.folder, stream) for stream in config.streams]

    def streams(self) -> list[FileStream]:
        return self._streams

    def check(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(
                f"source {self.name!r}: the folder {self.folder} does not exist",
                "check options.path in the source file (relative paths are relative to that file)",
            )


def build(config: SourceConfig) -> FileSource:
    return FileSource(config)
