"""What every publisher does, and the loop that feeds it a generated folder one batch at a time.

A publisher is one module per kind of server that holds tables or collections (`postgres`, `mysql`,
`mongodb`, `dynamodb`) with a `connect(...) -> Publisher`. The loop reads the folder's manifest, skips
the batches the server's publish log already holds, and hands the publisher each remaining batch in
batch-name order (the history, then one day at a time), so the server always shows the company as of
the end of a day. Publishing a folder twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from company.manifest import BatchStats
from company.publish.changes import Changes, DocumentChanges, company_of, load_manifest
from company.spec import StreamDef
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError, LakehouseError

PUBLISH_LOG = "_lakehouse_publish_log"  # one row per (stream, batch) applied, written with the batch
T = TypeVar("T")


class Publisher(Protocol):
    system: str  # the generator's system this server receives
    where: str  # the server as messages name it (no password)

    def read(self, folder: Path, spec: StreamDef, stats: BatchStats) -> Changes | DocumentChanges:
        """One stream's batch as this server takes it: rows (or documents) to upsert, keys to delete."""
        ...

    def table_name(self, spec: StreamDef) -> str:
        """The stream's table as the server names it (`public.users`)."""
        ...

    def published(self) -> dict[tuple[str, str], str]:
        """(stream, batch) -> company for every batch in the publish log; empty when there is no log."""
        ...

    def drop(self, specs: Sequence[StreamDef]) -> None:
        """Drop the streams' tables and the publish log."""
        ...

    def ensure_tables(self, specs: Sequence[StreamDef]) -> None:
        """Create the streams' tables and the publish log where missing."""
        ...

    def apply(self, batch: str, changes: Sequence[Any], company: str) -> None:
        """Upsert and delete every stream's changes (what `read` returned) and log them.

        SQL servers do it in one transaction; a document store writes the changes, then the log
        lines, so a batch cut short is applied again whole by the next run (upserts and deletes by
        key are idempotent).
        """
        ...

    def count(self, spec: StreamDef) -> int: ...

    def loader_source(self) -> dict[str, Any]:
        """The loader's source file for what this server now holds (secrets as `${ENV}` references)."""
        ...

    def close(self) -> None: ...


@dataclass
class StreamReport:
    stream: str
    table: str
    batches: int = 0  # batches applied by this run
    upserted: int = 0  # rows inserted or updated by this run
    deletes: int = 0  # keys deleted by this run
    rows: int = 0  # rows in the table afterwards
    skipped_dirty: int = 0  # the files' dirty lines (documents only), left out


def publish_folder(folder: Path, publisher: Publisher, system: str, *, replace: bool = False) -> list[StreamReport]:
    """Apply every batch of `system` in `folder` the server does not have yet; `replace` starts afresh."""
    manifest = load_manifest(folder)
    company = company_of(manifest)
    specs = SYSTEMS[system].streams
    if replace:
        publisher.drop(specs)
    done = publisher.published()
    check_same_company(done, company, publisher.where)
    publisher.ensure_tables(specs)
    reports = {spec.stream: StreamReport(spec.stream, publisher.table_name(spec)) for spec in specs}
    written = manifest.systems[system].streams
    for batch in manifest.batches:
        changes = [
            publisher.read(folder, spec, written[spec.stream].batches[batch])
            for spec in specs
            if batch in written[spec.stream].batches and (spec.stream, batch) not in done
        ]
        if not changes:
            continue
        publisher.apply(batch, changes, company)
        for change in changes:
            report = reports[change.spec.stream]
            report.batches += 1
            report.upserted += len(change.upserts)
            report.deletes += len(change.deletes)
            report.skipped_dirty += change.dirty
    for spec in specs:
        reports[spec.stream].rows = publisher.count(spec)
    return list(reports.values())


def check_same_company(done: dict[tuple[str, str], str], company: str, where: str) -> None:
    others = sorted(set(done.values()) - {company})
    if others:
        raise ConfigError(
            f"{where} already holds another generated company ({others[0]}); this one is {company}",
            "pass --replace to remove that company's tables (or files) there and publish this one, "
            "or publish somewhere else (another database, folder or endpoint)",
        )


def table_ddl(table: str, columns: Sequence[tuple[str, str]], keys: Sequence[str], quote: Callable[[str], str]) -> str:
    """`create table if not exists` with the key columns `not null` and the primary key."""
    body = [f"{quote(name)} {kind}{' not null' if name in keys else ''}" for name, kind in columns]
    body.append(f"primary key ({', '.join(quote(k) for k in keys)})")
    return f"create table if not exists {table} ({', '.join(body)})"


def guarded(work: Callable[[], T], failure: Callable[[Exception], LakehouseError]) -> T:
    """Run `work`: a `LakehouseError` passes as it is, any other exception becomes `failure(exc)` (cause and
    fix, no secret), raised outside the `except` so the driver's exception does not ride along with it."""
    try:
        return work()
    except LakehouseError:
        raise
    except Exception as exc:
        error = failure(exc)
    raise error
