"""BigQuery: tables read with the BigQuery Storage Read API in Arrow format, in parallel streams.

A load creates one read session over the table, with the load window as its row restriction and the
selected columns; each of the session's streams (up to `parallel`) is a chunk. Streams resume at a row
offset, so a load stopped mid-stream continues where its last commit ended (within the session's
lifetime, about six hours; a later resume opens a new session for the chunks not finished). The window's
statistics (row count, cursor maximum) come from one query job; catalogue data from the table's schema.

Not verified against the service (no local BigQuery exists): tests check the generated SQL and row
restriction and the client calls, with the BigQuery and Storage clients mocked at their boundary.

Connection keys: project (the data's), dataset (the default for `table`), billing_project (where jobs
and read sessions are billed; default `project`), location, credentials_json (a service-account key,
best given as `${secretsmanager:...}`) or credentials_file; none: application default credentials.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from pydantic import SecretStr

from loaders.sql.arrow import normalize
from loaders.sql.dialect import Column, Dialect, TableName, Window
from loaders.sql.engine import ArrowResult, Engine, Piece, Planner, Session, Stats
from loaders.sql.options import ConnectionOptions, SqlStreamOptions


class BigQueryOptions(ConnectionOptions):
    project: str
    dataset: str | None = None
    billing_project: str | None = None
    location: str | None = None
    credentials_json: SecretStr | None = None
    credentials_file: str | None = None


class BigQueryDialect(Dialect):
    name = "bigquery"
    quote_char = "`"
    now_sql = "CURRENT_TIMESTAMP()"

    def __init__(self, project: str = "", dataset: str | None = None) -> None:
        self.project = project
        self.dataset = dataset

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def timestamp_literal(self, value: datetime) -> str:
        if value.tzinfo is None:
            return f"DATETIME '{value.isoformat(sep=' ', timespec='microseconds')}'"
        return f"TIMESTAMP '{value.astimezone(UTC).isoformat(sep=' ', timespec='microseconds')}'"

    def date_literal(self, value: date) -> str:
        return f"DATE '{value.isoformat()}'"

    def path(self, table: TableName) -> tuple[str, str, str]:
        """(project, dataset, table) with the configured defaults filled in."""
        parts = table.parts
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        dataset = parts[0] if len(parts) == 2 else self.dataset
        return self.project, dataset or "", parts[-1]

    def table(self, table: TableName) -> str:
        return self.quote(".".join(self.path(table)))

    def restriction(self, window: Window, where: str | None) -> str:
        """The window as a Storage Read API row restriction (a WHERE clause without the keyword)."""
        return self.conditions(window, None, where).removeprefix(" WHERE ")


class BigQuerySession:
    """A query client and a Storage Read client; every call to the service is bounded by `timeout`
    (statement_timeout): the query job itself (`job_timeout_ms`), the wait for it, each read session
    and each stream read."""

    def __init__(self, client: Any, read_client: Any, timeout: float | None = None) -> None:
        self.client = client
        self.read_client = read_client
        self.timeout = timeout

    def bounded(self) -> dict[str, Any]:
        """The `timeout=` keyword for a client call (none when statement_timeout is 0)."""
        return {"timeout": self.timeout} if self.timeout else {}

    def arrow(self, sql: str) -> ArrowResult:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig()
        if self.timeout:
            config.job_timeout_ms = round(self.timeout * 1000)
        rows = self.client.query(sql, job_config=config, **self.bounded()).result(**self.bounded())
        return ArrowResult(None, iter(rows.to_arrow_iterable(bqstorage_client=self.read_client)))

    def close(self) -> None:
        self.client.close()


class StoragePlanner:
    """Chunks are the streams of one Storage Read API session over the window."""

    def __init__(self, engine: BigQueryEngine, table: TableName, columns: Sequence[Column], where: str | None) -> None:
        self.engine = engine
        self.dialect: BigQueryDialect = engine.dialect
        self.table = table
        self.columns = list(columns)
        self.where = where

    def plan(
        self, session: Session, stats: Stats, window: Window, chunk_rows: int, chunk_column: str | None
    ) -> dict[str, Any]:
        from google.cloud.bigquery_storage import types

        project, dataset, name = self.dialect.path(self.table)
        options = types.ReadSession.TableReadOptions(
            selected_fields=[column.name for column in self.columns],
            row_restriction=self.dialect.restriction(window, self.where),
        )
        request = types.ReadSession(
            table=f"projects/{project}/datasets/{dataset}/tables/{name}",
            data_format=types.DataFormat.ARROW,
            read_options=options,
        )
        read_client = _read_client(session)
        created = read_client.create_read_session(
            parent=f"projects/{self.engine.billing_project()}",
            read_session=request,
            max_stream_count=self.engine.options.parallel,
            **_bounded(session),
        )
        streams = [stream.name for stream in created.streams]
        return {"kind": "bigquery_storage", "session": created.name, "streams": streams, "chunks": len(streams)}

    def read(self, session: Session, plan: dict[str, Any], window: Window, chunk: int, start: Any) -> Iterator[Piece]:
        offset = int(start or 0)
        reader = _read_client(session).read_rows(plan["streams"][chunk], offset=offset, **_bounded(session))
        for page in reader.rows().pages:
            batch = page.to_arrow()
            offset += batch.num_rows
            yield Piece(pa.Table.from_batches([normalize(batch, self.columns, self.dialect)]), position=offset)


def _read_client(session: Session) -> Any:
    return session.read_client  # type: ignore[attr-defined]


def _bounded(session: Session) -> dict[str, Any]:
    return session.bounded()  # type: ignore[attr-defined]


class BigQueryEngine(Engine):
    kind = "bigquery"

    def __init__(self, options: BigQueryOptions) -> None:
        super().__init__(options)
        self.options: BigQueryOptions = options
        self.dialect = BigQueryDialect(options.project, options.dataset)

    def billing_project(self) -> str:
        return self.options.billing_project or self.options.project

    def connect(self) -> BigQuerySession:
        from google.cloud import bigquery, bigquery_storage

        credentials = self.credentials()
        client = bigquery.Client(
            project=self.billing_project(), credentials=credentials, location=self.options.location
        )
        read_client = bigquery_storage.BigQueryReadClient(credentials=credentials)
        return BigQuerySession(client, read_client, self.options.statement_seconds())

    def credentials(self) -> Any:
        from google.oauth2 import service_account

        if self.options.credentials_json is not None:
            info = json.loads(self.options.credentials_json.get_secret_value())
            return service_account.Credentials.from_service_account_info(info)
        if self.options.credentials_file:
            return service_account.Credentials.from_service_account_file(self.options.credentials_file)
        return None  # application default credentials (instance role, workload identity, gcloud)

    def columns(self, session: Session, table: TableName) -> list[Column]:
        found = session.client.get_table(".".join(self.dialect.path(table)))  # type: ignore[attr-defined]
        return [_column(field) for field in found.schema]

    def planner(self, table: TableName, columns: Sequence[Column], options: SqlStreamOptions) -> Planner:
        return StoragePlanner(self, table, columns, options.where)

    def where(self) -> str:
        return f"bigquery project {self.options.project}"

    def secrets(self) -> list[str]:
        if self.options.credentials_json is None:
            return []
        info = self.options.credentials_json.get_secret_value()
        try:
            key = json.loads(info).get("private_key", "")
        except ValueError:
            key = ""
        return [s for s in (info, key) if s]


def _column(field: Any) -> Column:
    return Column(field.name, str(field.field_type).lower(), getattr(field, "precision", None), field.scale)


Options = BigQueryOptions


def engine(options: BigQueryOptions) -> BigQueryEngine:
    return BigQueryEngine(options)
