"""What one load of one stream did: the figures the progress bar shows, the ledger records and the
command line prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lakehouse.core.errors import LakehouseError
from loaders.core.ledger import LedgerEntry


@dataclass
class StreamResult:
    source: str
    stream: str
    load_id: str
    mode: str
    rows: int = 0  # rows loaded into bronze
    bytes: int = 0
    batches: int = 0
    seconds: float = 0.0
    cursor_before: str | None = None
    cursor_after: str | None = None
    status: str = "running"
    error: str | None = None
    pipeline: str = "default"
    rows_read: int = 0
    rows_quarantined: int = 0
    rows_rescued: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    exception: LakehouseError | None = field(default=None, repr=False)

    @property
    def rows_loaded(self) -> int:
        return self.rows

    def ledger_entry(self) -> LedgerEntry:
        finished = datetime.now(UTC)
        return LedgerEntry(
            load_id=self.load_id,
            pipeline=self.pipeline,
            source=self.source,
            stream=self.stream,
            mode=self.mode,
            status=self.status,
            rows_read=self.rows_read,
            rows_loaded=self.rows,
            rows_quarantined=self.rows_quarantined,
            rows_rescued=self.rows_rescued,
            bytes=self.bytes,
            batches=self.batches,
            started_at=self.started_at,
            finished_at=finished,
            duration_s=self.seconds,
            error=self.error,
            cursor_before=self.cursor_before,
            cursor_after=self.cursor_after,
        )


ProgressHook = Callable[[StreamResult], None]
