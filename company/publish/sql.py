"""What every database publisher shares: tables from the stream specs, the publish log, one transaction
per batch, and driver errors turned into cause + fix without the password.

An engine module (`postgres`, `mysql`) subclasses `SqlPublisher` and says how its server spells types,
quotes names, bulk-loads rows and upserts them. Tables keep the real system's names: the part of a
stream's native name after the database (`company_production.public.users` -> `public.users`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pyarrow as pa

from company.manifest import BatchStats
from company.publish.base import PUBLISH_LOG, table_ddl
from company.publish.changes import Changes, read_changes, table_schema
from company.publish.sources import loader_source
from company.publish.target import Target
from company.spec import StreamDef
from company.systems import SYSTEMS
from lakehouse.core.errors import LakehouseError, SourceError

T = TypeVar("T")
LOG_KEY = ("stream", "batch")


class SqlPublisher:
    schema_sql = "current_schema()"  # the schema unqualified names resolve to, as SQL
    table_options = ""  # appended to `create table`
    # The publish log's columns: stream, batch, company, upserted, deletes, published_at.
    log_types: ClassVar[dict[str, str]]

    def __init__(self, target: Target, connection: Any) -> None:
        self.target = target
        self.connection = connection
        self.where = f"{target.engine.label} at {target.display()}"
        self.namespace = SYSTEMS[target.system].streams[0].native_name.split(".")[1:-1]

    # --- what an engine provides -------------------------------------------------------------------

    def quote(self, name: str) -> str:
        raise NotImplementedError

    def param(self, position: int) -> str:
        """The driver's placeholder for the `position`-th parameter (from 1)."""
        raise NotImplementedError

    def native_type(self, field: pa.Field, *, key: bool) -> str:
        raise NotImplementedError

    def on_conflict(self, keys: Sequence[str], columns: Sequence[str]) -> str:
        """The clause that turns an insert into an upsert on `keys`."""
        raise NotImplementedError

    def upsert(self, cursor: Any, spec: StreamDef, rows: pa.Table) -> None:
        raise NotImplementedError

    def delete(self, cursor: Any, spec: StreamDef, keys: pa.Table) -> None:
        raise NotImplementedError

    def create_namespace(self, cursor: Any) -> None:
        return None

    # --- shared ------------------------------------------------------------------------------------

    @property
    def system(self) -> str:
        return self.target.system

    def read(self, folder: Path, spec: StreamDef, stats: BatchStats) -> Changes:
        return read_changes(folder, spec, stats)

    def loader_source(self) -> dict[str, Any]:
        return loader_source(self.target)

    def table_name(self, spec: StreamDef) -> str:
        return ".".join(spec.native_name.split(".")[1:])

    def qualified(self, spec: StreamDef) -> str:
        return ".".join(self.quote(part) for part in spec.native_name.split(".")[1:])

    def log_table(self) -> str:
        return ".".join(self.quote(part) for part in [*self.namespace, PUBLISH_LOG])

    def columns(self, spec: StreamDef) -> list[tuple[str, str]]:
        keys = set(spec.primary_key)
        return [(f.name, self.native_type(f, key=f.name in keys)) for f in table_schema(spec)]

    def published(self) -> dict[tuple[str, str], str]:
        def read(cursor: Any) -> dict[tuple[str, str], str]:
            schema = f"'{self.namespace[0]}'" if self.namespace else self.schema_sql
            cursor.execute(
                "select count(*) from information_schema.tables "
                f"where table_schema = {schema} and table_name = '{PUBLISH_LOG}'"
            )
            if not cursor.fetchone()[0]:
                return {}
            cursor.execute(f"select stream, batch, company from {self.log_table()}")
            return {(stream, batch): company for stream, batch, company in cursor.fetchall()}

        return self.transaction("reading the publish log", read)

    def drop(self, specs: Sequence[StreamDef]) -> None:
        def drop(cursor: Any) -> None:
            for table in [*(self.qualified(spec) for spec in specs), self.log_table()]:
                cursor.execute(f"drop table if exists {table}")

        self.transaction("dropping the company's tables", drop)

    def ensure_tables(self, specs: Sequence[StreamDef]) -> None:
        def create(cursor: Any) -> None:
            self.create_namespace(cursor)
            for spec in specs:
                ddl = table_ddl(self.qualified(spec), self.columns(spec), spec.primary_key, self.quote)
                cursor.execute(ddl + self.table_options)
            log = table_ddl(self.log_table(), list(self.log_types.items()), LOG_KEY, self.quote)
            cursor.execute(log + self.table_options)

        self.transaction("creating the tables", create)

    def apply(self, batch: str, changes: Sequence[Changes], company: str) -> None:
        def apply(cursor: Any) -> None:
            for change in changes:
                if change.upserts.num_rows:
                    self.upsert(cursor, change.spec, change.upserts)
                if change.deletes.num_rows:
                    self.delete(cursor, change.spec, change.deletes)
                self._record(cursor, batch, change, company)

        self.transaction(f"publishing batch {batch}", apply)

    def _record(self, cursor: Any, batch: str, change: Changes, company: str) -> None:
        names = ["stream", "batch", "company", "upserted", "deletes"]
        values = (change.spec.stream, batch, company, change.upserts.num_rows, change.deletes.num_rows)
        marks = ", ".join(self.param(i) for i in range(1, len(names) + 1))
        insert = f"insert into {self.log_table()} ({', '.join(names)}) values ({marks})"
        cursor.execute(f"{insert} {self.on_conflict(LOG_KEY, names)}", values)

    def count(self, spec: StreamDef) -> int:
        def count(cursor: Any) -> int:
            cursor.execute(f"select count(*) from {self.qualified(spec)}")
            return int(cursor.fetchone()[0])

        return self.transaction(f"counting {self.table_name(spec)}", count)

    def close(self) -> None:
        self.connection.close()

    def transaction(self, doing: str, work: Callable[[Any], T]) -> T:
        """Run `work` with a cursor and commit; on failure roll back and raise cause + fix."""
        try:
            with self.connection.cursor() as cursor:
                result = work(cursor)
            self.connection.commit()
            return result
        except LakehouseError:
            self._rollback()
            raise
        except Exception as exc:
            failure = self._failure(exc, doing)
        self._rollback()
        raise failure

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # a lost connection cannot roll back; the server does
            self.connection.rollback()

    def _failure(self, exc: Exception, doing: str) -> SourceError:
        message = " ".join(self.target.redactor().scrub(str(exc)).split())
        return SourceError(
            f"{self.where}: {doing} failed: {message}",
            "check that the user may create, change and drop tables there; if the tables were made by "
            "something else, publish with --replace or into another database",
        )
