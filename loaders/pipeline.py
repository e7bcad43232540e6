"""Run a source's streams into bronze, batch by batch, resuming from the table's own state.

Per batch: the stream's rejects and the rows that break the declared schema go to quarantine, the
rest is fitted to the table by the stream's schema policy, and the batch is committed to bronze with
its cursor in one Delta commit (see `loaders.core.bronze`). A full refresh commits its batches to a
staging table and replaces bronze with it in one commit at the end, so readers see the old table or
the new one; a refresh that read no rows leaves bronze alone unless the stream sets `allow_empty`.
Per stream load: one ledger row, written also when the load fails. Transient source errors are
retried with backoff, re-opening the stream from the last committed cursor. Nothing a load logs,
raises or records carries a secret.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import structlog

from lakehouse.core.errors import ConfigError, LakehouseError, SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.bronze import RESERVED_NAMES, BronzeTable, StreamState, Write, new_load_id
from loaders.core.changes import apply_soft_deletes, latest_per_key, split_invalid, without_deletes
from loaders.core.config import SourceConfig
from loaders.core.declared import check_declared_columns
from loaders.core.delta import Stamp
from loaders.core.ledger import Ledger
from loaders.core.protocol import Batch, Source, Stream, SyncMode
from loaders.core.quarantine import Quarantine, Rejected, rejects_of
from loaders.core.redact import Redactor, redacted_error
from loaders.core.result import ProgressHook, StreamResult
from loaders.core.retry import QuotaExhaustedError, RetryPolicy, TransientSourceError
from loaders.core.schema_policy import conform
from loaders.registry import build_source

log = structlog.get_logger("loaders")


def load_source(
    root: LakehouseRoot,
    config: SourceConfig,
    *,
    streams: list[str] | None = None,
    full_refresh: bool = False,
    pipeline: str = "default",
    on_batch: ProgressHook | None = None,
    retry: RetryPolicy | None = None,
    raise_on_error: bool = True,
    on_start: ProgressHook | None = None,
    stop: threading.Event | None = None,
) -> list[StreamResult]:
    """Load the named streams (all when None) of one source; one result (and ledger row) per stream.

    A failing stream does not stop the others; with `raise_on_error` the first failure is raised
    once every stream has run. With `stop`, a stream that `follows` (Kafka, Kinesis, MQTT) reads on
    until the event is set, then commits its current batch and ends; any other stream ends after
    the batch it is on when the event is set.
    """
    wanted = [config.stream(name).name for name in streams] if streams else [s.name for s in config.streams]
    _warn_about_locking_provider(root)
    redactor = Redactor(config.secret_values())
    ledger = Ledger(root)
    source = _open_source(config, wanted, pipeline, ledger, redactor)
    results = []
    for stream in source.streams():
        if stream.config.name not in wanted:
            continue
        context = _LoadContext(
            pipeline=pipeline,
            full_refresh=full_refresh,
            on_batch=on_batch,
            retry=retry or RetryPolicy(),
            redactor=redactor,
            ledger=ledger,
            on_start=on_start,
            stop=stop,
        )
        results.append(_StreamLoad(root, source.name, stream, context).run())
    failed = [r.exception for r in results if r.exception is not None]
    if raise_on_error and failed:
        raise failed[0]
    return results


def _open_source(config: SourceConfig, streams: list[str], pipeline: str, ledger: Ledger, redactor: Redactor) -> Source:
    """Build and check the source; when that fails, every requested stream's load failed, on record."""
    try:
        source = build_source(config)
        source.check()
        return source
    except Exception as exc:
        failure = redacted_error(exc, redactor, f"source {config.source!r}")
    _record_unstarted(ledger, config, streams, pipeline, failure, redactor)
    raise failure  # outside the `except`: the scrubbed error carries no link to the original


def load_stream(
    root: LakehouseRoot,
    source_name: str,
    stream: Stream,
    *,
    full_refresh: bool = False,
    pipeline: str = "default",
    on_batch: ProgressHook | None = None,
    retry: RetryPolicy | None = None,
    redactor: Redactor | None = None,
    stop: threading.Event | None = None,
) -> StreamResult:
    """Load one stream; raises its (scrubbed) error after recording the failure in the ledger."""
    context = _LoadContext(
        pipeline=pipeline,
        full_refresh=full_refresh,
        on_batch=on_batch,
        retry=retry or RetryPolicy(),
        redactor=redactor or Redactor(),
        ledger=Ledger(root),
        stop=stop,
    )
    result = _StreamLoad(root, source_name, stream, context).run()
    if result.exception is not None:
        raise result.exception
    return result


