"""Quarantine: records a load could not take, kept with the reason and their raw payload.

One Delta table for the whole root, `<root>/bronze/_quarantine/`. A stream hands unparseable
records to the pipeline as `Rejected` items on a `BatchWithRejects`; the pipeline adds the rows that
violate the declared schema (primary key null, bad `_op`, a frozen schema) and writes them all here
before it commits the batch to bronze. Counts reconcile per batch: read = loaded + quarantined.

Quarantine writes are idempotent by content: every record gets a `record_id`, a hash of the stream's
application id, the record's origin (file and line, where the family knows it), its reason, its raw
payload and its occurrence among identical records of the batch; the write is a MERGE that inserts
only ids not yet present. A load killed between its quarantine and bronze commits, resumed with
another batch size (so its batches no longer line up with the killed one's), quarantines each record
exactly once.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable

from lakehouse.core.storage import LakehouseRoot
from loaders.core.batch import Batch
from loaders.core.delta import (
    COMMIT_RETRY,
    META_APP_ID,
    META_LOAD_ID,
    META_VERSION,
    Stamp,
    create_table,
    is_commit_conflict,
    open_table,
    read_table,
)
from loaders.core.retry import call_with_retry

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("record_id", pa.string()),
        pa.field("load_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_payload", pa.string()),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


@dataclass(frozen=True)
class Rejected:
    reason: str
    raw_payload: str
    origin: str = ""  # where in the source, when the family knows (`file:line`); part of the record's id


@dataclass(frozen=True)
class BatchWithRejects(Batch):
    """A batch plus the records of the same stretch of the source that could not be parsed.

    The batch's cursor covers both: once it is committed, neither is read again.
    """

    rejects: tuple[Rejected, ...] = ()


def record_ids(app_id: str, rejects: Sequence[Rejected]) -> list[str]:
    """Content ids: the same record gets the same id in any batch, identical records distinct ids."""
    seen: dict[tuple[str, str, str], int] = {}
    ids = []
    for reject in rejects:
        content = (reject.origin, reject.reason, reject.raw_payload)
        occurrence = seen[content] = seen.get(content, -1) + 1
        text = json.dumps([app_id, *content, occurrence], ensure_ascii=False)
        ids.append(hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
    return ids


def rejects_of(batch: Batch) -> tuple[Rejected, ...]:
    return batch.rejects if isinstance(batch, BatchWithRejects) else ()


def row_payload(row: dict[str, Any]) -> str:
    """A row as JSON text, for the raw payload of a row rejected after parsing."""
    return json.dumps(row, default=json_default, ensure_ascii=False)


def json_default(value: Any) -> Any:
    """JSON for the Python values Arrow hands out; the original value stays recognisable."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    return str(value)


class Quarantine:
    def __init__(self, root: LakehouseRoot) -> None:
        self.uri = f"{root.uri}/bronze/_quarantine"
        self._options = root.storage_options()
        self._table: DeltaTable | None = None

    def write(self, rejects: Sequence[Rejected], *, source: str, stream: str, stamp: Stamp) -> int:
        """Quarantine `rejects`, each once whatever batch carries it; returns how many were new."""
        if not rejects:
            return 0
        now = datetime.now(UTC)
        rows = pa.table(
            {
                "record_id": record_ids(stamp.app_id, rejects),
                "load_id": [stamp.load_id] * len(rejects),
                "source": [source] * len(rejects),
                "stream": [stream] * len(rejects),
                "reason": [r.reason for r in rejects],
                "raw_payload": [r.raw_payload for r in rejects],
                "quarantined_at": [now] * len(rejects),
            },
            schema=QUARANTINE_SCHEMA,
        )
        # Custom metadata only: no application transaction, whose version would tie the records to a batch.
        custom = {META_APP_ID: stamp.app_id, META_VERSION: str(stamp.version), META_LOAD_ID: stamp.load_id}
        properties = CommitProperties(custom_metadata=custom, max_commit_retries=0)

        def insert_new() -> int:
            metrics = (
                self._latest()
                .merge(
                    rows,
                    "t.record_id = s.record_id AND t.source = s.source AND t.stream = s.stream",
                    source_alias="s",
                    target_alias="t",
                    merge_schema=True,
                    commit_properties=properties,
                )
                .when_not_matched_insert_all()
                .execute()
            )
            return int(metrics.get("num_target_rows_inserted", 0))

        return call_with_retry(insert_new, policy=COMMIT_RETRY, retry_on=is_commit_conflict)

    def _latest(self) -> DeltaTable:
        if self._table is None:
            self._table = open_table(self.uri, self._options) or create_table(
                self.uri, self._options, QUARANTINE_SCHEMA
            )
        else:
            self._table.update_incremental()
        return self._table

    def read(self) -> pa.Table:
        if open_table(self.uri, self._options) is None:
            return QUARANTINE_SCHEMA.empty_table()
        return read_table(self.uri, self._options)
