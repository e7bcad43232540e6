"""Amazon Redshift: the PostgreSQL dialect over the Postgres wire protocol (ADBC), plus UNLOAD for
large tables.

With a stream's `unload: true`, the load window is exported by Redshift itself, in parallel across its
slices, as Parquet files on S3 (`UNLOAD ... FORMAT AS PARQUET MANIFEST`), and the loader reads those
files back as Arrow batches. The UNLOAD runs once per load: its manifest (the file list) is stored in
the cursor's plan, each file is a chunk, and a file left part way resumes at the next record batch.

Extra connection keys: `unload_s3_uri` (s3://bucket/prefix: where UNLOAD writes; the loader needs
s3:GetObject there), `unload_iam_role` (the role ARN Redshift assumes to write), `unload_max_file_mb`.
S3 is reached with the standard AWS variables (AWS_ENDPOINT_URL, AWS_REGION, credentials).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from lakehouse.core.errors import ConfigError, SourceError
from loaders.sql.arrow import normalize
from loaders.sql.dialect import Column, TableName, Window
from loaders.sql.engine import Piece, Planner, RangePlanner, Session, Stats
from loaders.sql.options import SqlStreamOptions
from loaders.sql.postgres import PostgresDialect, PostgresEngine, PostgresOptions

UNLOAD_BATCH_ROWS = 65_536


class RedshiftOptions(PostgresOptions):
    port: int | None = Field(default=5439, gt=0, lt=65536)
    unload_s3_uri: str | None = None
    unload_iam_role: str | None = None
    unload_max_file_mb: int = Field(default=256, ge=5, le=6200)


class RedshiftDialect(PostgresDialect):
    name = "redshift"
    now_sql = "GETDATE()"  # NOW() runs on the leader node only

    def unload_sql(self, query: str, prefix: str, iam_role: str, max_file_mb: int) -> str:
        """UNLOAD of `query` as Parquet with a manifest; the query is itself a quoted literal."""
        return (
            f"UNLOAD ({self.string_literal(query)}) TO {self.string_literal(prefix)} "
            f"IAM_ROLE {self.string_literal(iam_role)} FORMAT AS PARQUET MANIFEST "
            f"MAXFILESIZE {max_file_mb} MB"
        )


class UnloadPlanner:
    """The window UNLOADed to S3 once; each Parquet file it wrote is a chunk."""

    def __init__(self, engine: RedshiftEngine, table: TableName, columns: Sequence[Column], where: str | None) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.table = table
        self.columns = list(columns)
        self.where = where

    def plan(
        self, session: Session, stats: Stats, window: Window, chunk_rows: int, chunk_column: str | None
    ) -> dict[str, Any]:
        prefix = f"{self.engine.unload_root()}/{self.table.name}/{uuid.uuid4().hex}/"
        query = self.dialect.chunk_sql(self.table, self.columns, window, None, self.where)
        options = self.engine.options
        sql = self.dialect.unload_sql(query, prefix, options.unload_iam_role or "", options.unload_max_file_mb)
        for _ in session.arrow(sql).batches:  # UNLOAD answers with a status row; the files are what matter
            pass
        files = self.engine.manifest(prefix + "manifest")
        return {"kind": "unload", "prefix": prefix, "files": files, "chunks": len(files)}

    def read(self, session: Session, plan: dict[str, Any], window: Window, chunk: int, start: Any) -> Iterator[Piece]:
        skip = int(start or 0)
        with self.engine.s3_open(plan["files"][chunk]) as handle:
            for number, batch in enumerate(pq.ParquetFile(handle).iter_batches(batch_size=UNLOAD_BATCH_ROWS)):
                if number < skip:
                    continue
                data = pa.Table.from_batches([normalize(batch, self.columns, self.dialect)])
                yield Piece(data, position=number + 1)


class RedshiftEngine(PostgresEngine):
    kind = "redshift"
    dialect = RedshiftDialect()

    def __init__(self, options: RedshiftOptions) -> None:
        super().__init__(options)
        self.options: RedshiftOptions = options

    def planner(self, table: TableName, columns: Sequence[Column], options: SqlStreamOptions) -> Planner:
        if not options.unload:
            return RangePlanner(self.dialect, table, columns, options.where)
        if not self.options.unload_s3_uri or not self.options.unload_iam_role:
            raise ConfigError(
                f"{self.where()}: stream {table}: `unload: true` needs options.unload_s3_uri and "
                "options.unload_iam_role",
                "set both (s3://bucket/prefix and the ARN of a role Redshift can assume to write there)",
            )
        return UnloadPlanner(self, table, columns, options.where)

    def unload_root(self) -> str:
        return (self.options.unload_s3_uri or "").rstrip("/")

    def manifest(self, uri: str) -> list[str]:
        """The files an UNLOAD wrote, from its manifest."""
        try:
            with self.s3_open(uri) as handle:
                entries = json.loads(handle.read())["entries"]
        except (OSError, ValueError, KeyError) as exc:
            raise SourceError(
                f"{self.where()}: the UNLOAD manifest {uri} could not be read ({type(exc).__name__}: {exc})",
                "check options.unload_s3_uri, the S3 credentials the loader uses, and the role's write access",
            ) from None
        return [entry["url"] for entry in entries]

    def s3_open(self, uri: str) -> Any:
        parsed = urlparse(uri)
        timeouts = {"connect_timeout": float(self.options.connect_timeout)}
        timeouts["request_timeout"] = self.options.statement_seconds()
        return s3_filesystem(**timeouts).open_input_file(f"{parsed.netloc}{parsed.path}")


def s3_filesystem(*, connect_timeout: float | None = None, request_timeout: float | None = None) -> Any:
    """pyarrow's S3 client from the standard AWS variables (a local endpoint when AWS_ENDPOINT_URL is set)."""
    from pyarrow import fs

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    options: dict[str, Any] = {"region": os.environ.get("AWS_REGION", "us-east-1")}
    options |= {"connect_timeout": connect_timeout, "request_timeout": request_timeout}
    if endpoint:
        parsed = urlparse(endpoint)
        options["endpoint_override"] = parsed.netloc or endpoint
        options["scheme"] = parsed.scheme or "https"
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        options["access_key"] = os.environ["AWS_ACCESS_KEY_ID"]
        options["secret_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        options["session_token"] = os.environ.get("AWS_SESSION_TOKEN")
    return fs.S3FileSystem(**options)


Options = RedshiftOptions


def engine(options: RedshiftOptions) -> RedshiftEngine:
    return RedshiftEngine(options)