@dataclass(frozen=True)
class _LoadContext:
    pipeline: str
    full_refresh: bool
    on_batch: ProgressHook | None
    retry: RetryPolicy
    redactor: Redactor
    ledger: Ledger
    on_start: ProgressHook | None = None  # after the attempt's `running` ledger row is written
    stop: threading.Event | None = None  # set: end after the current batch (a following stream reads until then)


class _StreamLoad:
    """One load of one stream: read, quarantine, conform, commit, account, record."""

    def __init__(self, root: LakehouseRoot, source_name: str, stream: Stream, context: _LoadContext) -> None:
        self.stream = stream
        self.spec = stream.config
        self.context = context
        self.app_id = f"{context.pipeline}/{source_name}/{self.spec.name}"
        self.table = BronzeTable(root, source_name, self.spec.name, partition_by=tuple(self.spec.partition_by))
        self.target = self.table  # where batches are committed: bronze, or its staging table during a refresh
        self._base: int | None = None  # during a refresh: the bronze version the refresh replaces
        self.quarantine = Quarantine(root)
        self.result = StreamResult(
            source_name, self.spec.name, new_load_id(), self.spec.mode.value, pipeline=context.pipeline
        )
        self._started = time.monotonic()
        self._columns_checked = False

    def run(self) -> StreamResult:
        try:
            self._start()
            self._load()
            self.result.status = "success"
        except QuotaExhaustedError as exc:  # not a failure: what was read is committed, the next run resumes
            self.result.status = "stopped"
            self.result.error = self.context.redactor.describe(exc)
        except Exception as exc:
            self.result.status = "failed"
            self.result.exception = redacted_error(exc, self.context.redactor, f"{self._name}")
            self.result.error = self.context.redactor.describe(self.result.exception)
        self.result.seconds = time.monotonic() - self._started
        self._record()
        return self.result

    def _start(self) -> None:
        """The attempt's ledger row, `running` until the load ends (a killed load's is marked by the next)."""
        self.context.ledger.start(self.result.ledger_entry())
        if self.context.on_start is not None:
            self.context.on_start(self.result)

    @property
    def _name(self) -> str:
        return f"{self.result.source}.{self.result.stream}"

    def _load(self) -> None:
        self.table.check_partitioning()
        state = self.table.state(self.app_id)
        self._refuse_lost_state(state)
        staging = self.table.staging()
        staged = staging.state(self.app_id)
        # A refresh cut short (its staging table still aims at this version of bronze) is continued, never
        # restarted; `refreshing` on bronze itself is a refresh begun by an older loader, started again here.
        unfinished = staged.version > 0 and staged.base == state.version and (staged.refreshing or staged.staged)
        replace = self.context.full_refresh or self.spec.mode == SyncMode.FULL_REFRESH or state.refreshing
        self.result.cursor_before = self.result.cursor_after = state.cursor
        if unfinished or replace:
            self.result.mode = SyncMode.FULL_REFRESH.value
            self._refresh(state, staging, staged if unfinished else None)
            return
        self.result.mode = self.spec.mode.value
        version = state.version
        for batch, _ in self._batches(state.cursor, lookahead=False):
            version += 1
            # A batch may replace the table (an Airbyte refresh: a new generation of the stream).
            self._commit(batch, version, overwrite=batch.replace, refresh=None)
            del batch  # committed: not held while the stream reads the next one (peak memory is one batch)

    def _refresh(self, state: StreamState, staging: BronzeTable, staged: StreamState | None) -> None:
        """Read the whole stream into the staging table, then swap it in with one commit."""
        self.target, self._base = staging, state.version
        version = staged.version if staged is not None else state.version
        if staged is None or not staged.staged:  # `staged`: every batch is in; only the swap is left
            cursor = staged.cursor if staged is not None else None
            for batch, last in self._batches(cursor, lookahead=True):
                version += 1
                overwrite = staged is None and self.result.batches == 0  # a new refresh replaces old staging
                self._commit(batch, version, overwrite=overwrite, refresh="staged" if last else "running")
        self.target = self.table
        staging_exists = version > state.version
        loaded = staging.row_count() if staging_exists else 0
        current = self.table.row_count() if loaded == 0 and not self.spec.allow_empty else 0
        if current > 0:
            staging.drop()
            raise SourceError(
                f"stream {self.spec.name!r}: the full refresh read no rows to load, and it would empty "
                f"bronze table {self.table.uri} ({current} rows); bronze is left as it was",
                f"check the source (an empty export, a wrong path or filter); if the table may really be empty, "
                f"set `allow_empty: true` on stream {self.spec.name!r}",
            )
        cursor = self.result.cursor_after if self.result.batches else (staged.cursor if staged else state.cursor)
        stamp = {"app_id": self.app_id, "version": version + 1, "cursor": cursor, "load_id": self.result.load_id}
        if staging_exists:
            self.table.replace_with(staging, **stamp)
        else:
            self.table.replace_with_nothing(**stamp)
        self.result.cursor_after = cursor
        staging.drop()

    def _refuse_lost_state(self, state: StreamState) -> None:
        if state.lost and not self.context.full_refresh:
            raise ConfigError(
                f"bronze table {self.table.uri} has committed batch {state.version} of {self.app_id!r}, "
                "but the commit holding its cursor is no longer in the Delta log",
                f"reload the stream from scratch: lakehouse load {self.result.source} "
                f"--stream {self.result.stream} --full-refresh",
            )

    def _batches(self, cursor: str | None, *, lookahead: bool) -> Iterator[tuple[Batch, bool]]:
        """The stream's batches, each flagged when it is the last; transient errors re-open the stream
        from the last committed cursor after a backoff.

        Only a refresh looks one batch ahead (to mark its last commit `done`); otherwise the stream
        is not asked for its next batch before the last one is committed, which a stream that holds
        its source's acknowledgements until then (MQTT) relies on.
        """
        policy = self.context.retry
        stop = self.context.stop
        attempt = 0
        while True:
            try:
                batches = self._read(cursor)
                for batch, last in _with_last(batches) if lookahead else _not_last(batches):
                    yield batch, last
                    cursor, attempt = batch.cursor, 0  # the caller has committed it
                    del batch  # not held while the stream reads the next one
                    if stop is not None and stop.is_set() and not getattr(self.stream, "follows", False):
                        return
                return
            except TransientSourceError as exc:
                attempt += 1
                if attempt >= policy.max_attempts:
                    raise
                wait = policy.delay(attempt, exc)
                log.warning(
                    "load.retry",
                    stream=self._name,
                    attempt=attempt,
                    wait_s=round(wait, 3),
                    error=self.context.redactor.describe(exc),
                )
                policy.sleep(wait)

    def _read(self, cursor: str | None) -> Iterator[Batch]:
        if self.context.stop is not None and getattr(self.stream, "follows", False):
            return self.stream.read(cursor, stop=self.context.stop)  # type: ignore[call-arg]
        return self.stream.read(cursor)

    def _commit(self, batch: Batch, version: int, *, overwrite: bool, refresh: str | None) -> None:
        data = _as_table(batch.data)
        rejects = list(rejects_of(batch))
        read = data.num_rows + len(rejects)
        data, invalid = self._prepare(data)
        target = None if overwrite else self.target.data_schema()
        if target is not None and len(target) == 0:  # created by an empty first batch: nothing to fit to yet
            target = None
        conformed = conform(data, target, self.spec.schema_policy, passthrough=RESERVED_NAMES)
        rejects += invalid + conformed.rejects
        if read != conformed.data.num_rows + len(rejects):  # a bug, not a data problem: stop before committing
            raise RuntimeError(f"{self._name}: batch {version} does not reconcile ({read} read)")
        stamp = Stamp(self.app_id, version, self.result.load_id)
        self.quarantine.write(rejects, source=self.result.source, stream=self.result.stream, stamp=stamp)
        self._write(conformed.data, batch.cursor, version, overwrite=overwrite, refresh=refresh)
        self._notify_committed(batch)
        self._account(batch, read, conformed.data.num_rows, len(rejects), conformed.rescued_rows)

    def _notify_committed(self, batch: Batch) -> None:
        """Tell a stream that wants to know (acknowledgements, courtesy offsets) that `batch` is in bronze."""
        committed = getattr(self.stream, "committed", None)
        if committed is None:
            return
        try:
            committed(batch)
        except Exception as exc:  # the batch is committed; what the stream does after is its own business
            log.warning("load.committed_hook_failed", stream=self._name, error=self.context.redactor.describe(exc))

    def _prepare(self, data: pa.Table) -> tuple[pa.Table, list[Rejected]]:
        """Check the declared columns once, mark soft deletes, move out rows that break the declared schema."""
        if data.num_rows and not self._columns_checked:
            check_declared_columns(self.spec, data)
            self._columns_checked = True
        if self.spec.soft_delete_field:
            data = apply_soft_deletes(data, self.spec.soft_delete_field)
        return split_invalid(data, self.spec.primary_key, require_op=self.spec.mode == SyncMode.CDC)

    def _write(self, data: pa.Table, cursor: str | None, version: int, *, overwrite: bool, refresh: str | None) -> None:
        how = Write.OVERWRITE if overwrite else Write.APPEND
        # An empty batch (a file with no rows, a marker that a file is done) only moves the cursor: appended.
        if self.spec.mode in (SyncMode.MERGE, SyncMode.CDC) and data.num_rows:
            data = latest_per_key(data, self.spec.primary_key)
            if overwrite or not self._table_has(self.spec.primary_key):  # nothing to match: inserts only
                data = without_deletes(data)
            else:
                how = Write.MERGE
        self.target.commit(
            data,
            app_id=self.app_id,
            version=version,
            cursor=cursor,
            load_id=self.result.load_id,
            write=how,
            merge_keys=self.spec.primary_key,
            refresh=refresh,
            base=self._base if self.target is not self.table else None,
        )

    def _table_has(self, columns: list[str]) -> bool:
        schema = self.target.data_schema()
        return schema is not None and all(schema.get_field_index(c) >= 0 for c in columns)

    def _account(self, batch: Batch, read: int, loaded: int, quarantined: int, rescued: int) -> None:
        result = self.result
        result.rows_read += read
        result.rows += loaded
        result.rows_quarantined += quarantined
        result.rows_rescued += rescued
        result.bytes += batch.data.nbytes
        result.batches += 1
        result.cursor_after = batch.cursor
        result.seconds = time.monotonic() - self._started
        if self.context.on_batch is not None:
            self.context.on_batch(result)

    def _record(self) -> None:
        result = self.result
        event = {"success": "load.finished", "stopped": "load.stopped"}.get(result.status, "load.failed")
        log.info(
            event,
            stream=self._name,
            load_id=result.load_id,
            mode=result.mode,
            rows_read=result.rows_read,
            rows_loaded=result.rows,
            rows_quarantined=result.rows_quarantined,
            rows_rescued=result.rows_rescued,
            batches=result.batches,
            seconds=round(result.seconds, 3),
            error=result.error,
        )
        try:
            self.context.ledger.record(result.ledger_entry())
        except Exception as exc:  # the load's own outcome matters more than its ledger row
            log.error("ledger.write_failed", stream=self._name, error=self.context.redactor.describe(exc))


def _record_unstarted(
    ledger: Ledger, config: SourceConfig, streams: list[str], pipeline: str, error: LakehouseError, redactor: Redactor
) -> None:
    for name in streams:
        result = StreamResult(config.source, name, new_load_id(), config.stream(name).mode.value, pipeline=pipeline)
        result.status, result.error = "failed", redactor.describe(error)
        log.info("load.failed", stream=f"{config.source}.{name}", load_id=result.load_id, error=result.error)
        try:
            ledger.record(result.ledger_entry())
        except Exception as exc:
            log.error("ledger.write_failed", stream=f"{config.source}.{name}", error=redactor.describe(exc))


def _warn_about_locking_provider(root: LakehouseRoot) -> None:
    """delta-rs 1.x dropped the DynamoDB log store; the variable now only changes the S3 backend."""
    if root.scheme == "s3" and os.environ.get("AWS_S3_LOCKING_PROVIDER"):
        log.warning(
            "storage.locking_provider_ignored",
            detail="deltalake 1.x has no DynamoDB log store; commits rely on S3 conditional put "
            "(see loaders/README.md: Concurrency). Unset AWS_S3_LOCKING_PROVIDER.",
        )


def _not_last(batches: Iterator[Batch]) -> Iterator[tuple[Batch, bool]]:
    """Each batch, flagged as not the last, and let go of before the stream is asked for the next."""
    for batch in batches:
        yield batch, False
        del batch


def _with_last(batches: Iterator[Batch]) -> Iterator[tuple[Batch, bool]]:
    """Pair each batch with whether it is the stream's last: a full refresh marks that one `done`."""
    previous: Batch | None = None
    for batch in batches:
        if previous is not None:
            yield previous, False
        previous = batch
    if previous is not None:
        yield previous, True


def _as_table(data: pa.RecordBatch | pa.Table) -> pa.Table:
    return pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
